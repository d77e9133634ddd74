/**
 * The command line's side of issue 15 item 1: SIGTERM drains for
 * `--shutdown-delay` (readiness 503, files still served), Ctrl+C (SIGINT) skips
 * the delay, and `wharf healthcheck [URL]` exits 0 or 1 from the same flags and
 * variables the server reads.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { probeUrl } from "../../src/cli/healthcheck.js";
import { READYZ } from "../../src/server/health.js";
import { BIN, runCli, startCli } from "../helpers/cli.js";
import { rawRequest } from "../helpers/raw.js";
import { opensslCertificate } from "../helpers/tls.js";
import { collect, within } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-cli-health-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "index.html"), "<p>home</p>");

/** `wharf healthcheck ...args`, asynchronously (the server under test runs in another process). */
function healthcheck(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, "healthcheck", ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout: out.text(), stderr: err.text() })));
}

describe("SIGTERM drains, Ctrl+C does not wait", () => {
  test("SIGTERM with --shutdown-delay: readyz 503, files 200, one line; a second signal exits now", async () => {
    // A minute's delay: the test ends long before it, by the second signal.
    const cli = await startCli([dir, "-p", "0", "-b", "127.0.0.1", "--health", "--shutdown-delay", "60", "-q"]);
    assert.equal((await rawRequest(cli.port, "GET", READYZ)).status, 200);
    cli.child.kill("SIGTERM");
    assert.ok(await cli.err.until(/draining: not ready, serving 60s more, then shutting down/), cli.stderr());
    const ready = await rawRequest(cli.port, "GET", READYZ);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.toString(), "draining\n");
    const page = await rawRequest(cli.port, "GET", "/");
    assert.equal(page.status, 200);
    assert.equal(page.body.toString(), "<p>home</p>");
    const check = await healthcheck(["-p", String(cli.port), "-b", "127.0.0.1"]);
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stderr, /503 draining/);
    // Still serving, so still running: the second signal is the way out (128 + SIGINT).
    assert.equal(cli.child.exitCode, null);
    cli.child.kill("SIGINT");
    assert.deepEqual(await within(cli.exited, "still running", { deadline: 15_000 }), { code: 130, signal: null });
  });

  test("SIGINT (Ctrl+C) skips the delay: exits 0 long before it", async () => {
    const cli = await startCli([dir, "-p", "0", "-b", "127.0.0.1", "--health", "--shutdown-delay", "60", "-q"]);
    cli.child.kill("SIGINT");
    assert.deepEqual(await within(cli.exited, "still running", { deadline: 15_000 }), { code: 0, signal: null });
    assert.match(cli.stderr(), /^wharf: shutting down$/m);
  });

  test("SIGTERM with a short delay: serves, then exits 0 on its own", async () => {
    const cli = await startCli([dir, "-p", "0", "-b", "127.0.0.1", "--health", "--shutdown-delay", "0.5", "-q"]);
    cli.child.kill("SIGTERM");
    assert.deepEqual(await within(cli.exited, "still running", { deadline: 15_000 }), { code: 0, signal: null });
  });

  test("--workers: SIGTERM drains every worker", async () => {
    const cli = await startCli([dir, "-p", "0", "-b", "127.0.0.1", "--workers", "2", "--health", "--shutdown-delay", "60", "-q"]);
    cli.child.kill("SIGTERM");
    assert.ok(await cli.err.until(/draining/), cli.stderr());
    // Connection: close on each, so the kernel spreads them over both workers.
    const statuses = new Set<number>();
    for (let i = 0; i < 8; i++) statuses.add((await rawRequest(cli.port, "GET", READYZ)).status);
    assert.deepEqual([...statuses], [503]);
    assert.equal((await rawRequest(cli.port, "GET", "/")).status, 200);
    cli.child.kill("SIGINT");
    assert.notEqual(await within(cli.exited, "still running", { deadline: 15_000 }), "still running");
  });
});

describe("wharf healthcheck", () => {
  test("the default URL: readyz on the loopback of a wildcard bind, the address given, https with TLS", () => {
    const rows: { settings: Parameters<typeof probeUrl>[0]; want: string }[] = [
      { settings: { https: false }, want: "http://127.0.0.1:8000/__wharf/readyz" },
      { settings: { port: 3000, host: "::", https: false }, want: "http://127.0.0.1:3000/__wharf/readyz" },
      { settings: { port: 3000, host: "0.0.0.0", https: false }, want: "http://127.0.0.1:3000/__wharf/readyz" },
      { settings: { port: 3000, host: "localhost", https: true }, want: "https://127.0.0.1:3000/__wharf/readyz" },
      { settings: { port: 3000, host: "::1", https: false }, want: "http://[::1]:3000/__wharf/readyz" },
      { settings: { port: 3000, host: "[::1]", https: false }, want: "http://[::1]:3000/__wharf/readyz" },
      { settings: { port: 80, host: "10.0.0.5", https: false }, want: "http://10.0.0.5:80/__wharf/readyz" },
    ];
    for (const r of rows) assert.equal(probeUrl(r.settings), r.want, JSON.stringify(r.settings));
  });

  test("exit 0 for a ready server: by URL, by -p, and by PORT as in a container", async () => {
    const cli = await startCli([dir, "-p", "0", "-b", "127.0.0.1", "--health", "-q"]);
    const byUrl = await healthcheck([`http://127.0.0.1:${cli.port}${READYZ}`]);
    assert.equal(byUrl.code, 0, byUrl.stderr);
    assert.equal(byUrl.stdout, `http://127.0.0.1:${cli.port}${READYZ}: 200 ok\n`);
    const byFlag = await healthcheck(["-p", String(cli.port)]);
    assert.equal(byFlag.code, 0, byFlag.stderr);
    const byEnv = await healthcheck([], { PORT: String(cli.port), WHARF_PORT: undefined });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    const livez = await healthcheck([`http://127.0.0.1:${cli.port}/__wharf/livez`]);
    assert.equal(livez.code, 0, livez.stderr);
  });

  test("https with --tls-cert (the certificate not checked), and wharf.json's port", async () => {
    const cert = opensslCertificate(dir, "probe");
    const cli = await startCli([
      dir,
      "-p",
      "0",
      "-b",
      "127.0.0.1",
      "--health",
      "-q",
      "--tls-cert",
      cert.certFile,
      "--tls-key",
      cert.keyFile,
    ]);
    const got = await healthcheck(["-p", String(cli.port), "--tls-cert", cert.certFile, "--tls-key", cert.keyFile]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, `https://127.0.0.1:${cli.port}${READYZ}: 200 ok\n`);
    // The same server asked over plain HTTP: the TLS port's 307 to https is not a 2xx.
    assert.equal((await healthcheck(["-p", String(cli.port)])).code, 1);
    // The configuration file in the working directory gives the port, as it would the server's.
    const conf = mkdtempSync(join(tmpdir(), "wharf-cli-health-conf-"));
    try {
      writeFileSync(join(conf, "wharf.json"), JSON.stringify({ port: cli.port, health: true }));
      const byFile = spawn(process.execPath, [BIN, "healthcheck", "--tls-cert", cert.certFile, "--tls-key", cert.keyFile], {
        cwd: conf,
        env: { ...process.env, PORT: undefined, WHARF_PORT: undefined },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out = collect(byFile.stdout);
      const code = await new Promise((resolve) => byFile.once("close", resolve));
      assert.equal(code, 0, out.text());
    } finally {
      rmSync(conf, { recursive: true, force: true });
    }
  });

  test("exit 1 when --health is off (404), saying so", async () => {
    const cli = await startCli([dir, "-p", "0", "-b", "127.0.0.1", "-q"]);
    const got = await healthcheck(["-p", String(cli.port)]);
    assert.equal(got.code, 1);
    assert.match(got.stderr, /: 404 .*\nwharf healthcheck: is wharf running with --health\?\n$/);
  });

  test("exit 1 when nothing listens", async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const got = await healthcheck([`http://127.0.0.1:${free}${READYZ}`]);
    assert.equal(got.code, 1);
    assert.match(got.stderr, /ECONNREFUSED/);
  });

  test("exit 1 within --timeout when the server never answers", async () => {
    // Accepts the connection and says nothing.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const got = await healthcheck([`http://127.0.0.1:${port}/`, "--timeout", "0.3"]);
      assert.equal(got.code, 1);
      assert.match(got.stderr, /no answer within 0\.3s/);
    } finally {
      silent.close();
    }
  });

  test("the answer's line is printed with its control characters escaped", async () => {
    // Something else answers on the port: a 503 whose body holds terminal escapes.
    const { createServer: httpServer } = await import("node:http");
    const hostile = httpServer((_req, res) => res.writeHead(503, { "content-type": "text/plain" }).end("\x1b]0;pwned\x07\x1b[2Jdown\r\n"));
    await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
    try {
      const port = (hostile.address() as { port: number }).port;
      const got = await healthcheck([`http://127.0.0.1:${port}/`]);
      assert.equal(got.code, 1);
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(got.stderr), `raw control characters: ${JSON.stringify(got.stderr)}`);
      assert.match(got.stderr, /: 503 \\x1b\]0;pwned\\x07\\x1b\[2Jdown\n$/);
    } finally {
      hostile.close();
    }
  });

  test("usage errors exit 1, never 2 (Docker reserves 2)", () => {
    for (const args of [["--timeout", "x"], ["--no-such-flag"], ["not a url%"]]) {
      const got = runCli(["healthcheck", ...args], { cwd: dir });
      assert.equal(got.status, 1, `${args.join(" ")}: ${got.stderr}`);
    }
    const help = runCli(["healthcheck", "--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: wharf healthcheck \[URL\]/);
  });
});

describe("the flags", () => {
  const rows: { args: string[]; want: Record<string, unknown> | string }[] = [
    { args: ["--health"], want: { health: true } },
    { args: ["--health", "--log-health"], want: { health: true, logHealth: true } },
    { args: ["--shutdown-delay", "5"], want: { shutdownDelay: 5000 } },
    { args: ["--shutdown-delay", "0.25"], want: { shutdownDelay: 250 } },
    { args: ["--shutdown-delay", "soon"], want: "invalid --shutdown-delay 'soon': must be seconds, like 10 or 2.5" },
    { args: ["--trust-proxy", "loopback, 10.0.0.0/8"], want: { trustProxy: ["loopback", "10.0.0.0/8"] } },
    { args: ["--trust-proxy", "loopback", "--trust-proxy", "::1"], want: { trustProxy: ["loopback", "::1"] } },
    {
      args: ["--trust-proxy", "10.0.0.0/99"],
      want: "invalid --trust-proxy '10.0.0.0/99': '10.0.0.0/99' is not an address, a CIDR range, 'loopback' or 'private'",
    },
    { args: ["--trust-proxy", ","], want: "invalid --trust-proxy ',': name addresses, CIDR ranges, 'loopback' or 'private'" },
    { args: ["--client-ip-header", "X-Real-IP"], want: { clientIpHeader: "x-real-ip" } },
    { args: ["--client-ip-header", "x real"], want: "invalid --client-ip-header 'x real': 'x real' is not a header name" },
  ];
  for (const r of rows) {
    test(r.args.join(" "), async () => {
      const { parseCommandLine } = await import("../../src/cli/flags.js");
      const got = parseCommandLine(r.args);
      if (typeof r.want === "string") assert.deepEqual(got, { kind: "error", message: r.want });
      else {
        assert.equal(got.kind, "run", JSON.stringify(got));
        if (got.kind === "run") assert.deepEqual(got.options, r.want);
      }
    });
  }

  test("--client-ip-header without --trust-proxy is refused at startup (exit 2)", () => {
    const got = runCli([dir, "-p", "0", "--client-ip-header", "x-real-ip"]);
    assert.equal(got.status, 2);
    assert.match(got.stderr, /clientIpHeader.*needs trustProxy/);
  });
});
