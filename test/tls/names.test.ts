/**
 * The names a TLS server answers for (src/tls/names.ts), which decide whether a
 * plain-HTTP request's `Host` may be reflected into the redirect's `Location`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { coversHost, type HostNames, withAddresses } from "../../src/tls/names.js";

const names: HostNames = { dns: new Set(["example.com", "*.example.com"]), ips: new Set() };

describe("coversHost", () => {
  const own = withAddresses(names, ["192.0.2.7", "::1"]);
  const rows: { host: string; want: boolean }[] = [
    { host: "example.com", want: true },
    { host: "EXAMPLE.com.", want: true }, // case and one trailing dot
    { host: "a.example.com", want: true }, // the wildcard covers one label
    { host: "a.b.example.com", want: false }, // not two
    { host: "evil-example.com", want: false },
    { host: "example.com.evil.test", want: false },
    { host: "192.0.2.7", want: true }, // an address it listens on
    { host: "192.0.2.8", want: false },
    { host: "[::1]", want: true },
    { host: "::1", want: false }, // an IPv6 literal only in brackets
    { host: "[192.0.2.7]", want: false }, // an IPv4 literal never in brackets
    { host: "localhost", want: true }, // it listens on loopback
  ];
  for (const row of rows) {
    test(`${row.host}: ${row.want ? "covered" : "not covered"}`, () => {
      assert.equal(coversHost(own, row.host), row.want, `coversHost(${row.host}): got ${!row.want}, want ${row.want}`);
    });
  }

  test("localhost only when listening on loopback or every interface", () => {
    assert.equal(coversHost(withAddresses(names, ["192.0.2.7"]), "localhost"), false);
    assert.equal(coversHost(withAddresses(names, ["0.0.0.0"]), "localhost"), true);
    assert.equal(coversHost(withAddresses(names, ["127.0.0.1"]), "localhost"), true);
  });
});
