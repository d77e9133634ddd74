#!/usr/bin/env node
// `node bench/workers.mjs [--node PATH ...] [--workers 2] [--rounds 3] [--duration 5]`:
// `--workers N` against one process, with `Connection: close` load (a new TCP
// connection per request, where how connections reach the workers matters most).
// For each Node binary given (default: this one), one process and N workers,
// alternating in each round; the banner says whether the workers shared the port
// through cluster or SO_REUSEPORT. wrk on 127.0.0.1, 2 threads, 32 connections;
// nothing pinned (N workers need the cores). Prints a Markdown table of req/s.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseWrk } from "./wrk.mjs";

const { values } = parseArgs({
  options: {
    node: { type: "string", multiple: true },
    workers: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
  },
});
const nodes = values.node ?? [process.execPath];
const workers = Number(values.workers);
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const bin = new URL("../dist/cli/bin.js", import.meta.url).pathname;
const root = mkdtempSync(join(os.tmpdir(), "wharf-bench-workers-"));
writeFileSync(join(root, "1k.txt"), "x".repeat(1024));

/** Starts wharf; resolves with its port and how its workers share it, once the banner is out. */
function start(node, n) {
  const child = spawn(node, [bin, "0", "-b", "127.0.0.1", "-d", root, "-q", "-w", String(n)], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no banner in 30 s: ${out}`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const port = /127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (port !== undefined && out.includes("Press Ctrl+C")) {
        clearTimeout(timer);
        const mode = n === 1 ? "one process" : out.includes("SO_REUSEPORT") ? `${n} workers, SO_REUSEPORT` : `${n} workers, cluster`;
        resolve({ child, port: Number(port), mode });
      }
    });
    child.on("exit", (code) => reject(new Error(`wharf exited ${code}: ${out}`)));
  });
}

async function stop(child) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

const wrk = (port, seconds) => {
  const r = spawnSync("wrk", ["-t2", "-c32", `-d${seconds}s`, "--latency", "-H", "Connection: close", `http://127.0.0.1:${port}/1k.txt`], {
    encoding: "utf8",
    timeout: (seconds + 30) * 1000,
  });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  return parseWrk(r.stdout);
};

const results = new Map(); // `${node} ${mode}` -> rps[]
try {
  for (let round = 0; round < rounds; round++) {
    for (const node of round % 2 === 0 ? nodes : [...nodes].reverse()) {
      const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
      for (const n of round % 2 === 0 ? [1, workers] : [workers, 1]) {
        const { child, port, mode } = await start(node, n);
        try {
          wrk(port, 1); // warm up
          const r = wrk(port, duration);
          const errors = Object.values(r.socketErrors).reduce((a, b) => a + b, 0);
          const key = `${version} | ${mode}`;
          results.set(key, [...(results.get(key) ?? []), r.requestsPerSec]);
          console.log(
            `round ${round + 1} ${key}: ${Math.round(r.requestsPerSec)} req/s, p99 ${r.latencyMs.p99} ms, socket errors ${errors}, load ${os.loadavg()[0].toFixed(1)}`,
          );
        } finally {
          await stop(child);
        }
      }
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log("\n| Node | processes | req/s (median, min-max) |\n| --- | --- | --- |");
for (const [key, xs] of results) {
  console.log(`| ${key} | ${Math.round(median(xs))} (${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}) |`);
}
