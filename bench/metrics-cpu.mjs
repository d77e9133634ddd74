#!/usr/bin/env node
// `node bench/metrics-cpu.mjs [--rounds 6] [--duration 3] [--flags "--metrics 0"]`:
// what a flag costs the server per request in CPU time, not in requests/s: the
// server's user+system time (/proc/PID/stat) over the requests wrk completed,
// with and without the flags, alternating in each round. CPU time per request
// moves much less than requests/s when other jobs share the machine, so it can
// be read on a busy machine where `bench:ab`'s ratios are noise. Cases: a 1 KiB
// file (keep-alive), a 304, a 404, and a 1 KiB file with Connection: close.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseWrk } from "./wrk.mjs";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "6" },
    duration: { type: "string", default: "3" },
    flags: { type: "string", default: "--metrics 0" },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const flags = values.flags.split(/\s+/).filter(Boolean);
const bin = new URL("../dist/cli/bin.js", import.meta.url).pathname;
const root = mkdtempSync(join(os.tmpdir(), "wharf-bench-cpu-"));
writeFileSync(join(root, "small.txt"), "x".repeat(1024));
const TICK = 1e6 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100); // µs per tick

/** The process's user+system CPU time in µs (/proc/PID/stat fields 14 and 15). */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK;
}

function start(extra) {
  // `--explain off`, as bench/servers.mjs starts wharf: on loopback, 404s are
  // explained by default, and the 404 row would measure the explanations.
  const child = spawn(process.execPath, [bin, "0", "-b", "127.0.0.1", "-d", root, "-q", "--explain", "off", ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const port = /127\.0\.0\.1:(\d+)\//.exec(out)?.[1];
      if (port !== undefined && out.includes("Press Ctrl+C")) {
        clearTimeout(timer);
        resolve({ child, port: Number(port) });
      }
    });
  });
}

const etag = async (port) => (await fetch(`http://127.0.0.1:${port}/small.txt`)).headers.get("etag");
const CASES = [
  { id: "small", path: "/small.txt", headers: async () => [] },
  { id: "304", path: "/small.txt", headers: async (port) => ["-H", `If-None-Match: ${await etag(port)}`] },
  { id: "404", path: "/missing.txt", headers: async () => [] },
  { id: "close", path: "/small.txt", headers: async () => ["-H", "Connection: close"] },
];

const results = new Map(); // `${case} ${build}` -> µs per request[]
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["off", "on"] : ["on", "off"];
    for (const build of order) {
      const { child, port } = await start(build === "on" ? flags : []);
      try {
        for (const c of CASES) {
          const headers = await c.headers(port);
          const url = `http://127.0.0.1:${port}${c.path}`;
          spawnSync("wrk", ["-t1", "-c20", "-d1s", ...headers, url]); // warm up
          const before = cpuMicros(child.pid);
          const r = spawnSync("wrk", ["-t1", "-c20", `-d${duration}s`, ...headers, url], { encoding: "utf8" });
          const used = cpuMicros(child.pid) - before;
          const w = parseWrk(r.stdout);
          const perRequest = used / w.requests;
          const key = `${c.id} ${build}`;
          results.set(key, [...(results.get(key) ?? []), perRequest]);
          console.log(
            `round ${round + 1} ${build.padEnd(3)} ${c.id.padEnd(6)} ${perRequest.toFixed(1)} µs CPU/request, ${Math.round(w.requestsPerSec)} req/s, load ${os.loadavg()[0].toFixed(1)}`,
          );
        }
      } finally {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
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
const fmt = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
console.log(
  `\n| case | off: µs CPU/request (median, min-max) | ${flags.join(" ")}: µs CPU/request | on / off |\n| --- | --- | --- | --- |`,
);
for (const c of CASES) {
  const off = results.get(`${c.id} off`);
  const on = results.get(`${c.id} on`);
  console.log(`| ${c.id} | ${fmt(off)} | ${fmt(on)} | ${(median(on) / median(off)).toFixed(3)} |`);
}
