/** The status for a parser error, and the checks on a parsed head: pure tables (issue 10 items 11-13). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { clientErrorStatus } from "../../src/server/client-error.js";
import { checkRequestHead, type RequestHead } from "../../src/server/request-head.js";

describe("clientErrorStatus", () => {
  // bytesParsed as Node 20, 22 and 24 report it (checked by hand on each).
  const rows: { name: string; code: string; raw?: string; at?: number; want: number }[] = [
    { name: "header overflow", code: "HPE_HEADER_OVERFLOW", want: 431 },
    { name: "request timeout", code: "ERR_HTTP_REQUEST_TIMEOUT", want: 408 },
    { name: "chunk extensions overflow", code: "HPE_CHUNK_EXTENSIONS_OVERFLOW", want: 413 },
    { name: "bad chunk size", code: "HPE_INVALID_CHUNK_SIZE", want: 400 },
    { name: "bad transfer-encoding", code: "HPE_INVALID_TRANSFER_ENCODING", want: 400 },
    { name: "unknown method FOO", code: "HPE_INVALID_METHOD", raw: "FOO / HTTP/1.1\r\nHost: a\r\n\r\n", at: 1, want: 501 },
    { name: "a lone token is no request line", code: "HPE_INVALID_METHOD", raw: "GARBAGE\r\n\r\n", at: 1, want: 400 },
    { name: "a token and nothing after the space", code: "HPE_INVALID_METHOD", raw: "FOO \r\n\r\n", at: 1, want: 400 },
    { name: "unknown method GETs", code: "HPE_INVALID_METHOD", raw: "GETs / HTTP/1.1\r\n\r\n", at: 3, want: 501 },
    {
      name: "unknown method in a pipelined request",
      code: "HPE_INVALID_METHOD",
      raw: "GET / HTTP/1.1\r\nHost: a\r\n\r\nPATCHY / HTTP/1.1\r\n\r\n",
      at: 32,
      want: 501,
    },
    { name: "a method that is not a token", code: "HPE_INVALID_METHOD", raw: "G(T / HTTP/1.1\r\n\r\n", at: 1, want: 400 },
    { name: "a TLS handshake on the plain port", code: "HPE_INVALID_METHOD", raw: "\x16\x03\x01\x00", at: 0, want: 400 },
    { name: "method error without the packet", code: "HPE_INVALID_METHOD", want: 400 },
    { name: "HTTP/9.9", code: "HPE_INVALID_VERSION", raw: "GET / HTTP/9.9\r\nHost: a\r\n\r\n", at: 14, want: 505 },
    {
      name: "HTTP/3.0 pipelined",
      code: "HPE_INVALID_VERSION",
      raw: "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/3.0\r\n\r\n",
      at: 41,
      want: 505,
    },
    { name: "HTTP/1.x is malformed", code: "HPE_INVALID_VERSION", raw: "GET / HTTP/1.x\r\n\r\n", at: 13, want: 400 },
    { name: "HTTP/12.1 is malformed", code: "HPE_INVALID_VERSION", raw: "GET / HTTP/12.1\r\n\r\n", at: 12, want: 400 },
    { name: "version error without the packet", code: "HPE_INVALID_VERSION", want: 400 },
    { name: "a bytesParsed past the packet", code: "HPE_INVALID_VERSION", raw: "GET / HTTP/9.9", at: 99, want: 505 },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = clientErrorStatus(row.code, row.raw === undefined ? undefined : Buffer.from(row.raw, "latin1"), row.at);
      assert.equal(got, row.want, `clientErrorStatus(${row.code}, ${JSON.stringify(row.raw)}, ${row.at}): got ${got}, want ${row.want}`);
    });
  }
});

describe("checkRequestHead", () => {
  const h = (major: number, minor: number, raw: string[], te?: string, cl?: string): RequestHead => ({
    httpVersionMajor: major,
    httpVersionMinor: minor,
    rawHeaders: raw,
    headers: { ...(te === undefined ? {} : { "transfer-encoding": te }), ...(cl === undefined ? {} : { "content-length": cl }) },
  });
  const HOST = ["Host", "x"];
  const rows: { name: string; head: RequestHead; want: string }[] = [
    { name: "plain GET", head: h(1, 1, HOST), want: "accept none" },
    { name: "HTTP/1.0 without Host", head: h(1, 0, []), want: "accept none" },
    { name: "HTTP/1.1 without Host", head: h(1, 1, []), want: "refuse 400" },
    { name: "two Host lines", head: h(1, 1, ["Host", "a", "HOST", "a"]), want: "refuse 400" },
    { name: "HTTP/2.0 request line", head: h(2, 0, HOST), want: "refuse 505" },
    { name: "no version (Node says 0.9)", head: h(0, 9, HOST), want: "refuse 400" },
    { name: "chunked", head: h(1, 1, HOST, "chunked"), want: "accept chunked" },
    { name: "Chunked, with OWS and an empty element", head: h(1, 1, HOST, " , gzip ,Chunked "), want: "accept chunked" },
    { name: "chunked with a parameter", head: h(1, 1, HOST, "chunked;x=1"), want: "accept chunked" },
    { name: "identity", head: h(1, 1, HOST, "identity"), want: "refuse 400" },
    { name: "xchunked", head: h(1, 1, HOST, "xchunked"), want: "refuse 400" },
    { name: "chunked, gzip", head: h(1, 1, HOST, "chunked, gzip"), want: "refuse 400" },
    { name: "chunked twice", head: h(1, 1, HOST, "chunked, chunked"), want: "refuse 400" },
    { name: "empty Transfer-Encoding", head: h(1, 1, HOST, ""), want: "refuse 400" },
    { name: "unknown coding before chunked", head: h(1, 1, HOST, "foo, chunked"), want: "refuse 501" },
    { name: "chunked in HTTP/1.0", head: h(1, 0, HOST, "chunked"), want: "refuse 400" },
    { name: "Content-Length 0", head: h(1, 1, HOST, undefined, "0"), want: "accept none" },
    { name: "Content-Length 5", head: h(1, 1, HOST, undefined, "5"), want: "accept length" },
    { name: "Content-Length at the limit", head: h(1, 1, HOST, undefined, String(1024 * 1024)), want: "accept length" },
    { name: "Content-Length over the limit", head: h(1, 1, HOST, undefined, String(1024 * 1024 + 1)), want: "refuse 413" },
    { name: "Content-Length with more digits than a double", head: h(1, 1, HOST, undefined, "9".repeat(30)), want: "refuse 413" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const v = checkRequestHead(row.head);
      const got = v.kind === "accept" ? `accept ${v.body}` : `refuse ${v.status}`;
      assert.equal(got, row.want, `${JSON.stringify(row.head)}: got ${got}, want ${row.want}`);
    });
  }
});
