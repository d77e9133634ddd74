/**
 * HTTP/1.x framing, methods, versions and Host over raw sockets (issue 10 items 11-14):
 * the same answer on the cold path (a file not yet looked at, answered after
 * awaiting the disk) as on the hot one (a file already cached, answered in the same
 * tick the head arrives, before the parser has read the body). Every row runs four
 * times per version: for a file and for a missing path (a cached 404), each cold and
 * hot, on fresh connections. Hostile rows send no `Connection: close`: the server
 * must close by itself.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunningServer } from "../../src/server/serve.js";
import { parseResponses, rawExchange } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";

let base = "";
let server: RunningServer;

/** How many distinct files the rows use: one per row, version, target and path. */
const FILES = 400;

before(async () => {
  base = mkdtempSync(join(tmpdir(), "wharf-protocol-"));
  for (let i = 0; i < FILES; i++) writeFileSync(join(base, `f${i}.txt`), "123456789");
  // revalidateMs: a hot request must stay on the synchronous path however slow the machine.
  server = await startServer({ root: base, revalidateMs: 600_000 });
});
after(async () => {
  await server.close();
  rmSync(base, { recursive: true, force: true });
});

type Version = "1.1" | "1.0";
type Target = "file" | "missing";
/** `found`: 200 for the file, 404 for the missing path: the request is fine. */
type Want = number | "found";

interface Row {
  readonly name: string;
  /** The request for `target` in `version` (its request line and head). */
  readonly bytes: (target: string, version: Version) => string;
  readonly want: Want;
  /** Only for these versions (default both). */
  readonly versions?: readonly Version[];
  /** Only for these targets (default both). */
  readonly targets?: readonly Target[];
  /** Extra checks on the response. */
  readonly check?: (headers: Record<string, string>) => void;
}

const head = (method: string, target: string, version: string, fields = "Host: x\r\n") =>
  `${method} ${target} HTTP/${version}\r\n${fields}`;

// RFC 9112 §6.1, §6.3: bad framing is 400 and the connection closed.
const framing: Row[] = [
  { name: "Transfer-Encoding: xchunked", bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: xchunked\r\n\r\n`, want: 400 },
  { name: "Transfer-Encoding: identity", bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: identity\r\n\r\n`, want: 400 },
  {
    name: "Transfer-Encoding: chunked, gzip (chunked not final)",
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`,
    want: 400,
  },
  {
    name: "Transfer-Encoding: chunked, chunked",
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`,
    want: 400,
  },
  {
    name: "chunked body with a bad chunk size",
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    want: 400,
  },
  {
    name: "chunked body with a NUL in a trailer",
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: a\0b\r\n\r\n`,
    want: 400,
  },
  {
    name: "Transfer-Encoding with Content-Length",
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
    want: 400,
  },
  // §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  {
    name: "HTTP/1.0 with a valid chunked body",
    versions: ["1.0"],
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    want: 400,
  },
  // §6.1: a transfer coding the server does not understand SHOULD be 501.
  {
    name: "Transfer-Encoding: foo, chunked (unknown coding)",
    versions: ["1.1"],
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n`,
    want: 501,
  },
  { name: "Content-Length over 1 MiB", bytes: (t, v) => `${head("GET", t, v)}Content-Length: 2000000\r\n\r\n`, want: 413 },
  {
    name: "chunked body over 1 MiB",
    versions: ["1.1"],
    bytes: (t, v) => `${head("GET", t, v)}Transfer-Encoding: chunked\r\n\r\n${`100000\r\n${"x".repeat(0x100000)}\r\n`}1\r\nx\r\n0\r\n\r\n`,
    want: 413,
  },
  // Well-framed bodies are read, discarded, and the request answered.
  {
    name: "a valid chunked body with a trailer",
    versions: ["1.1"],
    bytes: (t, v) => `${head("GET", t, v)}Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: ok\r\n\r\n`,
    want: "found",
  },
  {
    name: "Transfer-Encoding: gzip, chunked",
    versions: ["1.1"],
    bytes: (t, v) => `${head("GET", t, v)}Connection: close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    want: "found",
  },
  {
    name: "a Content-Length body",
    bytes: (t, v) => `${head("GET", t, v)}Connection: close\r\nContent-Length: 5\r\n\r\nabcde`,
    want: "found",
  },
];

// RFC 9110 §9.1: an unknown method token is 501; a known one not allowed is 405 with Allow.
const methods: Row[] = [
  { name: "unknown method FOO", bytes: (t, v) => `${head("FOO", t, v)}\r\n`, want: 501 },
  { name: "unknown method GETs", bytes: (t, v) => `${head("GETs", t, v)}\r\n`, want: 501 },
  { name: "lower-case get (methods are case-sensitive)", bytes: (t, v) => `${head("get", t, v)}\r\n`, want: 501 },
  { name: "a method that is not a token", bytes: (t, v) => `${head("G(T", t, v)}\r\n`, want: 400 },
  {
    name: "POST: 405 with Allow",
    bytes: (t, v) => `${head("POST", t, v)}Content-Length: 0\r\nConnection: close\r\n\r\n`,
    want: 405,
    check: (h) => assert.equal(h["allow"], "GET, HEAD, OPTIONS"),
  },
  {
    name: "PROPFIND: 405 with Allow",
    bytes: (t, v) => `${head("PROPFIND", t, v)}Connection: close\r\n\r\n`,
    want: 405,
    check: (h) => assert.equal(h["allow"], "GET, HEAD, OPTIONS"),
  },
];

// RFC 9110 §15.6.6, RFC 9112 §2.3, §3.2.
const versions: Row[] = [
  { name: "HTTP/9.9", bytes: (t) => `${head("GET", t, "9.9")}\r\n`, want: 505 },
  { name: "HTTP/2.0 in an HTTP/1.x request line", bytes: (t) => `${head("GET", t, "2.0")}\r\n`, want: 505 },
  { name: "HTTP/3.0", bytes: (t) => `${head("GET", t, "3.0")}\r\n`, want: 505 },
  { name: "HTTP/1.x (malformed version)", bytes: (t) => `${head("GET", t, "1.x")}\r\n`, want: 400 },
  { name: "no version in the request line", bytes: (t) => `GET ${t}\r\nHost: x\r\n\r\n`, want: 400 },
  { name: "two Host lines", bytes: (t, v) => `${head("GET", t, v, "Host: a\r\nHost: b\r\n")}\r\n`, want: 400 },
  { name: "two Host lines with the same value", bytes: (t, v) => `${head("GET", t, v, "Host: a\r\nhost: a\r\n")}\r\n`, want: 400 },
  { name: "no Host in HTTP/1.1", versions: ["1.1"], bytes: (t, v) => `${head("GET", t, v, "")}\r\n`, want: 400 },
  { name: "no Host in HTTP/1.0 is fine", versions: ["1.0"], bytes: (t, v) => `${head("GET", t, v, "")}\r\n`, want: "found" },
  {
    name: "an empty Host is fine",
    versions: ["1.1"],
    bytes: (t, v) => `${head("GET", t, v, "Host:\r\n")}Connection: close\r\n\r\n`,
    want: "found",
  },
];

// RFC 9110 §14.1.1, §15.5.17: a first-pos past the end, however many digits.
const ranges: Row[] = [
  {
    name: "Range: bytes=99999999999999999999-",
    targets: ["file"],
    bytes: (t, v) => `${head("GET", t, v)}Connection: close\r\nRange: bytes=99999999999999999999-\r\n\r\n`,
    want: 416,
    check: (h) => assert.equal(h["content-range"], "bytes */9"),
  },
];

let next = 0;

/** Runs `row` cold and hot, for a file and a missing path, in each of its versions. */
function runRow(row: Row): void {
  for (const version of row.versions ?? (["1.1", "1.0"] as const)) {
    for (const target of row.targets ?? (["file", "missing"] as const)) {
      for (const path of ["cold", "hot"] as const) {
        test(`${row.name} (HTTP/${version}, ${target}, ${path})`, async () => {
          const n = next++;
          assert.ok(n < FILES, "more cases than fixture files");
          const url = target === "file" ? `/f${n}.txt` : `/missing-${n}.txt`;
          if (path === "hot") {
            const warm = parseResponses(await rawExchange(server.port, `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
            assert.equal(warm[0]?.status, target === "file" ? 200 : 404, "warming request");
          }
          const want = row.want === "found" ? (target === "file" ? 200 : 404) : row.want;
          const request = row.bytes(url, version);
          // rawExchange resolves only when the server closes the connection.
          const data = await rawExchange(server.port, request, "127.0.0.1", 3000);
          const responses = parseResponses(data);
          const where = `${JSON.stringify(request.slice(0, 120))}: got ${JSON.stringify(data.toString("latin1").slice(0, 200))}`;
          assert.equal(responses.length, 1, `one response to ${where}`);
          const [response] = responses;
          assert.equal(response!.status, want, `status, want ${want}, for ${where}`);
          if (typeof row.want === "number" && row.want >= 400 && row.want !== 405 && row.want !== 416) {
            assert.equal(response!.headers["connection"], "close", `Connection: close for ${where}`);
          }
          if (want === 200) assert.equal(response!.body.toString(), "123456789");
          row.check?.(response!.headers);
        });
      }
    }
  }
}

describe("framing (RFC 9112 §6): the same answer cold and hot, and the connection closed", () => framing.forEach(runRow));
describe("methods (RFC 9110 §9.1): 501 for an unknown token, 405 with Allow for a known one", () => methods.forEach(runRow));
describe("versions and Host (RFC 9110 §15.6.6, RFC 9112 §3.2)", () => versions.forEach(runRow));
describe("ranges (RFC 9110 §14.1.1): a huge first-pos is 416", () => ranges.forEach(runRow));

describe("a keep-alive connection after a request with a body", () => {
  test("a chunked GET, then a pipelined GET on the same connection: both answered in order", async () => {
    const bytes =
      "GET /f0.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
      "GET /missing-0.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const responses = parseResponses(await rawExchange(server.port, bytes));
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 404],
    );
    assert.equal(responses[0]!.body.toString(), "123456789");
  });
});
