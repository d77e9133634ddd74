// `--workers N`: N processes on one port, one banner, graceful shutdown of all.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import type { Worker } from "node:cluster";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { living } from "../../src/cli/workers.js";
import { reusePortAvailable } from "../../src/server/bind.js";
import { BIN, startCli } from "../helpers/cli.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-workers-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The pids of `pid`'s children. */
function children(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

describe("living: the workers a shutting-down primary still waits for", () => {
  // Node lists a worker in cluster.workers until its process has exited *and* its
  // IPC channel has closed; the 'exit' event can come before the channel closes.
  // A primary that counted cluster.workers on 'exit' then waited for a worker
  // that was already dead, and never exited (seen under load).
  const worker = (id: number, dead: boolean): Worker => ({ id, isDead: () => dead }) as unknown as Worker;
  const cases: readonly { name: string; workers: NodeJS.Dict<Worker> | undefined; ids: readonly number[] }[] = [
    { name: "no cluster.workers (not a primary)", workers: undefined, ids: [] },
    { name: "all running", workers: { 1: worker(1, false), 2: worker(2, false) }, ids: [1, 2] },
    { name: "one exited, channel still open", workers: { 1: worker(1, true), 2: worker(2, false) }, ids: [2] },
    { name: "the last one exited, channel still open", workers: { 2: worker(2, true) }, ids: [] },
    { name: "a removed slot", workers: { 1: undefined, 3: worker(3, false) }, ids: [3] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(
        living(c.workers).map((w) => w.id),
        c.ids,
      );
    });
  }
});

describe("--workers", () => {
  test("two workers serve one port; SIGTERM stops them all and exits 0", async () => {
    const w = await startCli(["0", "-b", "127.0.0.1", "-d", dir, "--workers", "2", "-q"]);
    const child = w.child;
    try {
      const out = w.stdout();
      assert.equal(out.match(/^Serving /gm)?.length, 1, `one banner, got ${out}`);
      assert.match(out, /2 worker processes/);
      const url = w.url;
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${url}nums.txt`);
        assert.equal(await res.text(), "123456789");
      }
      const workers = children(child.pid ?? 0);
      assert.equal(workers.length, 2, `worker pids ${workers.join(",")}`);
      child.kill("SIGTERM");
      assert.equal((await w.exited).code, 0);
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), "worker still running");
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("a worker that dies is replaced, and the banner is not printed again", async () => {
    const w = await startCli(["0", "-b", "127.0.0.1", "-d", dir, "--workers", "2", "-q"]);
    const child = w.child;
    try {
      const [victim] = children(child.pid ?? 0);
      assert.ok(victim !== undefined, "a worker pid");
      process.kill(victim, "SIGKILL");
      // The replacement listening is what used to print the banner again: wait for
      // the line saying it took over (or, before the fix, for the second banner).
      const replaced = await Promise.race([
        w.err.until(/took over/, { deadline: 30_000 }),
        w.out.until((text) => (text.match(/^Serving /gm)?.length ?? 0) > 1, { deadline: 30_000 }),
      ]);
      assert.ok(replaced, `waited for the replacement; stdout: ${w.stdout()}; stderr: ${w.stderr()}`);
      const out = w.stdout();
      const err = w.stderr();
      assert.equal(out.match(/^Serving /gm)?.length, 1, `one banner, got ${out}`);
      assert.equal(out.match(/Press Ctrl\+C/g)?.length, 1);
      assert.match(
        err,
        new RegExp(
          `^wharf: worker ${victim} exited \\(SIGKILL\\); starting another\nwharf: worker \\d+ took over from worker ${victim}\n$`,
        ),
      );
      const url = w.url;
      for (let i = 0; i < 4; i++) assert.equal(await (await fetch(`${url}nums.txt`)).text(), "123456789");
    } finally {
      const workers = children(child.pid ?? 0);
      child.kill("SIGKILL");
      for (const pid of workers) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  });

  test("a busy port is one line and exit 1", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [BIN, String(port), "-b", "127.0.0.1", "-d", dir, "--workers", "2"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      // "close", not "exit": stderr has then been read to its end.
      const code = await new Promise<number | null>((resolve) => child.on("close", (c: number | null) => resolve(c)));
      assert.equal(code, 1);
      assert.equal(err, `wharf: port ${port} is already in use on 127.0.0.1\n`);
    } finally {
      blocker.close();
    }
  });

  test("the port is shared as this Node can: SO_REUSEPORT sockets, or cluster's one", async () => {
    const w = await startCli(["0", "-b", "127.0.0.1", "-d", dir, "--workers", "2", "-q"]);
    try {
      const reuse = reusePortAvailable();
      assert.match(
        w.stdout(),
        reuse ? /2 worker processes, each with its own socket \(SO_REUSEPORT\)/ : /2 worker processes, sharing one socket \(cluster\)/,
      );
      // What the kernel has: one listening socket per worker, or the primary's one.
      const listening = execFileSync("ss", ["-Hltn", `sport = :${w.port}`], { encoding: "utf8" })
        .trim()
        .split("\n")
        .filter(Boolean);
      assert.equal(listening.length, reuse ? 2 : 1, listening.join("\n"));
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${w.url}nums.txt`, { headers: { connection: "close" } });
        assert.equal(await res.text(), "123456789");
      }
    } finally {
      await w.stop("SIGTERM");
    }
  });

  test("--metrics: one scrape sums every worker", async () => {
    const w = await startCli(["0", "-b", "127.0.0.1", "-d", dir, "--workers", "2", "-q", "--metrics", "0"]);
    try {
      const metrics = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(w.stdout())?.[1];
      assert.ok(metrics !== undefined, `the banner names the metrics: ${w.stdout()}`);
      // A new connection each: both workers answer some (cluster deals them in
      // turn; SO_REUSEPORT spreads them by address and port).
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${w.url}nums.txt`, { headers: { connection: "close" } });
        assert.equal(await res.text(), "123456789");
      }
      const text = await (await fetch(metrics)).text();
      const count = (series: string): number | undefined => {
        const line = text.split("\n").find((l) => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      assert.equal(count('wharf_http_requests_total{method="GET",code="200",kind="file"}'), 20, text);
      assert.equal(count('wharf_http_request_duration_seconds_count{kind="file"}'), 20, text);
      // Not summed: one build, whatever the number of workers.
      assert.match(text, /^wharf_build_info\{version="[^"]+",node="[^"]+"\} 1$/m);
    } finally {
      await w.stop("SIGTERM");
    }
  });
});
