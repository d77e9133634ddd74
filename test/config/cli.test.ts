/**
 * The built `wharf` as a person runs it: configuration files and variables, the
 * default port moving on, the banner, --open, log formats, and Basic auth with
 * the real curl and wget.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import { type RunningCli, runCli, startCli, stopAll } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-config-cli-"));
const site = join(dir, "site");
mkdirSync(site);
writeFileSync(join(site, "nums.txt"), "123456789");
writeFileSync(join(site, "index.html"), "<p>home</p>");
// Apache htpasswd 2.4.71, `-cbB -C 5 bee b-pass` and `-bs sha 'söme pass'`.
writeFileSync(
  join(dir, "htpasswd"),
  "bee:$2y$05$Y8SwRTDGTeqIEw0CfcFWDeHTzp1qAVohffBfAS2hOoXFaa/D79fFm\nsha:{SHA}lkdQfQhFgU2CdvHc5IY7mmK0fAI=\n",
);
after(() => rmSync(dir, { recursive: true, force: true }));

afterEach(stopAll);

/** Starts wharf (in `dir` unless told) and waits for its banner. */
function start(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunningCli> {
  return startCli(args, { cwd: dir, ...options });
}

function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runCli(args, { cwd: dir, ...options });
}

function exec(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
    ),
  );
}

describe("configuration", () => {
  test("a wharf.json in the working directory", async () => {
    const cwd = join(dir, "with-config");
    mkdirSync(cwd, { recursive: true });
    writeFileSync(
      join(cwd, "wharf.json"),
      JSON.stringify({ directory: "../site", single: true, headers: [{ source: "**", headers: { "X-From": "config" } }] }),
    );
    const w = await start(["0", "-b", "127.0.0.1", "-q"], { cwd });
    assert.match(w.stdout(), /config: .*wharf\.json/);
    assert.match(w.stdout(), /features: spa, headers, compression/);
    const res = await fetch(`${w.url}deep/link`, { headers: { accept: "text/html" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-from"), "config");
    assert.equal(await res.text(), "<p>home</p>");
  });
  test("a bad wharf.json is one line and exit 2", () => {
    const cwd = join(dir, "bad-config");
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, "wharf.json"), JSON.stringify({ cors: { origins: ["nope"] } }));
    const r = run(["0"], { cwd });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'wharf: wharf.json: cors.origins[0]: "nope" must be scheme://host[:port], no path\n');
  });
  test("serve.json in the served directory: notes on stderr, one per key", async () => {
    const served = join(dir, "serve-site");
    mkdirSync(served, { recursive: true });
    writeFileSync(join(served, "about.html"), "<p>about</p>");
    writeFileSync(join(served, "serve.json"), JSON.stringify({ renderSingle: true, etag: false }));
    const w = await start(["0", "-b", "127.0.0.1", "-q", "-d", served]);
    // Stderr and stdout are separate pipes: the notes may arrive after the banner.
    await w.err.until(/Last-Modified\)\n/);
    assert.equal(
      w.stderr(),
      "wharf: serve.json: renderSingle is not supported; ignored\nwharf: serve.json: etag: false: wharf always sends an ETag (and Last-Modified)\n",
    );
    assert.equal(await (await fetch(`${w.url}about`)).text(), "<p>about</p>"); // serve's clean URLs
    assert.equal((await fetch(`${w.url}serve.json`)).status, 404); // never served
  });
  test("PORT, and a flag over it", async () => {
    const probe = createServer();
    await new Promise<void>((res) => probe.listen(0, "127.0.0.1", res));
    const free = (probe.address() as { port: number }).port;
    await new Promise((res) => probe.close(res));
    const w = await start(["-b", "127.0.0.1", "-q"], { env: { PORT: String(free) } });
    assert.equal(w.port, free);
    w.child.kill("SIGKILL");
    const flag = await start(["0", "-b", "127.0.0.1", "-q"], { env: { PORT: String(free) } });
    assert.notEqual(flag.port, free);
  });
  test("a bad PORT is exit 2", () => {
    const r = run([], { env: { PORT: "eighty" } });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "wharf: invalid PORT 'eighty': must be a whole number from 0 to 65535\n");
  });
});

describe("ports and banner", () => {
  test("the default port moves on when busy, and says so", async (t) => {
    const holder: Server = createServer();
    const held = await new Promise<boolean>((res) => {
      holder.once("error", () => res(false));
      holder.listen(8000, "127.0.0.1", () => res(true));
    });
    if (!held) return t.skip("port 8000 is taken by something else");
    try {
      const w = await start(["-b", "127.0.0.1", "-q", "-d", site]);
      assert.match(w.stdout(), /^port 8000 is in use; serving on 80\d\d\n/);
      assert.notEqual(w.port, 8000);
    } finally {
      await new Promise((res) => holder.close(res));
    }
  });
  test("--open runs the system's opener, and a missing one is only a warning", async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    const opened = join(dir, "opened.txt");
    writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\necho "$@" > "${opened}"\n`);
    chmodSync(join(bin, "xdg-open"), 0o755);
    const w = await start(["0", "-b", "127.0.0.1", "-q", "-o", "-d", site], { env: { PATH: `${bin}:${process.env["PATH"]}` } });
    // The script may have created the file and not yet written to it.
    const written = (): string => (existsSync(opened) ? readFileSync(opened, "utf8") : "");
    await waitFor(() => written().endsWith("\n"));
    assert.equal(written().trim(), w.url);
    const none = await start(["0", "-b", "127.0.0.1", "-q", "-o", "-d", site], { env: { PATH: "/nonexistent" } });
    await none.err.until(/could not open/);
    assert.match(none.stderr(), /wharf: could not open a browser \(xdg-open: ENOENT\); open http:\/\/127\.0\.0\.1:\d+\/ yourself/);
    assert.equal((await fetch(`${none.url}nums.txt`)).status, 200); // still serving
  });
});

describe("access log formats", () => {
  const rows: [string, RegExp][] = [
    ["common", /^127\.0\.0\.1 - bee \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/nums\.txt HTTP\/1\.1" 200 9$/m],
    ["combined", /^127\.0\.0\.1 - bee \[[^\]]+\] "GET \/nums\.txt HTTP\/1\.1" 200 9 "http:\/\/ref\.example\/" "test-agent"$/m],
    [
      "json",
      /^\{"time":"[^"]+","remote":"127\.0\.0\.1","method":"GET","target":"\/nums\.txt","protocol":"HTTP\/1\.1","status":200,"bytes":9,"durationMs":[\d.]+,"user":"bee","referer":"http:\/\/ref\.example\/","userAgent":"test-agent"\}$/m,
    ],
    ["dev", /^GET \/nums\.txt 200 [\d.]+ms - 9 B$/m],
  ];
  for (const [format, want] of rows) {
    test(format, async () => {
      // The user is logged once --auth accepted it (issue 10, item 18), never merely because a header named one.
      const w = await start(["0", "-b", "127.0.0.1", "--log-format", format, "--auth", "bee:x", "-d", site]);
      await (
        await fetch(`${w.url}nums.txt`, {
          headers: {
            referer: "http://ref.example/",
            "user-agent": "test-agent",
            authorization: `Basic ${Buffer.from("bee:x").toString("base64")}`,
          },
        })
      ).text();
      await w.err.until(/nums/);
      assert.match(w.stderr(), want);
      assert.doesNotMatch(w.stderr(), /\x1b/); // not a terminal: no colour
    });
  }
});

describe("basic auth with real clients", () => {
  test("refused on every interface without TLS; --insecure-auth or loopback allow it", async () => {
    const r = run(["0", "--auth", "a:b", "-d", site]);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      'wharf: option "auth" would send passwords in clear text to every interface: use -b localhost, --tls, or --insecure-auth if the network is trusted\n',
    );
    const insecure = await start(["0", "-b", "0.0.0.0", "--auth", "a:b", "--insecure-auth", "-q", "-d", site]);
    assert.equal((await fetch(`http://127.0.0.1:${insecure.port}/nums.txt`)).status, 401);
  });
  test("curl -u and wget --user/--password, against an htpasswd file", async () => {
    const w = await start(["0", "-b", "127.0.0.1", "-q", "--auth-file", join(dir, "htpasswd"), "-d", site]);
    const url = `${w.url}nums.txt`;
    const anonymous = await exec("curl", ["-s", "-i", url]);
    assert.match(anonymous.stdout, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(anonymous.stdout, /\r\nWWW-Authenticate: Basic realm="wharf", charset="UTF-8"\r\n/i);
    assert.equal((await exec("curl", ["-s", "-f", "-u", "bee:b-pass", url])).stdout, "123456789");
    assert.equal((await exec("curl", ["-s", "-f", "-u", "sha:söme pass", url])).stdout, "123456789");
    assert.equal((await exec("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "bee:wrong", url])).stdout, "401");
    // wget sends credentials only after the 401 challenge: the challenge must be right.
    const got = await exec("wget", ["-q", "-O", "-", "--user=bee", "--password=b-pass", url]);
    assert.deepEqual([got.code, got.stdout], [0, "123456789"]);
    const refused = await exec("wget", ["-q", "-O", "-", "--user=bee", "--password=nope", url]);
    assert.equal(refused.code, 6); // wget: "Username/password authentication failure"
  });
  test("WHARF_AUTH keeps the password out of ps", async () => {
    const w = await start(["0", "-b", "127.0.0.1", "-q", "-d", site], { env: { WHARF_AUTH: "env:pw" } });
    assert.equal((await exec("curl", ["-s", "-f", "-u", "env:pw", `${w.url}nums.txt`])).stdout, "123456789");
  });
});
