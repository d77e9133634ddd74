/**
 * The TLS flags end to end, as a person uses them: Python 3.14's
 * `--tls-cert/--tls-key/--tls-password-file` with certificates made by the openssl
 * command line, `--tls` with the development certificate, curl as the client, and
 * every mistake a one-line error (exit 1, no stack trace).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { generateCertificate } from "../../src/tls/generate.js";
import { type RunningCli, runCli, startCli, stopAll } from "../helpers/cli.js";
import { opensslCertificate } from "../helpers/tls.js";

let dir = "";
let site = "";
const env = (): NodeJS.ProcessEnv => ({ ...process.env, XDG_CONFIG_HOME: join(dir, "config") });

before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-tls-cli-"));
  site = join(dir, "site");
  execFileSync("mkdir", ["-p", site]);
  writeFileSync(join(site, "nums.txt"), "123456789");
});
after(() => rmSync(dir, { recursive: true, force: true }));

afterEach(stopAll);

/** Starts wharf and waits for its banner, which names the https URL. */
async function start(args: string[]): Promise<RunningCli> {
  const w = await startCli(["0", "-b", "127.0.0.1", "-q", "-d", site, ...args], { env: env() });
  assert.match(w.url, /^https:\/\/127\.0\.0\.1:\d+\/$/, `no https URL in ${w.stdout()}`);
  return w;
}

/** curl with the given certificate trusted: [http_version, status, body]. */
function curl(url: string, ca: string, ...flags: string[]): [string, string, string] {
  const r = spawnSync("curl", ["-sS", "--cacert", ca, ...flags, "-w", "\n%{http_version} %{http_code}", url], {
    encoding: "utf8",
    timeout: 10_000,
  });
  assert.equal(r.status, 0, `curl failed: ${r.stderr}`);
  const lines = r.stdout.split("\n");
  const [version = "", code = ""] = (lines.pop() ?? "").split(" ");
  return [version, code, lines.join("\n")];
}

function opensslFingerprint(certFile: string): string {
  return execFileSync("openssl", ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"], { encoding: "utf8" })
    .trim()
    .split("=")[1]!;
}

/** The base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as docs/tls.md computes it with openssl. */
function opensslSpki(certFile: string): string {
  const pem = execFileSync("openssl", ["x509", "-in", certFile, "-pubkey", "-noout"]);
  const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pem });
  const digest = execFileSync("openssl", ["dgst", "-sha256", "-binary"], { input: der });
  return execFileSync("base64", [], { input: digest, encoding: "utf8" }).trim();
}

function runOnce(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runCli(["0", "-b", "127.0.0.1", "-d", site, ...args], { env: env() });
}

describe("--tls-cert, --tls-key, --tls-password-file (openssl-made files)", () => {
  test("serve h2 and HTTP/1.1 with the certificate whose fingerprint the banner prints", async () => {
    const c = opensslCertificate(dir, "plain");
    const w = await start(["--tls-cert", c.certFile, "--tls-key", c.keyFile]);
    assert.ok(w.stdout().includes(`certificate SHA-256 ${opensslFingerprint(c.certFile)}`), w.stdout());
    assert.ok(w.stdout().includes(`\n  public key SPKI SHA-256 ${opensslSpki(c.certFile)}\n`), w.stdout());
    assert.deepEqual(curl(`${w.url}nums.txt`, c.certFile, "--http2"), ["2", "200", "123456789"]);
    assert.deepEqual(curl(`${w.url}nums.txt`, c.certFile, "--http1.1"), ["1.1", "200", "123456789"]);
    // Plain HTTP to the TLS port: a clear answer, not a hang.
    const plain = spawnSync("curl", ["-sS", "-i", `${w.url.replace("https", "http")}nums.txt`], { encoding: "utf8", timeout: 5000 });
    assert.match(plain.stdout, /^HTTP\/1\.1 307 /);
    assert.match(plain.stdout, new RegExp(`\\r\\nLocation: ${w.url}nums.txt\\r\\n`));
    assert.ok(plain.stdout.endsWith(`This port speaks HTTPS: use ${w.url}nums.txt\n`), plain.stdout);
  });

  test("an encrypted key opens with its password file", async () => {
    const c = opensslCertificate(dir, "encrypted", "correct horse");
    assert.match(c.key, /BEGIN ENCRYPTED PRIVATE KEY/);
    const w = await start(["--tls-cert", c.certFile, "--tls-key", c.keyFile, "--tls-password-file", c.passwordFile]);
    assert.deepEqual(curl(`${w.url}nums.txt`, c.certFile, "--http2"), ["2", "200", "123456789"]);
  });

  test("the key may be in the certificate file, as Python allows", async () => {
    const c = opensslCertificate(dir, "combined");
    const both = join(dir, "both.pem");
    writeFileSync(both, c.cert + c.key);
    const w = await start(["--tls-cert", both]);
    assert.deepEqual(curl(`${w.url}nums.txt`, c.certFile), ["2", "200", "123456789"]);
  });

  test("an expired certificate is a warning, and still served", async () => {
    const made = await generateCertificate({
      dns: ["localhost"],
      ips: ["127.0.0.1"],
      notBefore: new Date("2020-01-01"),
      notAfter: new Date("2021-01-01"),
    });
    writeFileSync(join(dir, "old-cert.pem"), made.cert);
    writeFileSync(join(dir, "old-key.pem"), made.key);
    const w = await start(["--tls-cert", join(dir, "old-cert.pem"), "--tls-key", join(dir, "old-key.pem")]);
    assert.equal(w.stderr(), `wharf: warning: ${join(dir, "old-cert.pem")} expired on 2021-01-01: clients will refuse it\n`);
    const r = spawnSync("curl", ["-sS", "-k", `${w.url}nums.txt`], { encoding: "utf8" });
    assert.equal(r.stdout, "123456789");
  });

  const errors: { name: string; args: () => string[]; message: () => string }[] = [
    {
      name: "missing certificate file",
      args: () => ["--tls-cert", join(dir, "nope.pem")],
      message: () => `TLS certificate file not found: ${join(dir, "nope.pem")}`,
    },
    {
      name: "missing key file",
      args: () => ["--tls-cert", join(dir, "plain-cert.pem"), "--tls-key", join(dir, "nope-key.pem")],
      message: () => `TLS key file not found: ${join(dir, "nope-key.pem")}`,
    },
    {
      name: "a key that belongs to another certificate",
      args: () => ["--tls-cert", join(dir, "plain-cert.pem"), "--tls-key", join(dir, "combined-key.pem")],
      message: () =>
        `${join(dir, "combined-key.pem")} does not match ${join(dir, "plain-cert.pem")} (it is the key of another certificate)`,
    },
    {
      name: "an encrypted key without a password",
      args: () => ["--tls-cert", join(dir, "encrypted-cert.pem"), "--tls-key", join(dir, "encrypted-key.pem")],
      message: () => `${join(dir, "encrypted-key.pem")} is encrypted and no password was given`,
    },
    {
      name: "a wrong password",
      args: () => {
        writeFileSync(join(dir, "wrong.txt"), "battery staple\n");
        return [
          "--tls-cert",
          join(dir, "encrypted-cert.pem"),
          "--tls-key",
          join(dir, "encrypted-key.pem"),
          "--tls-password-file",
          join(dir, "wrong.txt"),
        ];
      },
      message: () => `wrong password for ${join(dir, "encrypted-key.pem")}`,
    },
    {
      name: "a file that is no certificate",
      args: () => ["--tls-cert", join(dir, "plain-key.pem"), "--tls-key", join(dir, "plain-key.pem")],
      message: () => `no PEM certificate in ${join(dir, "plain-key.pem")}`,
    },
    {
      name: "a missing password file",
      args: () => ["--tls-cert", join(dir, "encrypted-cert.pem"), "--tls-password-file", join(dir, "nope.txt")],
      message: () => `TLS password file not found: ${join(dir, "nope.txt")}`,
    },
  ];
  for (const row of errors) {
    test(`one line, exit 1: ${row.name}`, () => {
      const r = runOnce(row.args());
      assert.deepEqual(r, { status: 1, stdout: "", stderr: `wharf: ${row.message()}\n` });
    });
  }
});

describe("--tls (development certificate)", () => {
  test("made once, kept with a private key file, trusted by curl --cacert, reused on the next start", async () => {
    const certFile = join(dir, "config", "wharf", "dev-cert.pem");
    const first = await start(["--tls"]);
    assert.ok(first.stdout().includes(`development certificate ${certFile} (new)`), first.stdout());
    assert.ok(first.stdout().includes(`certificate SHA-256 ${opensslFingerprint(certFile)}`), first.stdout());
    assert.equal(statSync(join(dir, "config", "wharf", "dev-key.pem")).mode & 0o777, 0o600);
    assert.deepEqual(curl(`${first.url}nums.txt`, certFile, "--http2"), ["2", "200", "123456789"]);
    const sans = execFileSync("openssl", ["x509", "-in", certFile, "-noout", "-ext", "subjectAltName"], { encoding: "utf8" });
    for (const name of ["DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"]) assert.ok(sans.includes(name), sans);
    first.child.kill("SIGTERM");
    const before = readFileSync(certFile, "utf8");
    const second = await start(["--tls"]);
    assert.ok(second.stdout().includes(`development certificate ${certFile}\n`), `reused: ${second.stdout()}`);
    assert.equal(readFileSync(certFile, "utf8"), before);
  });

  test("the banner gives the SPKI hash Chromium needs and where docs/tls.md really is", async () => {
    const certFile = join(dir, "config", "wharf", "dev-cert.pem");
    const w = await start(["--tls"]);
    const spki = opensslSpki(certFile);
    assert.match(spki, /^[A-Za-z0-9+/]{43}=$/);
    assert.ok(w.stdout().includes(`\n  public key SPKI SHA-256 ${spki}\n`), w.stdout());
    const docs = new RegExp(
      `^  trust it: curl --cacert ${certFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}; browsers: see (\\S+)$`,
      "m",
    ).exec(w.stdout())?.[1];
    assert.ok(docs, w.stdout());
    // An absolute path to the file (here the checkout's docs/tls.md), never a bare relative one.
    assert.ok(docs.startsWith("/") && docs.endsWith("/docs/tls.md"), docs);
    assert.match(readFileSync(docs, "utf8"), /--ignore-certificate-errors-spki-list/);
  });

  test("with --workers, the primary makes it and every worker serves it", async () => {
    rmSync(join(dir, "config"), { recursive: true, force: true });
    const w = await start(["--tls", "--workers", "2"]);
    assert.match(w.stdout(), /\(new\)/);
    const ca = join(dir, "config", "wharf", "dev-cert.pem");
    for (let i = 0; i < 4; i++) assert.deepEqual(curl(`${w.url}nums.txt`, ca, "--http2"), ["2", "200", "123456789"]);
    w.child.kill("SIGTERM");
    assert.equal((await w.exited).code, 0);
  });
});
