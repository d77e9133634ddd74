import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapeLogField } from "../../src/core/text.js";
import {
  type AccessLogEntry,
  accessLogFormatter,
  displayAddress,
  formatAccessLog,
  formatDuration,
  isoTime,
  LOG_FORMATS,
} from "../../src/server/log.js";

describe("escapeLogField", () => {
  const rows: { name: string; input: string; want: string }[] = [
    { name: "plain path", input: "/a%20b?x=1", want: "/a%20b?x=1" },
    { name: "percent-encoded ESC stays text", input: "/%1b[31mred", want: "/%1b[31mred" },
    { name: "raw ESC", input: "/\x1b[31mred", want: "/\\x1b[31mred" },
    {
      name: "CR LF cannot start a new line",
      input: "/a\r\n2026-01-01T00:00:00.000Z forged",
      want: "/a\\x0d\\x0a2026-01-01T00:00:00.000Z forged",
    },
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
      assert.equal(
        got,
        row.want,
        `escapeLogField(${JSON.stringify(row.input)}): got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`,
      );
    });
  }
});

describe("displayAddress", () => {
  const rows: [string | undefined, string][] = [
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:abcd", "::ffff:abcd"],
    ["::FFFF:10.0.0.1", "10.0.0.1"],
    ["2001:db8::ffff:10.0.0.1", "2001:db8::ffff:10.0.0.1"],
    ["", "-"],
    [undefined, "-"],
  ];
  for (const [input, want] of rows) {
    test(`${input}`, () => assert.equal(displayAddress(input), want));
  }
});

describe("formatDuration: tenths below a second, whole milliseconds above", () => {
  const rows: [number, string][] = [
    [0, "0.0ms"],
    [0.04, "0.0ms"],
    [0.06, "0.1ms"],
    [1.23, "1.2ms"],
    [9.96, "10.0ms"],
    [12.34, "12.3ms"],
    [999.94, "999.9ms"],
    [999.95, "1000ms"],
    [1000, "1000ms"],
    [1234.5, "1235ms"],
    [86_400_000, "86400000ms"],
  ];
  for (const [ms, want] of rows) test(`${ms}`, () => assert.equal(formatDuration(ms), want));
});

describe("isoTime is toISOString, its second kept between lines", () => {
  test("every millisecond of two seconds, then times far apart, in and out of order", () => {
    const times: number[] = [];
    const start = Date.UTC(2026, 11, 1, 3, 59, 59);
    for (let ms = 0; ms < 2000; ms++) times.push(start + ms);
    times.push(0, 999, 1000, -1, -1001, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), start + 5, start + 1999, start);
    for (const t of times) {
      const time = new Date(t);
      assert.equal(isoTime(time), time.toISOString(), `isoTime(${t})`);
    }
  });
});

describe("formatAccessLog", () => {
  const base: AccessLogEntry = {
    time: new Date("2026-11-26T10:00:00.000Z"),
    remoteAddress: "::1",
    method: "GET",
    target: "/a%20b",
    httpVersion: "1.1",
    status: 200,
    bytes: 1234,
    durationMs: 1.234,
    aborted: false,
  };
  const rows: { name: string; entry: Partial<AccessLogEntry>; want: string }[] = [
    { name: "ordinary", entry: {}, want: '2026-11-26T10:00:00.000Z ::1 "GET /a%20b HTTP/1.1" 200 1234 1.2ms' },
    {
      name: "mapped IPv4 peer",
      entry: { remoteAddress: "::ffff:10.0.0.1" },
      want: '2026-11-26T10:00:00.000Z 10.0.0.1 "GET /a%20b HTTP/1.1" 200 1234 1.2ms',
    },
    {
      name: "aborted",
      entry: { status: 200, bytes: 65536, aborted: true },
      want: '2026-11-26T10:00:00.000Z ::1 "GET /a%20b HTTP/1.1" 200 65536 1.2ms (aborted)',
    },
    {
      name: "slow",
      entry: { durationMs: 2345.67, method: "HEAD", bytes: 0, httpVersion: "1.0" },
      want: '2026-11-26T10:00:00.000Z ::1 "HEAD /a%20b HTTP/1.0" 200 0 2346ms',
    },
    {
      name: "hostile target",
      entry: { target: '/\x1b[2J"\r\n\\', status: 404, bytes: 9 },
      want: '2026-11-26T10:00:00.000Z ::1 "GET /\\x1b[2J\\"\\x0d\\x0a\\\\ HTTP/1.1" 404 9 1.2ms',
    },
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

// Issue 10, item 18: characters that reach a log line from the request and must
// never be written raw, in any format, from any field a client controls. C1
// controls move a terminal's cursor (CSI is an 8-bit ESC [); U+2028/9 break lines in
// viewers; bidi controls make a line display in another order than it reads.
const HOSTILE: readonly { name: string; char: string; escaped: string }[] = [
  { name: "ESC", char: "\x1b", escaped: "\\x1b" },
  { name: "DEL", char: "\x7f", escaped: "\\x7f" },
  { name: "NEL (C1)", char: "\x85", escaped: "\\x85" },
  { name: "CSI (C1)", char: "\x9b", escaped: "\\x9b" },
  { name: "U+200E LRM", char: "\u200e", escaped: "\\u200e" },
  { name: "U+200F RLM", char: "\u200f", escaped: "\\u200f" },
  { name: "U+202A LRE", char: "\u202a", escaped: "\\u202a" },
  { name: "U+202E RLO", char: "\u202e", escaped: "\\u202e" },
  { name: "U+2066 LRI", char: "\u2066", escaped: "\\u2066" },
  { name: "U+2069 PDI", char: "\u2069", escaped: "\\u2069" },
  { name: "U+061C ALM", char: "\u061c", escaped: "\\u061c" },
  { name: "U+2028 LINE SEPARATOR", char: "\u2028", escaped: "\\u2028" },
  { name: "U+2029 PARAGRAPH SEPARATOR", char: "\u2029", escaped: "\\u2029" },
];
const FIELDS = ["target", "referer", "userAgent", "user"] as const;
// Which fields each format shows (the others must not bring the character in either).
const SHOWN: Readonly<Record<string, readonly string[]>> = {
  default: ["target"],
  dev: ["target"],
  common: ["target", "user"],
  combined: FIELDS,
  json: FIELDS,
};
const RAW = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

describe("every format escapes hostile characters in every field", () => {
  const base: AccessLogEntry = {
    time: new Date("2026-11-26T10:00:00.000Z"),
    remoteAddress: "::1",
    method: "GET",
    target: "/a",
    httpVersion: "2.0",
    status: 200,
    bytes: 9,
    durationMs: 1,
    aborted: false,
    referer: "http://r/",
    userAgent: "ua",
    user: "me",
  };
  for (const format of LOG_FORMATS) {
    const line = accessLogFormatter(format, false);
    for (const field of FIELDS) {
      for (const { name, char, escaped } of HOSTILE) {
        test(`${format} / ${field} / ${name}`, () => {
          const value = `${field === "target" ? "/" : ""}x${char}y`;
          const got = line({ ...base, [field]: value });
          assert.doesNotMatch(got, RAW, `${format}, ${field} = ${JSON.stringify(value)}: got ${JSON.stringify(got)}, a raw ${name}`);
          if (!SHOWN[format]!.includes(field)) return;
          if (format === "json") {
            // Escaped as \uNNNN, so the JSON still parses back to exactly what was sent.
            assert.equal((JSON.parse(got) as Record<string, unknown>)[field], value, `json ${field}: got ${JSON.stringify(got)}`);
            assert.ok(
              got.includes(`x\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}y`),
              `json ${field}: got ${JSON.stringify(got)}`,
            );
          } else {
            assert.ok(got.includes(`x${escaped}y`), `${format} ${field}: got ${JSON.stringify(got)}, want x${escaped}y in it`);
          }
        });
      }
    }
  }
});

describe("a request the parser refused", () => {
  const refused: AccessLogEntry = {
    time: new Date("2026-11-26T10:00:00.000Z"),
    remoteAddress: "::1",
    method: "-",
    target: "-",
    httpVersion: "-",
    status: 400,
    bytes: 0,
    durationMs: 0,
    aborted: false,
  };
  const rows: [string, string][] = [
    ["default", '2026-11-26T10:00:00.000Z ::1 "-" 400 0 0.0ms'],
    ["common", '::1 - - [26/Nov/2026:10:00:00 +0000] "-" 400 -'],
    ["combined", '::1 - - [26/Nov/2026:10:00:00 +0000] "-" 400 - "-" "-"'],
    [
      "json",
      '{"time":"2026-11-26T10:00:00.000Z","remote":"::1","method":"-","target":"-","protocol":"-","status":400,"bytes":0,"durationMs":0}',
    ],
  ];
  for (const [format, want] of rows) {
    test(format, () => assert.equal(accessLogFormatter(format as "default", false)(refused), want));
  }
});
