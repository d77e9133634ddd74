/**
 * The streaming multipart/form-data parser (src/http/form-data.ts) and the
 * RFC 9530 digest fields (src/http/digest.ts): pure, no socket. Every body is
 * also fed split at every byte, so no delimiter, CRLF or header can be missed
 * across a chunk boundary.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { digestFields } from "../../src/http/digest.js";
import { FORM_LIMITS, FormDataError, type FormEvent, formBoundary, formEvents } from "../../src/http/form-data.js";

const B = "----WebKitFormBoundaryAbC123";

async function* chunks(body: Buffer, splits: readonly number[]): AsyncIterable<Uint8Array> {
  let at = 0;
  for (const s of [...splits, body.length]) {
    yield body.subarray(at, s);
    at = s;
  }
}

/** The parts as { name, filename, data }. */
async function parse(body: Buffer, splits: readonly number[] = [], limits = FORM_LIMITS) {
  const parts: { name?: string | undefined; filename?: string | undefined; data: string }[] = [];
  for await (const e of formEvents(chunks(body, splits), B, limits) as AsyncIterable<FormEvent>) {
    if (e.kind === "part") parts.push({ name: e.name, filename: e.filename, data: "" });
    else if (e.kind === "data") parts.at(-1)!.data += Buffer.from(e.bytes).toString("latin1");
  }
  return parts;
}

const part = (disposition: string, data: string, type = ""): string =>
  `--${B}\r\nContent-Disposition: form-data; ${disposition}\r\n${type === "" ? "" : `Content-Type: ${type}\r\n`}\r\n${data}\r\n`;
const body = (...parts: string[]): Buffer => Buffer.from(`${parts.join("")}--${B}--\r\n`, "latin1");

const ROWS: { name: string; body: Buffer; want: { name?: string | undefined; filename?: string | undefined; data: string }[] }[] = [
  {
    name: "one file",
    body: body(part('name="file"; filename="a.txt"', "123456789", "text/plain")),
    want: [{ name: "file", filename: "a.txt", data: "123456789" }],
  },
  {
    name: "a field and two files, one empty",
    body: body(part('name="note"', "hi"), part('name="file"; filename="a.bin"', "\r\n--\r\n-"), part('name="file"; filename="e"', "")),
    want: [
      { name: "note", filename: undefined, data: "hi" },
      { name: "file", filename: "a.bin", data: "\r\n--\r\n-" },
      { name: "file", filename: "e", data: "" },
    ],
  },
  {
    name: "data that almost holds the delimiter",
    body: body(part('name="f"; filename="x"', `\r\n--${B.slice(0, -1)}X\r\n--${B.slice(0, 5)}`)),
    want: [{ name: "f", filename: "x", data: `\r\n--${B.slice(0, -1)}X\r\n--${B.slice(0, 5)}` }],
  },
  {
    name: "a preamble and an epilogue are ignored",
    body: Buffer.from(`preamble\r\n${part('name="f"; filename="p"', "1")}--${B}--\r\nepilogue`, "latin1"),
    want: [{ name: "f", filename: "p", data: "1" }],
  },
  {
    name: "browsers' %22 and curl's backslash in a file name",
    body: body(part('name="f"; filename="a%22b.txt"', "1"), part('name="f"; filename="c\\"d.txt"', "2")),
    want: [
      { name: "f", filename: 'a"b.txt', data: "1" },
      { name: "f", filename: 'c"d.txt', data: "2" },
    ],
  },
  {
    name: "a UTF-8 file name",
    body: Buffer.concat([
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"; filename="`),
      Buffer.from("été.txt"),
      Buffer.from(`"\r\n\r\nx\r\n--${B}--`),
    ]),
    want: [{ name: "f", filename: "été.txt", data: "x" }],
  },
];

describe("formEvents", () => {
  for (const row of ROWS) {
    test(`${row.name}: whole, and split at every byte`, async () => {
      assert.deepEqual(await parse(row.body), row.want, "whole");
      for (let i = 1; i < row.body.length; i++) assert.deepEqual(await parse(row.body, [i]), row.want, `split at ${i}`);
      // One byte at a time.
      const all = Array.from({ length: row.body.length - 1 }, (_, i) => i + 1);
      assert.deepEqual(await parse(row.body, all), row.want, "byte by byte");
    });
  }

  const BAD: { name: string; body: Buffer; message: RegExp }[] = [
    { name: "no close delimiter", body: Buffer.from(part('name="f"; filename="a"', "123")), message: /ended before/ },
    { name: "nothing at all", body: Buffer.alloc(0), message: /ended before/ },
    {
      name: "a part without Content-Disposition",
      body: body(`--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n`),
      message: /Content-Disposition/,
    },
    { name: "a part with no header", body: body(`--${B}\r\n\r\nx\r\n`), message: /Content-Disposition/ },
    { name: "garbage after a delimiter", body: Buffer.from(`--${B}xx\r\n`), message: /no CRLF/ },
    {
      name: "a header block past the limit",
      body: body(part(`name="f"; filename="${"a".repeat(9000)}"`, "x")),
      message: /too large/,
    },
  ];
  for (const row of BAD) {
    test(`refused: ${row.name}`, async () => {
      await assert.rejects(parse(row.body), (e: unknown) => e instanceof FormDataError && row.message.test(e.message));
    });
  }

  test("refused: more parts than the limit", async () => {
    const many = body(...Array.from({ length: 4 }, () => part('name="a"', "")));
    await assert.rejects(parse(many, [], { maxHeaderBytes: 1024, maxParts: 3 }), /more than 3 parts/);
  });

  test("memory stays bounded: a 4 MiB part is given out as it comes, never held", async () => {
    const size = 4 * 1024 * 1024;
    async function* big(): AsyncIterable<Uint8Array> {
      yield Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n`);
      for (let i = 0; i < size / 65536; i++) yield Buffer.alloc(65536, 0x61);
      yield Buffer.from(`\r\n--${B}--\r\n`);
    }
    let total = 0;
    let largest = 0;
    for await (const e of formEvents(big(), B)) {
      if (e.kind !== "data") continue;
      total += e.bytes.length;
      largest = Math.max(largest, e.bytes.length);
    }
    assert.equal(total, size);
    // At most one chunk plus what may be the start of a delimiter.
    assert.ok(largest <= 65536 + B.length + 4, `largest piece ${largest}`);
  });
});

describe("formBoundary", () => {
  const ROWS: [string | undefined, string | undefined][] = [
    [`multipart/form-data; boundary=${B}`, B],
    [`Multipart/Form-Data;boundary="a b"`, "a b"],
    ["multipart/form-data; charset=utf-8; boundary=x", "x"],
    ["multipart/form-data", undefined],
    ["multipart/mixed; boundary=x", undefined],
    ["application/octet-stream", undefined],
    [`multipart/form-data; boundary=${"x".repeat(71)}`, undefined],
    ['multipart/form-data; boundary="a "', undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of ROWS) test(`${input}`, () => assert.equal(formBoundary(input), want));
});

describe("digestFields (RFC 9530)", () => {
  const sha256 = createHash("sha256").update("123456789").digest();
  const sha512 = createHash("sha512").update("123456789").digest();
  const b64 = (b: Buffer): string => b.toString("base64");
  test("none", () => assert.deepEqual(digestFields(undefined, undefined), { kind: "none" }));
  test("sha-256 in Content-Digest", () => {
    const got = digestFields(`sha-256=:${b64(sha256)}:`, undefined);
    assert.equal(got.kind, "check");
    assert.deepEqual(got.kind === "check" && Buffer.from(got.expected.get("sha-256")!), sha256);
  });
  test("sha-512 in Repr-Digest, and an unknown algorithm ignored", () => {
    const got = digestFields(undefined, `unixsum=:AAAA:, sha-512=:${b64(sha512)}:`);
    assert.ok(got.kind === "check" && got.expected.size === 1 && Buffer.from(got.expected.get("sha-512")!).equals(sha512));
  });
  test("only unknown algorithms: nothing to check", () => assert.deepEqual(digestFields("md5=:AAAA:", undefined), { kind: "none" }));
  const BAD: [string, string | undefined, string | undefined][] = [
    ["not base64", "sha-256=:***:", undefined],
    ["the wrong length", "sha-256=:AAAA:", undefined],
    ["not a byte sequence", `sha-256=${b64(sha256)}`, undefined],
    ["the two fields disagree", `sha-256=:${b64(sha256)}:`, `sha-256=:${b64(Buffer.alloc(32))}:`],
  ];
  for (const [name, content, repr] of BAD) {
    test(`malformed: ${name}`, () => assert.equal(digestFields(content, repr).kind, "malformed"));
  }
});
