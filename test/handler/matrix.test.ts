/**
 * The same behaviour over HTTP/1.1, HTTPS/1.1 and HTTP/2: every row runs over all
 * three against `serve()`, GET and HEAD alike, and HEAD must carry exactly GET's
 * status and headers with no body (RFC 9110 §9.3.2). The raw-socket tests in
 * serve.test.ts keep what only HTTP/1.1 framing can show.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { type RunningServer, serve } from "../../src/server/serve.js";
import { createFixture, type Fixture } from "../helpers/fixture.js";
import { type Answer, closeClients, PROTOCOLS, type Protocol, request, type Target } from "../helpers/request.js";
import { opensslCertificate, type TestCertificate } from "../helpers/tls.js";

const tagOf = (content: string | Buffer): string =>
  `"${createHash("sha256").update(content).digest().subarray(0, 16).toString("base64url")}"`;
const NUMS = tagOf("123456789");
const LAST_MODIFIED = "Fri, 02 Jan 2026 03:04:05 GMT";
const TEXT = "text/plain; charset=utf-8";
const DIGITS = Array.from({ length: 1000 }, (_, i) => String(i % 10)).join("");
const SCRIPT = Array.from({ length: 1000 }, (_, i) => `export const v${i} = ${i};\n`).join("");
const BIG = Buffer.alloc(3 * 1024 * 1024, "wharf "); // above the in-memory limit: streamed from disk

let fixture: Fixture;
let certDir: string;
let cert: TestCertificate;
let plain: RunningServer;
let secure: RunningServer;
const targets = new Map<Protocol, Target>();

before(async () => {
  fixture = createFixture();
  writeFileSync(join(fixture.root, "digits.txt"), DIGITS);
  writeFileSync(join(fixture.root, "script.js"), SCRIPT);
  writeFileSync(join(fixture.root, "big.bin"), BIG);
  certDir = mkdtempSync(join(tmpdir(), "wharf-matrix-cert-"));
  cert = opensslCertificate(certDir, "matrix");
  const common = { root: fixture.root, port: 0, host: "127.0.0.1", log: false } as const;
  plain = await serve(common);
  secure = await serve({ ...common, tls: { cert: cert.cert, key: cert.key } });
  targets.set("http/1.1", { protocol: "http/1.1", port: plain.port });
  targets.set("https/1.1", { protocol: "https/1.1", port: secure.port, ca: cert.cert });
  targets.set("h2", { protocol: "h2", port: secure.port, ca: cert.cert });
});
after(async () => {
  closeClients();
  await Promise.all([plain.close(), secure.close()]);
  fixture.remove();
  rmSync(certDir, { recursive: true, force: true });
});

interface Row {
  readonly name: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  /** Exact values; `null`: the header must be absent. */
  readonly want?: Record<string, string | null>;
  readonly body?: string | ((body: Buffer, answer: Answer) => void);
}

const rows: Row[] = [
  {
    name: "a file with every validator",
    path: "/nums.txt",
    status: 200,
    want: { "content-type": TEXT, "content-length": "9", etag: NUMS, "last-modified": LAST_MODIFIED, "accept-ranges": "bytes" },
    body: "123456789",
  },
  { name: "an empty file", path: "/empty.txt", status: 200, want: { "content-length": "0" }, body: "" },
  // RFC 9110 §14: ranges
  {
    name: "range first byte",
    path: "/nums.txt",
    headers: { range: "bytes=0-0" },
    status: 206,
    want: { "content-range": "bytes 0-0/9", "content-length": "1" },
    body: "1",
  },
  {
    name: "range suffix",
    path: "/nums.txt",
    headers: { range: "bytes=-3" },
    status: 206,
    want: { "content-range": "bytes 6-8/9" },
    body: "789",
  },
  { name: "range open-ended", path: "/nums.txt", headers: { range: "bytes=4-" }, status: 206, body: "56789" },
  { name: "range unsatisfiable", path: "/nums.txt", headers: { range: "bytes=9-" }, status: 416, want: { "content-range": "bytes */9" } },
  {
    name: "several ranges: multipart/byteranges",
    path: "/digits.txt",
    headers: { range: "bytes=0-9,500-504" },
    status: 206,
    body: (body, answer) => {
      const b = /^multipart\/byteranges; boundary=(\S+)$/.exec(answer.headers["content-type"] ?? "")?.[1];
      assert.ok(b, `content-type: ${answer.headers["content-type"]}`);
      assert.equal(
        body.toString(),
        `--${b}\r\nContent-Type: ${TEXT}\r\nContent-Range: bytes 0-9/1000\r\n\r\n0123456789` +
          `\r\n--${b}\r\nContent-Type: ${TEXT}\r\nContent-Range: bytes 500-504/1000\r\n\r\n01234\r\n--${b}--\r\n`,
      );
      assert.equal(answer.headers["content-length"], String(body.length));
    },
  },
  { name: "If-Range with the current ETag", path: "/nums.txt", headers: { range: "bytes=0-1", "if-range": NUMS }, status: 206, body: "12" },
  {
    name: "If-Range with another ETag",
    path: "/nums.txt",
    headers: { range: "bytes=0-1", "if-range": '"other"' },
    status: 200,
    body: "123456789",
  },
  // RFC 9110 §13.2.2: preconditions, in order
  {
    name: "If-None-Match equal: 304",
    path: "/nums.txt",
    headers: { "if-none-match": NUMS },
    status: 304,
    want: { etag: NUMS, "content-length": null },
    body: "",
  },
  { name: "If-Modified-Since equal: 304", path: "/nums.txt", headers: { "if-modified-since": LAST_MODIFIED }, status: 304 },
  { name: "If-Match other: 412", path: "/nums.txt", headers: { "if-match": '"other"' }, status: 412 },
  {
    name: "If-Unmodified-Since earlier: 412",
    path: "/nums.txt",
    headers: { "if-unmodified-since": "Thu, 01 Jan 2026 00:00:00 GMT" },
    status: 412,
  },
  { name: "If-Match before If-None-Match", path: "/nums.txt", headers: { "if-match": '"other"', "if-none-match": NUMS }, status: 412 },
  // Directories and redirects
  { name: "directory without slash redirects, keeping the query", path: "/site?x=1", status: 301, want: { location: "/site/?x=1" } },
  { name: "redirect is never protocol-relative", path: "//site", status: 301, want: { location: "/site/" } },
  {
    name: "index.html",
    path: "/site/",
    status: 200,
    want: { "content-type": "text/html; charset=utf-8" },
    body: "<!doctype html><title>site</title>",
  },
  {
    name: "listing",
    path: "/index-less/",
    status: 200,
    want: { "content-type": "text/html; charset=utf-8" },
    body: (body) => assert.match(body.toString(), /href="\.\/sub\/"[\s\S]*href="\.\/a\.txt"/, "directories first, then files"),
  },
  // Errors
  { name: "missing: 404", path: "/nope.txt", status: 404 },
  { name: "dotfile hidden: 404", path: "/.env", status: 404 },
  { name: "symlink leaving the root: 404", path: "/escape.txt", status: 404 },
  { name: "bad encoding: 400", path: "/%zz", status: 400 },
  { name: "encoded NUL: 400", path: "/a%00b", status: 400 },
  // Bodies from disk (streamed) and compressed ones
  {
    name: "a large file streamed from disk",
    path: "/big.bin",
    status: 200,
    want: { "content-length": String(BIG.length) },
    body: (body) => assert.ok(body.equals(BIG), `got ${body.length} bytes`),
  },
  {
    name: "a range of a large file",
    path: "/big.bin",
    headers: { range: "bytes=1048576-1048581" },
    status: 206,
    body: BIG.subarray(1048576, 1048582).toString(),
  },
  {
    name: "gzip when asked for",
    path: "/script.js",
    headers: { "accept-encoding": "gzip" },
    status: 200,
    want: { "content-encoding": "gzip" },
    body: (body, answer) => {
      assert.match(answer.headers["vary"] ?? "", /accept-encoding/i);
      assert.equal(gunzipSync(body).toString(), SCRIPT);
    },
  },
];

const methodRows = [
  { name: "POST: 405 with Allow", method: "POST", path: "/nums.txt", status: 405, allow: "GET, HEAD, OPTIONS" },
  { name: "DELETE: 405 with Allow", method: "DELETE", path: "/nums.txt", status: 405, allow: "GET, HEAD, OPTIONS" },
  { name: "OPTIONS: 204 with Allow", method: "OPTIONS", path: "/nums.txt", status: 204, allow: "GET, HEAD, OPTIONS" },
];

for (const protocol of PROTOCOLS) {
  describe(`over ${protocol}`, () => {
    const target = (): Target => targets.get(protocol)!;
    test("speaks the protocol it is asked for", async () => {
      const a = await request(target(), "GET", "/nums.txt");
      assert.equal(a.httpVersion, protocol === "h2" ? "2.0" : "1.1");
      // RFC 9113 §8.2.2: no connection-specific fields in HTTP/2.
      if (protocol === "h2")
        for (const name of ["connection", "keep-alive", "transfer-encoding"]) assert.equal(a.headers[name], undefined, name);
    });
    for (const row of rows) {
      test(row.name, async () => {
        const get = await request(target(), "GET", row.path, row.headers);
        const head = await request(target(), "HEAD", row.path, row.headers);
        const input = `${protocol} ${row.path} ${JSON.stringify(row.headers ?? {})}`;
        assert.equal(get.status, row.status, `GET ${input}: got ${get.status}, want ${row.status}`);
        for (const [name, value] of Object.entries(row.want ?? {})) {
          assert.equal(get.headers[name] ?? null, value, `GET ${input}: header ${name}: got ${get.headers[name]}, want ${value}`);
        }
        if (typeof row.body === "string") assert.equal(get.body.toString(), row.body, `GET ${input}: body`);
        else row.body?.(get.body, get);
        const { date: _g, ...getHeaders } = get.headers;
        const { date: _h, ...headHeaders } = head.headers;
        // Node's HTTP/1.1 says how the connection goes on; HTTP/2 has no such fields.
        for (const h of [getHeaders, headHeaders]) {
          delete h["connection"];
          delete h["keep-alive"];
          // Each multipart answer has a boundary of its own.
          if (h["content-type"]?.startsWith("multipart/")) h["content-type"] = "multipart/byteranges";
        }
        assert.equal(head.status, get.status, `HEAD ${input}: status`);
        assert.deepEqual(headHeaders, getHeaders, `HEAD ${input}: headers differ from GET`);
        assert.equal(head.body.length, 0, `HEAD ${input}: a body`);
      });
    }
    for (const row of methodRows) {
      test(row.name, async () => {
        const a = await request(target(), row.method, row.path);
        assert.equal(a.status, row.status, `${protocol} ${row.method} ${row.path}: got ${a.status}`);
        assert.equal(a.headers["allow"], row.allow);
      });
    }
  });
}
