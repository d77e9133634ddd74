import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { displayAddress, escapeLogField, formatAccessLog, type AccessLogEntry } from "../../src/server/log.js";

describe("escapeLogField", () => {
  const rows: { name: string; input: string; want: string }[] = [
    { name: "plain path", input: "/a%20b?x=1", want: "/a%20b?x=1" },
    { name: "percent-encoded ESC stays text", input: "/%1b[31mred", want: "/%1b[31mred" },
    { name: "raw ESC", input: "/\x1b[31mred", want: "/\\x1b[31mred" },
    { name: "CR LF cannot start a new line", input: "/a\r\n2026-01-01T00:00:00.000Z forged", want: "/a\\x0d\\x0a2026-01-01T00:00:00.000Z forged" },
    { name: "NUL and TAB", input: "\x00\t", want: "\\x00\\x09" },
    { name: "DEL", input: "a\x7fb", want: "a\\x7fb" },
    { name: "8-bit CSI", input: "a\x9b31m", want: "a\\x9b31m" },
    { name: "double quote", input: '/a"b', want: '/a\\"b' },
    { name: "backslash", input: "/a\\b", want: "/a\\\\b" },
    { name: "backslash before x is not ambiguous", input: "\\x1b", want: "\\\\x1b" },
    { name: "unicode is kept", input: "/caf\u00e9/\u6587", want: "/caf\u00e9/\u6587" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = escapeLogField(row.input);
      assert.equal(got, row.want, `escapeLogField(${JSON.stringify(row.input)}): got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`);
    });
  }
});

describe("displayAddress", () => {
  const rows: [string | undefined, string][] = [
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:abcd", "::ffff:abcd"],
    [undefined, "-"],
  ];
  for (const [input, want] of rows) {
    test(`${input}`, () => assert.equal(displayAddress(input), want));
  }
});

describe("formatAccessLog", () => {
  const base: AccessLogEntry = {
    time: new Date("2026-11-26T10:00:00.000Z"), remoteAddress: "::1", method: "GET", target: "/a%20b",
    httpVersion: "1.1", status: 200, bytes: 1234, durationMs: 1.234, aborted: false,
  };
  const rows: { name: string; entry: Partial<AccessLogEntry>; want: string }[] = [
    { name: "ordinary", entry: {}, want: '2026-11-26T10:00:00.000Z ::1 "GET /a%20b HTTP/1.1" 200 1234 1.2ms' },
    { name: "mapped IPv4 peer", entry: { remoteAddress: "::ffff:10.0.0.1" }, want: '2026-11-26T10:00:00.000Z 10.0.0.1 "GET /a%20b HTTP/1.1" 200 1234 1.2ms' },
    { name: "aborted", entry: { status: 200, bytes: 65536, aborted: true }, want: '2026-11-26T10:00:00.000Z ::1 "GET /a%20b HTTP/1.1" 200 65536 1.2ms (aborted)' },
    { name: "slow", entry: { durationMs: 2345.67, method: "HEAD", bytes: 0, httpVersion: "1.0" }, want: '2026-11-26T10:00:00.000Z ::1 "HEAD /a%20b HTTP/1.0" 200 0 2346ms' },
    { name: "hostile target", entry: { target: '/\x1b[2J"\r\n\\', status: 404, bytes: 9 }, want: '2026-11-26T10:00:00.000Z ::1 "GET /\\x1b[2J\\"\\x0d\\x0a\\\\ HTTP/1.1" 404 9 1.2ms' },
    { name: "hostile method", entry: { method: "G\x1bT" }, want: '2026-11-26T10:00:00.000Z ::1 "G\\x1bT /a%20b HTTP/1.1" 200 1234 1.2ms' },
    { name: "unknown peer", entry: { remoteAddress: undefined }, want: '2026-11-26T10:00:00.000Z - "GET /a%20b HTTP/1.1" 200 1234 1.2ms' },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = formatAccessLog({ ...base, ...row.entry });
      assert.equal(got, row.want, `got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`);
      assert.doesNotMatch(got, /[\x00-\x1f\x7f-\x9f]/, "no control characters may reach the log");
    });
  }
});
