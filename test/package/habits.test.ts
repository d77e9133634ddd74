/**
 * Issue 11's "commands that forgive habits", through the packed and installed
 * package as a new user runs it: the ways serve, sirv, http-server and Python
 * users name a folder and a port, and the mistakes that must be one line at
 * start-up rather than a surprise on the first request. The library's edges
 * (unknown option names, a missing root) from a scratch project that installed
 * the tarball.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { type Installed, installPacked, PACKAGE_NAME } from "../helpers/pack.js";

let pkg: Installed;
let site: string;

before(() => {
  pkg = installPacked();
  site = join(pkg.work, "dist");
  mkdirSync(site);
  writeFileSync(join(site, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(join(site, "hello.txt"), "hello");
});
after(() => {
  pkg?.remove();
});

/** Runs the installed bin to completion (for errors). */
function run(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  return runCli(args, { command: [pkg.bin], cwd: pkg.work, env });
}

/** Starts the installed bin (by its shebang) and resolves once its banner names the URL. */
function start(args: string[], env: NodeJS.ProcessEnv = process.env, cwd = pkg.work): Promise<RunningCli> {
  return startCli(args, { command: [pkg.bin], cwd, env });
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on("error", reject)
      .end();
  });
}

describe("the installed CLI takes a folder and a port as other servers' users type them", () => {
  const served: { name: string; args: () => string[] }[] = [
    { name: "wharf DIR (serve, sirv, http-server)", args: () => ["dist", "0", "-b", "127.0.0.1"] },
    { name: "wharf . from inside the folder", args: () => [".", "0", "-b", "127.0.0.1", "-d", "dist"] },
    { name: "-p PORT (http-server)", args: () => ["dist", "-p", "0", "-b", "127.0.0.1"] },
    { name: "--port PORT", args: () => ["--port", "0", "-b", "127.0.0.1", "dist"] },
    { name: "-l HOST:PORT (serve)", args: () => ["dist", "-l", "tcp://127.0.0.1:0"] },
    { name: "--dir (argparse's prefix of --directory)", args: () => ["--dir", "dist", "0", "-b", "127.0.0.1"] },
  ];
  for (const row of served) {
    test(row.name, async () => {
      const args = row.args();
      // "." with -d is an error (two directories): that row checks the error instead.
      if (args[0] === ".") {
        const r = run(args);
        assert.equal(r.status, 2, r.stderr);
        assert.equal(r.stderr, "wharf: two directories: '.' and -d 'dist'\nTry 'wharf --help'.\n");
        return;
      }
      const { url, stop } = await start(args);
      try {
        const res = await get(`${url}hello.txt`);
        assert.equal(res.status, 200);
        assert.equal(res.body, "hello");
      } finally {
        await stop("SIGTERM");
      }
    });
  }

  test("wharf . serves the working directory", async () => {
    const { url, stop } = await start([".", "0", "-b", "127.0.0.1"], process.env, site);
    try {
      assert.equal((await get(`${url}hello.txt`)).body, "hello");
    } finally {
      await stop("SIGTERM");
    }
  });

  test("-p HTTP/1.0 (Python's --protocol) closes each connection after its response", async () => {
    const { url, stop } = await start(["dist", "-p", "HTTP/1.0", "--port", "0", "-b", "127.0.0.1"]);
    try {
      const res = await get(`${url}hello.txt`, { connection: "keep-alive" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.connection, "close");
    } finally {
      await stop("SIGTERM");
    }
    const { url: url11, stop: stop11 } = await start(["dist", "--protocol", "HTTP/1.1", "--port", "0", "-b", "127.0.0.1"]);
    try {
      const res = await get(`${url11}hello.txt`, { connection: "keep-alive" });
      assert.equal(res.headers.connection, "keep-alive");
    } finally {
      await stop11("SIGTERM");
    }
  });
});

describe("the installed CLI explains itself and writes nothing unasked", () => {
  test("--help says the SPA fallback answers HTML navigations only (why curl gets 404)", () => {
    const r = run(["--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /single-page apps \(-s\):\n {2}The fallback answers HTML navigations only/);
    assert.match(r.stdout, /curl http:\/\/localhost:8000\/deep\/link` gets 404/);
  });

  test("precompress without a folder prints usage, exits 2 and writes nothing", () => {
    const before = readdirSync(pkg.work).sort();
    const r = run(["precompress"]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^wharf: precompress: which folder\?/);
    assert.match(r.stderr, /usage: wharf precompress \[options\] DIR/);
    assert.deepEqual(readdirSync(pkg.work).sort(), before, "nothing written in the working directory");
  });

  test("precompress --dry-run lists and writes nothing; a run skips node_modules and ends with a summary", () => {
    const tree = join(pkg.work, "pc");
    mkdirSync(join(tree, "node_modules", "dep"), { recursive: true });
    writeFileSync(join(tree, "app.js"), "export const x = 1;\n".repeat(200));
    writeFileSync(join(tree, "node_modules", "dep", "index.js"), "module.exports = 1;\n".repeat(200));
    const dry = run(["precompress", "--dry-run", tree]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout + dry.stderr, /app\.js\.br/);
    assert.deepEqual(readdirSync(tree).sort(), ["app.js", "node_modules"], "a dry run writes nothing");
    const real = run(["precompress", tree]);
    assert.equal(real.status, 0, real.stderr);
    assert.ok(readdirSync(tree).includes("app.js.br") && readdirSync(tree).includes("app.js.gz"), readdirSync(tree).join(" "));
    assert.deepEqual(readdirSync(join(tree, "node_modules", "dep")), ["index.js"], "node_modules skipped");
    assert.match(
      real.stdout + real.stderr,
      /^1 compressible file: wrote 2 sidecars, 0 up to date, 0 not smaller; best codings save [\d.]+ KiB of [\d.]+ KiB \(\d+%\)$/m,
    );
  });
});

describe("mistakes are one line and an exit code at start-up", () => {
  const rows: { name: string; args: string[]; status: number; stderr: RegExp }[] = [
    {
      name: "a folder that is not there",
      args: ["dsit", "0"],
      status: 2,
      stderr: /^wharf: no directory 'dsit' \(a port is a whole number from 0 to 65535\)\nTry 'wharf --help'\.\n$/,
    },
    {
      name: "-s naming a missing file",
      args: ["dist", "-s", "app.html", "0", "-b", "127.0.0.1"],
      status: 2,
      stderr: /^wharf: -s\/--single app\.html: no such file in .*dist\n$/,
    },
    {
      name: "--404 naming a missing file",
      args: ["dist", "--404", "missing.html", "0", "-b", "127.0.0.1"],
      status: 2,
      stderr: /^wharf: --404 missing\.html: no such file in .*dist\n$/,
    },
    {
      name: "an empty --single=",
      args: ["dist", "--single="],
      status: 2,
      stderr: /^wharf: invalid --single=: name a file \(--single=app\.html\), or give -s alone for index\.html\nTry 'wharf --help'\.\n$/,
    },
    {
      name: "--cors without a scheme",
      args: ["--cors", "example.com", "dist"],
      status: 2,
      stderr: /^wharf: invalid --cors 'example\.com': an origin has a scheme, like https:\/\/example\.com\nTry 'wharf --help'\.\n$/,
    },
    {
      name: "a host name that does not resolve",
      args: ["dist", "0", "-b", "nosuchhost.invalid"],
      status: 1,
      stderr: /^wharf: cannot resolve host name nosuchhost\.invalid\n$/,
    },
    {
      name: "another server's flag",
      args: ["--host", "0.0.0.0"],
      status: 2,
      stderr: /^wharf: unknown option '--host'; wharf uses -b\/--bind ADDR\nTry 'wharf --help'\.\n$/,
    },
    { name: "a typo", args: ["--follow-symlink"], status: 0, stderr: /^$/ },
    {
      name: "a typo past a prefix",
      args: ["--follow-simlinks"],
      status: 2,
      stderr: /^wharf: unknown option '--follow-simlinks'; did you mean --follow-symlinks\?\nTry 'wharf --help'\.\n$/,
    },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      if (row.status === 0) {
        // An unambiguous prefix is simply accepted: the server starts.
        const { stop } = await start([...row.args, "dist", "0", "-b", "127.0.0.1"]);
        await stop("SIGTERM");
        return;
      }
      const r = run(row.args);
      assert.equal(r.status, row.status, `stderr: ${r.stderr}`);
      assert.match(r.stderr, row.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    });
  }

  test("-o says so when the browser opener fails (xdg-open present, exiting 3)", async () => {
    const fake = join(pkg.work, "fakebin");
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, "xdg-open"), "#!/bin/sh\necho 'xdg-open: no method available for opening' >&2\nexit 3\n");
    chmodSync(join(fake, "xdg-open"), 0o755);
    const env = { ...process.env, PATH: `${fake}:${process.env["PATH"] ?? ""}` };
    const { url, stderr, err, stop } = await start(["dist", "0", "-b", "127.0.0.1", "-o"], env);
    try {
      // Wait for the line (an event, not a time): the opener exits at once.
      assert.ok(await err.until(/could not open a browser/), `no line: ${stderr()}`);
      assert.equal(stderr(), `wharf: could not open a browser (xdg-open exited with 3); open ${url} yourself\n`);
    } finally {
      await stop("SIGTERM");
    }
  });
});

describe("the installed library catches wrong input at construction", () => {
  const script = (body: string): string =>
    execFileSync(
      process.execPath,
      ["--input-type=module", "-e", `import { createHandler, serve } from ${JSON.stringify(PACKAGE_NAME)};\n${body}`],
      { cwd: pkg.project, encoding: "utf8" },
    ).trim();
  const rows: { name: string; call: string; want: string }[] = [
    {
      name: "an unknown option name",
      call: `createHandler({ root: ".", rooot: "x" })`,
      want: `OptionError wharf: option "rooot" is not an option (did you mean "root"?)`,
    },
    {
      name: "another server's option name",
      call: `createHandler({ root: ".", spa: true })`,
      want: `OptionError wharf: option "spa" is not an option`,
    },
    {
      name: "a missing root",
      call: `createHandler({ root: "no-such-dir" })`,
      want: `OptionError wharf: option "root" directory not found: ${"PROJECT"}/no-such-dir`,
    },
    {
      name: "a file as root",
      call: `createHandler({ root: "package.json" })`,
      want: `OptionError wharf: option "root" not a directory: ${"PROJECT"}/package.json`,
    },
    {
      name: "serve() with an unknown option",
      call: `await serve({ root: ".", port: 0, hots: "x" })`,
      want: `OptionError wharf: option "hots" is not an option (did you mean "host"?)`,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = script(`try { ${row.call}; console.log("accepted"); } catch (e) { console.log(e.name, e.message); }`);
      assert.equal(got, row.want.replace("PROJECT", pkg.project));
    });
  }
  test("a good call is accepted", () => {
    assert.equal(script(`createHandler({ root: "." }); console.log("accepted");`), "accepted");
  });
});
