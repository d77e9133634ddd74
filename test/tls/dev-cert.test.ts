/**
 * The development certificate: where it is kept, when it is reused and when it is
 * made again, and that concurrent starts agree on one pair.
 */
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { checkCredentials } from "../../src/tls/credentials.js";
import { configDir, ensureDevCertificate, machineNames } from "../../src/tls/dev-cert.js";
import { ipBytes } from "../../src/tls/generate.js";

let base = "";
before(() => (base = mkdtempSync(join(tmpdir(), "wharf-devcert-"))));
after(() => rmSync(base, { recursive: true, force: true }));

const NAMES = { dns: ["localhost", "box"], ips: ["127.0.0.1", "::1", "192.0.2.7"] };
const DAY = 24 * 60 * 60 * 1000;

describe("configDir", () => {
  test("XDG_CONFIG_HOME when absolute, else ~/.config", () => {
    assert.equal(configDir({ XDG_CONFIG_HOME: "/x/conf" }), "/x/conf/wharf");
    assert.match(configDir({ XDG_CONFIG_HOME: "relative" }), /\.config\/wharf$/);
    assert.match(configDir({}), /\.config\/wharf$/);
  });
});

describe("ipBytes", () => {
  const rows: [string, string][] = [
    ["127.0.0.1", "7f000001"],
    ["::1", "00000000000000000000000000000001"],
    ["fd00::2", "fd000000000000000000000000000002"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
    ["fe80::1%eth0", "fe800000000000000000000000000001"],
    ["2001:db8:0:0:1:0:0:1", "20010db8000000000001000000000001"],
  ];
  for (const [ip, hex] of rows) test(ip, () => assert.equal(Buffer.from(ipBytes(ip)).toString("hex"), hex));
});

describe("ensureDevCertificate", () => {
  test("made once for every name, key 0600, then reused", async () => {
    const dir = join(base, "once");
    const first = await ensureDevCertificate({ dir, names: NAMES });
    assert.equal(first.created, "new");
    assert.equal(statSync(first.keyFile).mode & 0o777, 0o600);
    const x509 = new X509Certificate(first.credentials.cert as string);
    assert.equal(x509.subjectAltName, "DNS:localhost, DNS:box, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:192.0.2.7");
    assert.ok(x509.checkPrivateKey(createPrivateKey(first.credentials.key as string)));
    assert.equal(x509.ca, false, "not a certificate authority");
    assert.deepEqual(checkCredentials(first.credentials).warnings, []);
    const again = await ensureDevCertificate({ dir, names: NAMES });
    assert.equal(again.created, undefined);
    assert.equal(again.credentials.cert, first.credentials.cert);
    // An address that went away is no reason to make a new one.
    const fewer = await ensureDevCertificate({ dir, names: { dns: ["localhost"], ips: ["127.0.0.1"] } });
    assert.equal(fewer.created, undefined);
  });

  test("made again for a name it does not cover", async () => {
    const dir = join(base, "names");
    const first = await ensureDevCertificate({ dir, names: NAMES });
    const moved = await ensureDevCertificate({ dir, names: { ...NAMES, ips: [...NAMES.ips, "198.51.100.4"] } });
    assert.equal(moved.created, "names changed");
    assert.notEqual(moved.credentials.cert, first.credentials.cert);
    assert.match(new X509Certificate(moved.credentials.cert as string).subjectAltName ?? "", /IP Address:198\.51\.100\.4/);
  });

  test("made again when it expires within a week, and not before", async () => {
    const dir = join(base, "expiry");
    const first = await ensureDevCertificate({ dir, names: NAMES });
    const inAMonth = await ensureDevCertificate({ dir, names: NAMES, now: new Date(Date.now() + 30 * DAY) });
    assert.equal(inAMonth.created, undefined);
    const nextYear = await ensureDevCertificate({ dir, names: NAMES, now: new Date(Date.now() + 360 * DAY) });
    assert.equal(nextYear.created, "expired");
    assert.notEqual(nextYear.credentials.key, first.credentials.key);
  });

  test("a damaged pair is replaced", async () => {
    const dir = join(base, "damaged");
    const first = await ensureDevCertificate({ dir, names: NAMES });
    writeFileSync(first.certFile, "not a certificate");
    assert.equal((await ensureDevCertificate({ dir, names: NAMES })).created, "new");
  });

  test("concurrent starts agree on one pair", async () => {
    const dir = join(base, "race");
    const all = await Promise.all(Array.from({ length: 6 }, () => ensureDevCertificate({ dir, names: NAMES })));
    assert.equal(new Set(all.map((d) => d.credentials.cert)).size, 1, "one certificate");
    assert.equal(all.filter((d) => d.created !== undefined).length, 1, "made by one of them");
    const x509 = new X509Certificate(all[0]!.credentials.cert as string);
    assert.ok(x509.checkPrivateKey(createPrivateKey(all[0]!.credentials.key as string)));
  });

  test("machineNames has localhost and both loopbacks", () => {
    const names = machineNames();
    assert.ok(names.dns.includes("localhost"));
    for (const ip of ["127.0.0.1", "::1"]) assert.ok(names.ips.includes(ip));
  });
});
