// Runs the built `wharf` binary (dist/cli/bin.js) as a person would.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get, type IncomingMessage } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { BIN, REPO, type RunningCli, runCli, startCli, stopAll } from "../helpers/cli.js";
import { canListen } from "../helpers/net.js";

const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
const BIG = 16 * 1024 * 1024;
const HINT = "Try 'wharf --help'.\n";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-cli-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  writeFileSync(join(dir, "big.bin"), Buffer.alloc(BIG, 0x62));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const hasIPv6Loopback = await canListen("::1");

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runCli(args);
}

function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `stack trace in ${JSON.stringify(text)}`);
}

afterEach(stopAll);

/** Starts wharf and waits for its startup lines. */
const start = (args: string[]): Promise<RunningCli> => startCli(args);

function fetchBody(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

describe("wharf, one-shot", () => {
  test("--help", () => {
    const r = run(["--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage: wharf /);
    for (const flag of ["--bind", "--directory", "--quiet", "--dotfiles", "--follow-symlinks", "--no-listing", "--version"]) {
      assert.ok(r.stdout.includes(flag), `help lacks ${flag}`);
    }
    assert.equal(r.stderr, "");
  });

  for (const flag of ["--version", "-V"]) {
    test(flag, () => assert.deepEqual(run([flag]), { status: 0, stdout: `wharf ${VERSION}\n`, stderr: "" }));
  }

  const usageErrors: { argv: string[]; message: string }[] = [
    { argv: ["--bogus"], message: "unknown option '--bogus'" },
    { argv: ["99999"], message: "invalid port '99999': must be a whole number from 0 to 65535" },
    { argv: ["abc"], message: "no directory 'abc' (a port is a whole number from 0 to 65535)" },
    { argv: ["8000", "9000"], message: "unexpected argument '9000' (the port is already 8000)" },
    { argv: ["--bind"], message: "option -b/--bind needs a value: --bind ADDR" },
  ];
  for (const row of usageErrors) {
    test(`usage error: ${row.argv.join(" ")}`, () => {
      const r = run(row.argv);
      assert.deepEqual(r, { status: 2, stdout: "", stderr: `wharf: ${row.message}\n${HINT}` });
    });
  }

  test("missing directory", () => {
    const missing = join(dir, "nope");
    const r = run(["0", "-b", "127.0.0.1", "-d", missing]);
    assert.deepEqual(r, { status: 1, stdout: "", stderr: `wharf: directory not found: ${missing}\n` });
  });

  test("port in use", async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      // Asynchronous: the blocker must keep accepting while wharf tries to bind.
      const child = spawn(process.execPath, [BIN, String(port), "-b", "127.0.0.1", "-d", dir], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const code = await new Promise((resolve) => child.on("exit", resolve));
      assert.equal(code, 1);
      assert.equal(stderr, `wharf: port ${port} is already in use on 127.0.0.1\n`);
      assertNoStack(stderr);
    } finally {
      blocker.close();
    }
  });
});

describe("wharf, serving", () => {
  test("serves a file, logs it, and exits 0 on SIGTERM", async () => {
    const w = await start(["0", "--bind", "127.0.0.1", "-d", dir]);
    assert.equal(w.url, `http://127.0.0.1:${w.port}/`);
    assert.equal(w.stdout(), `Serving ${dir} at ${w.url} (bound to 127.0.0.1:${w.port})\n  features: compression\nPress Ctrl+C to stop.\n`);
    const r = await fetchBody(`${w.url}nums.txt`);
    assert.deepEqual([r.status, r.body.toString("latin1")], [200, "123456789"]);
    assert.ok(await w.err.until(/\n/), "no log line");
    assert.match(w.stderr(), /^\d{4}-\d\d-\d\dT[\d:.]+Z 127\.0\.0\.1 "GET \/nums\.txt HTTP\/1\.1" 200 9 [\d.]+ms\n$/);
    w.child.kill("SIGTERM");
    assert.deepEqual(await w.exited, { code: 0, signal: null });
    assert.match(w.stderr(), /\nwharf: shutting down\n$/);
  });

  test("--quiet writes no access log", async () => {
    const w = await start(["0", "-q", "-b", "127.0.0.1", "-d", dir]);
    assert.equal((await fetchBody(`${w.url}nums.txt`)).status, 200);
    w.child.kill("SIGINT");
    assert.deepEqual(await w.exited, { code: 0, signal: null });
    assert.equal(w.stderr(), "wharf: shutting down\n");
  });

  /** Starts a download of big.bin and holds it after the headers, so it stays in flight. */
  async function slowDownload(url: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      get(`${url}big.bin`, { agent: false }, (res) => resolve(res.pause())).on("error", reject);
    });
  }

  test("SIGTERM lets an in-flight response finish", async () => {
    const w = await start(["0", "-q", "-b", "127.0.0.1", "-d", dir]);
    const res = await slowDownload(w.url);
    w.child.kill("SIGTERM");
    assert.ok(await w.err.until(/shutting down/), "no shutdown line");
    assert.equal(w.stderr(), "wharf: shutting down (waiting up to 10s for 1 response)\n");
    let received = 0;
    await new Promise((resolve, reject) =>
      res
        .on("data", (c: Buffer) => (received += c.length))
        .on("end", resolve)
        .on("error", reject)
        .resume(),
    );
    assert.equal(received, BIG);
    assert.deepEqual(await w.exited, { code: 0, signal: null });
  });

  test("a second signal exits at once with 130", async () => {
    const w = await start(["0", "-q", "-b", "127.0.0.1", "-d", dir]);
    const res = await slowDownload(w.url);
    res.on("error", () => undefined);
    w.child.kill("SIGTERM");
    assert.ok(await w.err.until(/shutting down/), "no shutdown line");
    w.child.kill("SIGINT");
    assert.deepEqual(await w.exited, { code: 130, signal: null });
    res.destroy();
  });

  // Every row needs IPv6 loopback to show what it is for; without it, the fallbacks
  // (127.0.0.1 alone, 0.0.0.0) are covered by the rows above.
  const binds: { name: string; args: string[]; hosts: string[]; first: (port: number) => string }[] = [
    {
      name: "--bind ::1",
      args: ["--bind", "::1"],
      hosts: ["[::1]"],
      first: (p) => `Serving ${dir} at http://[::1]:${p}/ (bound to [::1]:${p})`,
    },
    {
      name: "--bind localhost",
      args: ["--bind", "localhost"],
      hosts: ["127.0.0.1", "[::1]"],
      first: (p) => `Serving ${dir} at http://localhost:${p}/ (bound to 127.0.0.1:${p} and [::1]:${p})`,
    },
    {
      name: "default (dual-stack)",
      args: [],
      hosts: ["127.0.0.1", "[::1]"],
      first: (p) => `Serving ${dir} at http://localhost:${p}/ (bound to [::]:${p}, IPv6 and IPv4)`,
    },
  ];
  for (const row of binds) {
    test(`serves with ${row.name}`, { skip: !hasIPv6Loopback && "no IPv6 loopback" }, async () => {
      const w = await start(["0", "-q", "-d", dir, ...row.args]);
      assert.equal(w.stdout().split("\n")[0], row.first(w.port));
      for (const host of row.hosts) {
        const r = await fetchBody(`http://${host}:${w.port}/nums.txt`);
        assert.equal(r.body.toString("latin1"), "123456789", `via ${host}`);
      }
      w.child.kill("SIGTERM");
      assert.deepEqual(await w.exited, { code: 0, signal: null });
    });
  }
});
