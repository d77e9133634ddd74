/**
 * Every development certificate is valid DER. The serial number is random, and
 * a random INTEGER whose first octet came out zero (with the next one below
 * 0x80) used to be encoded with a non-minimal leading zero: X.690 §8.3.2 forbids
 * it, OpenSSL refuses it ("illegal padding") and `--tls` failed to start about
 * once in every 150 to 250 certificates. The property: thousands of certificates,
 * each parsed by Node's X509Certificate, a sample also by `openssl x509`.
 *
 * One key pair is reused: the bug is in the serial, and making a key per
 * certificate would only make the run slower. OpenSSL reads all of them in one
 * process (`crl2pkcs7 -certfile` parses every certificate in the file and fails
 * on the first bad one); a sample also goes through `openssl x509 -noout`, the
 * command a user would try, one process each.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { webcrypto, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { generateCertificate, serialNumber } from "../../src/tls/generate.js";

const COUNT = 3000;
const OPENSSL_SAMPLE = 20;

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("serialNumber: positive, minimal, 16 octets, for every first and second octet", () => {
  for (let first = 0; first < 256; first++) {
    for (const second of [0x00, 0x7f, 0x80, 0xff]) {
      const random = new Uint8Array(16).fill(0x5a);
      random[0] = first;
      random[1] = second;
      const serial = serialNumber(random);
      assert.equal(serial.length, 16, `length for ${first}/${second}`);
      assert.ok(serial[0]! < 0x80, `positive: first octet ${serial[0]} from ${first}/${second}`);
      // X.690 §8.3.2: the first nine bits are not all zero (nor all one).
      assert.ok(serial[0] !== 0, `minimal: got a leading zero from ${first}/${second}`);
    }
  }
});

test(`${COUNT} certificates all parse with X509Certificate and OpenSSL`, async (t) => {
  const keys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const subject = { dns: ["localhost"], ips: ["127.0.0.1"], notBefore: new Date("2026-01-01"), notAfter: new Date("2026-12-31") };
  const openssl = hasOpenssl();
  if (!openssl) t.diagnostic("openssl not installed: only X509Certificate parses (.ci/run installs openssl)");
  const serials = new Set<string>();
  const pems: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const { cert } = await generateCertificate(subject, keys);
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
    } catch (error) {
      assert.fail(`certificate ${i} does not parse: ${(error as Error).message}\n${cert}`);
    }
    serials.add(x509.serialNumber);
    pems.push(cert);
    if (openssl && i % (COUNT / OPENSSL_SAMPLE) === 0) {
      try {
        execFileSync("openssl", ["x509", "-noout"], { input: cert, stdio: ["pipe", "ignore", "pipe"] });
      } catch (error) {
        assert.fail(`openssl refuses certificate ${i}: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
      }
    }
  }
  assert.equal(serials.size, COUNT, "every serial is different");
  if (!openssl) return;
  const dir = mkdtempSync(join(tmpdir(), "wharf-serial-"));
  try {
    const all = join(dir, "all.pem");
    writeFileSync(all, pems.join(""));
    const p7 = execFileSync("openssl", ["crl2pkcs7", "-nocrl", "-certfile", all, "-outform", "DER"], {
      maxBuffer: 1 << 26,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const listed = execFileSync("openssl", ["pkcs7", "-inform", "DER", "-print_certs", "-noout"], {
      input: p7,
      maxBuffer: 1 << 26,
      encoding: "utf8",
    });
    assert.equal(listed.match(/^subject=/gm)?.length, COUNT, "OpenSSL read every certificate");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
