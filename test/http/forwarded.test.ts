/**
 * Trusted proxies (issue 15 item 3): addresses and ranges (src/http/ip.ts), the
 * `Forwarded` grammar of RFC 7239 and X-Forwarded-For (src/http/forwarded.ts),
 * and the walk that picks the client. Pure functions, no sockets.
 */
import assert from "node:assert/strict";
import { isIPv4 } from "node:net";
import { describe, test } from "node:test";
import {
  type ClientSource,
  clientAddressOf,
  type ForwardedNode,
  MAX_HOPS,
  parseForwarded,
  parseNode,
  proxyTrust,
} from "../../src/http/forwarded.js";
import { inRange, parseIp, parseRange, rangeMatcher } from "../../src/http/ip.js";

const hex = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString("hex"));

describe("parseIp", () => {
  const rows: { text: string; want: string | undefined }[] = [
    { text: "192.0.2.1", want: "00000000000000000000ffffc0000201" },
    { text: "0.0.0.0", want: "00000000000000000000ffff00000000" },
    { text: "255.255.255.255", want: "00000000000000000000ffffffffffff" },
    { text: "::1", want: "00000000000000000000000000000001" },
    { text: "::", want: "00000000000000000000000000000000" },
    { text: "2001:db8::17", want: "20010db8000000000000000000000017" },
    { text: "2001:DB8:0:0:0:0:0:17", want: "20010db8000000000000000000000017" },
    { text: "fe80::1%eth0", want: "fe800000000000000000000000000001" },
    // A dual-stack socket's IPv4 peer is the same address as the IPv4 text.
    { text: "::ffff:127.0.0.1", want: "00000000000000000000ffff7f000001" },
    { text: "::ffff:7f00:1", want: "00000000000000000000ffff7f000001" },
    { text: "::FFFF:10.0.0.1", want: "00000000000000000000ffff0a000001" },
    { text: "::ffff:10.0.0.1%eth0", want: "00000000000000000000ffff0a000001" },
    { text: "::ffff:1.2.3", want: undefined },
    { text: "::ffff:01.2.3.4", want: undefined },
    { text: "::ffff:1.2.3.4.", want: undefined },
    { text: "1::2:3:4:5:6:7", want: "00010000000200030004000500060007" },
    { text: "", want: undefined },
    { text: "256.0.0.1", want: undefined },
    { text: "010.0.0.1", want: undefined },
    { text: "1.2.3", want: undefined },
    { text: "1.2.3.4.5", want: undefined },
    { text: "1.2.3.-4", want: undefined },
    { text: "1.2.3.4.", want: undefined },
    { text: ".1.2.3", want: undefined },
    { text: "1..2.3", want: undefined },
    { text: "1.2.3.4 ", want: undefined },
    { text: " 1.2.3.4", want: undefined },
    { text: "1::2::3", want: undefined },
    { text: "1:2:3:4:5:6:7:8:9", want: undefined },
    { text: "1:2:3:4:5:6:7", want: undefined },
    { text: "1:2:3:4:5:6:7::8", want: undefined },
    { text: "12345::", want: undefined },
    { text: "::g", want: undefined },
    { text: "[::1]", want: undefined },
    { text: "localhost", want: undefined },
    { text: "unknown", want: undefined },
  ];
  for (const r of rows) {
    test(JSON.stringify(r.text), () => assert.equal(hex(parseIp(r.text)), r.want, `parseIp(${JSON.stringify(r.text)})`));
  }
});

describe("parseIp on IPv4 text agrees with node:net", () => {
  // Every dotted string of three to five parts drawn from these: parsed by hand
  // (ip.ts), it must be an address exactly when net.isIPv4 says so (which refuses
  // leading zeros too), with the bytes it names.
  const parts = ["", "0", "00", "01", "7", "10", "99", "100", "199", "249", "250", "255", "256", "300", "1000", "1a", "+1"];
  const texts: string[] = [];
  for (const a of parts)
    for (const b of parts)
      for (const c of ["0", "255", "01", ""]) {
        texts.push(`${a}.${b}.${c}`, `${a}.${b}.${c}.1`, `1.${a}.${b}.${c}`, `${a}.${b}.${c}.1.2`);
      }
  test(`${texts.length} strings`, () => {
    for (const text of texts) {
      const want = isIPv4(text) ? `00000000000000000000ffff${Buffer.from(text.split(".").map(Number)).toString("hex")}` : undefined;
      assert.equal(hex(parseIp(text)), want, `parseIp(${JSON.stringify(text)})`);
      assert.equal(hex(parseIp(`::ffff:${text}`)), want, `parseIp("::ffff:${text}")`);
    }
  });
});

describe("parseRange and rangeMatcher", () => {
  const rows: { range: string; address: string; want: boolean }[] = [
    { range: "10.0.0.0/8", address: "10.255.1.2", want: true },
    { range: "10.0.0.0/8", address: "11.0.0.1", want: false },
    { range: "10.1.2.3/8", address: "10.9.9.9", want: true },
    { range: "172.16.0.0/12", address: "172.31.255.255", want: true },
    { range: "172.16.0.0/12", address: "172.32.0.0", want: false },
    { range: "192.0.2.1", address: "192.0.2.1", want: true },
    { range: "192.0.2.1", address: "192.0.2.2", want: false },
    { range: "192.0.2.1/32", address: "::ffff:192.0.2.1", want: true },
    { range: "0.0.0.0/0", address: "203.0.113.9", want: true },
    // IPv4 /0 is every IPv4 address, not every address.
    { range: "0.0.0.0/0", address: "2001:db8::1", want: false },
    { range: "2001:db8::/32", address: "2001:db8:ffff::1", want: true },
    { range: "2001:db8::/32", address: "2001:db9::1", want: false },
    { range: "fc00::/7", address: "fd12::1", want: true },
    { range: "::/0", address: "1.2.3.4", want: true },
  ];
  for (const r of rows) {
    test(`${r.range} ∋ ${r.address}: ${r.want}`, () => {
      const range = parseRange(r.range);
      assert.ok(range !== undefined, r.range);
      assert.equal(inRange(parseIp(r.address)!, range), r.want);
    });
  }
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/08", "10.0.0/8", "fe80::1%eth0/64", "nope", "10.0.0.0/8/8"]) {
    test(`refuses ${bad}`, () => assert.equal(parseRange(bad), undefined));
  }
  test("names: loopback and private", () => {
    const m = rangeMatcher(["loopback", "private"]);
    assert.ok("match" in m);
    const yes = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "10.0.0.1", "172.20.0.1", "192.168.1.1", "fd00::1"];
    const no = ["8.8.8.8", "172.32.0.1", "::2", "2001:db8::1", "169.254.1.1", "100.64.0.1"];
    for (const a of yes) assert.equal(m.match(parseIp(a)!), true, a);
    for (const a of no) assert.equal(m.match(parseIp(a)!), false, a);
  });
  test("a name is case-insensitive; an unknown one, or Object's own keys, are invalid", () => {
    assert.ok("match" in rangeMatcher(["LOOPBACK"]));
    for (const bad of ["constructor", "__proto__", "toString", "local", ""]) {
      assert.deepEqual(rangeMatcher(["loopback", bad]), { invalid: bad }, bad);
    }
  });
});

describe("parseNode (RFC 7239 §6)", () => {
  const addr = (address: string): ForwardedNode => ({ kind: "address", address, bytes: parseIp(address)! });
  const rows: { text: string; bare?: boolean; want: ForwardedNode | undefined }[] = [
    { text: "192.0.2.43", want: addr("192.0.2.43") },
    { text: "192.0.2.43:47011", want: addr("192.0.2.43") },
    { text: "[2001:db8:cafe::17]", want: addr("2001:db8:cafe::17") },
    { text: "[2001:db8:cafe::17]:4711", want: addr("2001:db8:cafe::17") },
    { text: "[2001:DB8::17]", want: addr("2001:db8::17") },
    { text: "unknown", want: { kind: "unknown" } },
    { text: "UNKNOWN:80", want: { kind: "unknown" } },
    { text: "_hidden", want: { kind: "obfuscated" } },
    { text: "_SEVKISEK", want: { kind: "obfuscated" } },
    { text: "_a.b-c_d:_port", want: { kind: "obfuscated" } },
    { text: "192.0.2.43:_p1", want: addr("192.0.2.43") },
    // IPv6 outside brackets: RFC 7239 §6 says MUST be bracketed.
    { text: "2001:db8::17", want: undefined },
    // ... which X-Forwarded-For writes, without a port.
    { text: "2001:db8::17", bare: true, want: addr("2001:db8::17") },
    { text: "::1", bare: true, want: addr("::1") },
    { text: "[::1]:8080", bare: true, want: addr("::1") },
    { text: "192.0.2.1:80", bare: true, want: addr("192.0.2.1") },
    { text: "[192.0.2.1]", want: undefined },
    { text: "[::1", want: undefined },
    { text: "[::1]x", want: undefined },
    { text: "[::1]:", want: undefined },
    { text: "192.0.2.43:123456", want: undefined },
    { text: "192.0.2.43:", want: undefined },
    { text: "_", want: undefined },
    { text: "_bad!", want: undefined },
    { text: "example.com", want: undefined },
    { text: "[fe80::1%eth0]", want: undefined },
    { text: "", want: undefined },
  ];
  for (const r of rows) {
    test(`${JSON.stringify(r.text)}${r.bare ? " (bare IPv6 allowed)" : ""}`, () =>
      assert.deepEqual(parseNode(r.text, r.bare), r.want, `parseNode(${JSON.stringify(r.text)})`));
  }
});

describe("parseForwarded (RFC 7239 §4)", () => {
  const A = (address: string): string => `address ${address}`;
  const show = (nodes: ForwardedNode[] | undefined): string[] | undefined =>
    nodes?.map((n) => (n.kind === "address" ? A(n.address) : n.kind));
  const rows: { name: string; value: string; want: string[] | undefined }[] = [
    // RFC 7239 §4 and §7.4 examples.
    { name: "RFC: quoted IPv6 with port", value: 'For="[2001:db8:cafe::17]:4711"', want: [A("2001:db8:cafe::17")] },
    { name: "RFC: for, proto and by", value: "for=192.0.2.60;proto=http;by=203.0.113.43", want: [A("192.0.2.60")] },
    { name: "RFC: two elements", value: "for=192.0.2.43, for=198.51.100.17", want: [A("192.0.2.43"), A("198.51.100.17")] },
    {
      name: "RFC §7.4: unknown and obfuscated",
      value: 'for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown',
      want: [A("192.0.2.43"), A("2001:db8:cafe::17"), "unknown"],
    },
    { name: "RFC: obfuscated", value: "for=_hidden, for=_SEVKISEK", want: ["obfuscated", "obfuscated"] },
    { name: "quoted IPv4 with port", value: 'for="192.0.2.43:47011"', want: [A("192.0.2.43")] },
    { name: "quoted-pair inside a value", value: 'for="\\1\\9\\2.0.2.1"', want: [A("192.0.2.1")] },
    {
      name: "other params may hold commas when quoted",
      value: 'for=192.0.2.1;host="a,b", for=198.51.100.1',
      want: [A("192.0.2.1"), A("198.51.100.1")],
    },
    { name: "names are case-insensitive", value: "FOR=192.0.2.1", want: [A("192.0.2.1")] },
    { name: "element without for is an unknown hop", value: "proto=https, for=192.0.2.1", want: ["unknown", A("192.0.2.1")] },
    { name: "empty list elements are skipped", value: ", for=192.0.2.1 ,, ", want: [A("192.0.2.1")] },
    { name: "empty pairs around ;", value: ";for=192.0.2.1;;proto=http;", want: [A("192.0.2.1")] },
    { name: "two lines joined by Node", value: "for=192.0.2.1, for=198.51.100.2", want: [A("192.0.2.1"), A("198.51.100.2")] },
    { name: "empty header", value: "", want: [] },
    // Malformed: the whole value is refused.
    { name: "unquoted IPv6", value: "for=[2001:db8::1]", want: undefined },
    { name: "unquoted port", value: "for=192.0.2.43:80", want: undefined },
    { name: "unterminated quote", value: 'for="192.0.2.1', want: undefined },
    { name: "for twice in one element", value: "for=192.0.2.1;for=192.0.2.2", want: undefined },
    { name: "for not an address", value: "for=example.com", want: undefined },
    { name: "no value", value: "for=", want: undefined },
    { name: "no =", value: "for", want: undefined },
    { name: "space before =", value: "for =192.0.2.1", want: undefined },
    { name: "junk after a value", value: "for=192.0.2.1 x", want: undefined },
    { name: "control in a quoted value", value: 'for="192.0.2.1\x01"', want: undefined },
    { name: "X-Forwarded-For's shape", value: "192.0.2.1, 198.51.100.2", want: undefined },
  ];
  for (const r of rows)
    test(r.name, () => assert.deepEqual(show(parseForwarded(r.value)), r.want, `parseForwarded(${JSON.stringify(r.value)})`));
});

describe("clientAddressOf: the walk from the right", () => {
  const trust = (list: string[], header?: string) => {
    const t = proxyTrust(list, header);
    assert.ok(!("problem" in t), JSON.stringify(t));
    return t;
  };
  const rows: {
    name: string;
    peer: string | undefined;
    trusted: string[];
    header?: string;
    headers: Record<string, string>;
    want: string | undefined;
  }[] = [
    {
      name: "untrusted peer: its headers are ignored",
      peer: "203.0.113.9",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "1.1.1.1" },
      want: "203.0.113.9",
    },
    { name: "trusted peer, no header: the peer", peer: "127.0.0.1", trusted: ["loopback"], headers: {}, want: "127.0.0.1" },
    {
      name: "XFF: one proxy",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "203.0.113.9" },
      want: "203.0.113.9",
    },
    {
      name: "XFF: a forged left part is not believed",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.9" },
      want: "203.0.113.9",
    },
    {
      name: "XFF: walks past trusted hops",
      peer: "10.0.0.2",
      trusted: ["private"],
      headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.0.0.7, 192.168.1.1" },
      want: "203.0.113.9",
    },
    {
      name: "XFF: every hop trusted: the leftmost",
      peer: "10.0.0.2",
      trusted: ["private"],
      headers: { "x-forwarded-for": "10.1.1.1, 10.0.0.7" },
      want: "10.1.1.1",
    },
    {
      name: "XFF: garbage left of the client is never read",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "<script>, not-an-ip,, 203.0.113.9" },
      want: "203.0.113.9",
    },
    {
      name: "XFF: malformed at the right: the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "203.0.113.9, bogus" },
      want: "127.0.0.1",
    },
    { name: "XFF: empty: the peer", peer: "127.0.0.1", trusted: ["loopback"], headers: { "x-forwarded-for": "" }, want: "127.0.0.1" },
    {
      name: "XFF: unknown: the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "unknown" },
      want: "127.0.0.1",
    },
    { name: "XFF: IPv6, bare", peer: "::1", trusted: ["loopback"], headers: { "x-forwarded-for": "2001:db8::9" }, want: "2001:db8::9" },
    {
      name: "XFF: IPv4 with a port (Azure)",
      peer: "::1",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "203.0.113.9:50312" },
      want: "203.0.113.9",
    },
    {
      name: "dual-stack peer ::ffff:127.0.0.1 is loopback",
      peer: "::ffff:127.0.0.1",
      trusted: ["loopback"],
      headers: { "x-forwarded-for": "203.0.113.9" },
      want: "203.0.113.9",
    },
    {
      name: "Forwarded: quoted IPv6 with port",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' },
      want: "2001:db8:cafe::17",
    },
    {
      name: "Forwarded: walks past a trusted CIDR",
      peer: "127.0.0.1",
      trusted: ["loopback", "198.51.100.0/24"],
      headers: { forwarded: "for=6.6.6.6, for=203.0.113.9, for=198.51.100.17" },
      want: "203.0.113.9",
    },
    {
      name: "Forwarded: obfuscated client: the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { forwarded: "for=_hidden" },
      want: "127.0.0.1",
    },
    {
      name: "Forwarded: unknown hop before the client: the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { forwarded: "for=203.0.113.9, for=unknown" },
      want: "127.0.0.1",
    },
    {
      name: "Forwarded: obfuscated hop left of the client is never reached",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { forwarded: "for=_x, for=203.0.113.9" },
      want: "203.0.113.9",
    },
    {
      name: "Forwarded: malformed: the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { forwarded: "for=[::1]" },
      want: "127.0.0.1",
    },
    {
      name: "both headers: ambiguous, the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      headers: { forwarded: "for=6.6.6.6", "x-forwarded-for": "203.0.113.9" },
      want: "127.0.0.1",
    },
    {
      name: "--client-ip-header x-forwarded-for: a Forwarded the client sent is ignored",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      header: "X-Forwarded-For",
      headers: { forwarded: "for=6.6.6.6", "x-forwarded-for": "203.0.113.9" },
      want: "203.0.113.9",
    },
    {
      name: "--client-ip-header forwarded: X-Forwarded-For is ignored",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      header: "forwarded",
      headers: { forwarded: "for=203.0.113.9", "x-forwarded-for": "6.6.6.6" },
      want: "203.0.113.9",
    },
    {
      name: "--client-ip-header x-real-ip: one address",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      header: "x-real-ip",
      headers: { "x-real-ip": " 203.0.113.9 ", "x-forwarded-for": "6.6.6.6" },
      want: "203.0.113.9",
    },
    {
      name: "--client-ip-header x-real-ip: two lines (joined by Node): the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      header: "x-real-ip",
      headers: { "x-real-ip": "6.6.6.6, 203.0.113.9" },
      want: "127.0.0.1",
    },
    {
      name: "--client-ip-header x-real-ip: absent: the peer",
      peer: "127.0.0.1",
      trusted: ["loopback"],
      header: "x-real-ip",
      headers: {},
      want: "127.0.0.1",
    },
    {
      name: "--client-ip-header from an untrusted peer: ignored",
      peer: "203.0.113.5",
      trusted: ["loopback"],
      header: "x-real-ip",
      headers: { "x-real-ip": "6.6.6.6" },
      want: "203.0.113.5",
    },
    { name: "unknown peer", peer: undefined, trusted: ["loopback"], headers: { "x-forwarded-for": "203.0.113.9" }, want: undefined },
    {
      name: `XFF: ${MAX_HOPS} trusted hops, every one: the leftmost`,
      peer: "10.0.0.1",
      trusted: ["private"],
      headers: { "x-forwarded-for": ["10.9.9.9", ...Array<string>(MAX_HOPS - 1).fill("10.0.0.2")].join(", ") },
      want: "10.9.9.9",
    },
    {
      name: `XFF: more than ${MAX_HOPS} trusted hops: not read, the peer`,
      peer: "10.0.0.1",
      trusted: ["private"],
      headers: { "x-forwarded-for": ["203.0.113.9", ...Array<string>(MAX_HOPS).fill("10.0.0.2")].join(", ") },
      want: "10.0.0.1",
    },
    {
      name: "XFF: 2,000 trusted hops (16 KiB): the peer",
      peer: "10.0.0.1",
      trusted: ["private"],
      headers: { "x-forwarded-for": Array<string>(2000).fill("10.0.0.2").join(",") },
      want: "10.0.0.1",
    },
    {
      name: `Forwarded: ${MAX_HOPS} elements: read`,
      peer: "10.0.0.1",
      trusted: ["private"],
      headers: { forwarded: ["for=203.0.113.9", ...Array<string>(MAX_HOPS - 1).fill("for=10.0.0.2")].join(", ") },
      want: "203.0.113.9",
    },
    {
      name: `Forwarded: more than ${MAX_HOPS} elements: not read, the peer`,
      peer: "10.0.0.1",
      trusted: ["private"],
      headers: { forwarded: ["for=203.0.113.9", ...Array<string>(MAX_HOPS).fill("for=10.0.0.2")].join(", ") },
      want: "10.0.0.1",
    },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const got = clientAddressOf(r.peer, (name) => r.headers[name], trust(r.trusted, r.header));
      assert.equal(
        got,
        r.want,
        `peer ${r.peer}, trusted ${r.trusted.join(",")}, headers ${JSON.stringify(r.headers)}: got ${got}, want ${r.want}`,
      );
    });
  }
});

describe("proxyTrust: the options checked", () => {
  test("sources by header name", () => {
    const source = (header?: string): ClientSource => {
      const t = proxyTrust(["loopback"], header);
      assert.ok(!("problem" in t));
      return t.source;
    };
    assert.deepEqual(source(), { kind: "either" });
    assert.deepEqual(source("Forwarded"), { kind: "forwarded" });
    assert.deepEqual(source("x-forwarded-for"), { kind: "x-forwarded-for" });
    assert.deepEqual(source("X-Real-IP"), { kind: "single", header: "x-real-ip" });
  });
  test("problems name the option", () => {
    assert.deepEqual(proxyTrust(["10.0.0.0/33"]), {
      option: "trustProxy",
      problem: "'10.0.0.0/33' is not an address, a CIDR range, 'loopback' or 'private'",
    });
    assert.deepEqual(proxyTrust(["loopback"], "x real ip"), { option: "clientIpHeader", problem: "'x real ip' is not a header name" });
  });
});
