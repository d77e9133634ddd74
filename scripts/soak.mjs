#!/usr/bin/env node
// `npm run soak -- --minutes N`: mixed traffic against a wharf child process on
// loopback, one report line per interval (requests, errors, p50/p99 latency, the
// server's RSS and open descriptors), and a verdict: exit 1 on any error, or if
// descriptors or memory keep growing instead of levelling off.
//
//   node scripts/soak.mjs [--minutes 2] [--interval 10] [--concurrency 32] [--workers 1]
//
// p99 is over every request (4 MiB downloads included); "small p99" over the hits
// and 304s on small files alone.
//
// Traffic: hits (small files from memory, a 4 MiB file streamed from disk), 404s,
// single and multipart ranges, 304 revalidations, HEAD, gzip/br negotiation,
// directory listings, 400s for hostile paths, and downloads aborted mid-body.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}
const MINUTES = arg("minutes", 2);
const INTERVAL_S = arg("interval", 10);
const CONCURRENCY = arg("concurrency", 32);
const WORKERS = arg("workers", 1);
const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
const MiB = 1024 * 1024;

// --- fixture ---------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "wharf-soak-"));
const BIG = 4 * MiB;
const big = randomBytes(BIG);
writeFileSync(join(dir, "big.bin"), big);
mkdirSync(join(dir, "small"));
for (let i = 0; i < 50; i++) writeFileSync(join(dir, "small", `${i}.txt`), `file ${i}\n`.repeat(20 + i));
mkdirSync(join(dir, "dir"));
for (let i = 0; i < 200; i++) writeFileSync(join(dir, "dir", `entry-${i}.txt`), String(i));
writeFileSync(join(dir, "page.html"), `<!doctype html><title>soak</title>${"<p>compressible text</p>\n".repeat(400)}`);

// --- server ----------------------------------------------------------------
const child = spawn(
  process.execPath,
  [BIN, "0", "-b", "127.0.0.1", "-d", dir, "-q", ...(WORKERS > 1 ? ["--workers", String(WORKERS)] : [])],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let out = "";
let err = "";
child.stdout.on("data", (c) => (out += c));
child.stderr.on("data", (c) => (err += c));
const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
for (let i = 0; !/Press Ctrl\+C/.test(out); i++) {
  if (i > 500 || child.exitCode !== null) throw new Error(`wharf did not start: ${out}${err}`);
  await new Promise((r) => setTimeout(r, 20));
}
const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)[1]);

/** The server's processes: the child, and its workers with --workers. */
function serverPids() {
  const pids = [child.pid];
  if (WORKERS > 1) {
    for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        if (readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ")[1] === String(child.pid)) pids.push(Number(p));
      } catch {}
    }
  }
  return pids;
}
function measure() {
  let rss = 0;
  let fds = 0;
  for (const pid of serverPids()) {
    try {
      rss += Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
      fds += readdirSync(`/proc/${pid}/fd`).length;
    } catch {}
  }
  return { rss, fds };
}

// --- traffic ---------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const stats = { requests: 0, errors: 0, latencies: [], hitLatencies: [], kinds: {} };
const errorSamples = [];
const fail = (kind, message) => {
  stats.errors++;
  if (errorSamples.length < 20) errorSamples.push(`${kind}: ${message}`);
};

function get(path, headers = {}, method = "GET") {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("no answer in 10 s")));
    req.end();
  });
}

function abortedDownload() {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let n = 0;
    socket.on("data", (c) => {
      n += c.length;
      if (n > 70_000) socket.destroy();
    });
    socket.on("error", reject);
    socket.on("close", () => (n > 0 ? resolve() : reject(new Error("closed before any byte"))));
    socket.setTimeout(10_000, () => socket.destroy(new Error("no data in 10 s")));
    socket.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  });
}

const etags = new Map();
const check = (cond, message) => {
  if (!cond) throw new Error(message);
};
const KINDS = [
  [
    30,
    "hit",
    async () => {
      const i = Math.floor(Math.random() * 50);
      const r = await get(`/small/${i}.txt`);
      check(r.status === 200 && r.body.length === `file ${i}\n`.length * (20 + i), `status ${r.status}, ${r.body.length} bytes`);
      etags.set(i, r.headers.etag);
    },
  ],
  [
    10,
    "revalidate-304",
    async () => {
      const i = Math.floor(Math.random() * 50);
      const tag = etags.get(i);
      if (tag === undefined) return;
      const r = await get(`/small/${i}.txt`, { "if-none-match": tag });
      check(r.status === 304 && r.body.length === 0, `status ${r.status}`);
    },
  ],
  [
    10,
    "miss-404",
    async () => {
      const r = await get(`/nope/${Math.random()}`);
      check(r.status === 404, `status ${r.status}`);
    },
  ],
  [
    10,
    "range",
    async () => {
      const start = Math.floor(Math.random() * (BIG - 100_000));
      const r = await get("/big.bin", { range: `bytes=${start}-${start + 99_999}` });
      check(r.status === 206 && r.body.equals(big.subarray(start, start + 100_000)), `status ${r.status}, ${r.body.length} bytes`);
    },
  ],
  [
    5,
    "multirange",
    async () => {
      const r = await get("/big.bin", { range: "bytes=0-9,1000-1099,-50" });
      check(
        r.status === 206 &&
          /^multipart\/byteranges; boundary=/.test(r.headers["content-type"]) &&
          r.body.length === Number(r.headers["content-length"]),
        `status ${r.status}`,
      );
    },
  ],
  [
    5,
    "big",
    async () => {
      const r = await get("/big.bin");
      check(
        r.status === 200 && r.body.length === BIG && createHash("sha1").update(r.body).digest("hex") === bigSha,
        `status ${r.status}, ${r.body.length} bytes`,
      );
    },
  ],
  [8, "abort", abortedDownload],
  [
    5,
    "listing",
    async () => {
      const r = await get("/dir/");
      check(r.status === 200 && r.body.includes("entry-199.txt"), `status ${r.status}`);
    },
  ],
  [
    5,
    "head",
    async () => {
      const r = await get("/page.html", {}, "HEAD");
      check(r.status === 200 && r.body.length === 0, `status ${r.status}`);
    },
  ],
  [
    7,
    "compressed",
    async () => {
      const r = await get("/page.html", { "accept-encoding": Math.random() < 0.5 ? "gzip" : "br, gzip" });
      check(r.status === 200 && r.body.length === Number(r.headers["content-length"] ?? r.body.length), `status ${r.status}`);
    },
  ],
  [
    5,
    "hostile-400",
    async () => {
      const r = await get(["/%2e%2e/%2e%2e/etc/passwd", "/a/../../x", "/%00", "/%c0%ae%c0%ae/"][Math.floor(Math.random() * 4)]);
      check(r.status === 400, `status ${r.status}`);
    },
  ],
];
const bigSha = createHash("sha1").update(big).digest("hex");
const totalWeight = KINDS.reduce((a, [w]) => a + w, 0);
function pick() {
  let r = Math.random() * totalWeight;
  for (const k of KINDS) if ((r -= k[0]) < 0) return k;
  return KINDS[0];
}

let running = true;
async function clientLoop() {
  while (running) {
    const [, kind, run] = pick();
    const t = performance.now();
    try {
      await run();
    } catch (e) {
      fail(kind, e.message);
    }
    stats.latencies.push(performance.now() - t);
    if (kind === "hit" || kind === "revalidate-304") stats.hitLatencies.push(performance.now() - t);
    stats.requests++;
    stats.kinds[kind] = (stats.kinds[kind] ?? 0) + 1;
  }
}

// --- run and report --------------------------------------------------------
const pct = (sorted, p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);
console.log(
  `soak: ${MINUTES} min, ${CONCURRENCY} clients, ${WORKERS} process${WORKERS === 1 ? "" : "es"}, report every ${INTERVAL_S} s; wharf pid ${child.pid} on port ${port}`,
);
const start = measure();
console.log(
  `   t  requests     req/s  errors   p50 ms   p99 ms  small p99   RSS MiB  fds   (idle at start: RSS ${(start.rss / MiB).toFixed(1)} MiB, ${start.fds} fds)`,
);
const samples = [];
const loops = Array.from({ length: CONCURRENCY }, clientLoop);
const began = performance.now();
let lastRequests = 0;
while (performance.now() - began < MINUTES * 60_000) {
  await new Promise((r) => setTimeout(r, Math.min(INTERVAL_S * 1000, MINUTES * 60_000 - (performance.now() - began))));
  const sorted = stats.latencies.splice(0).sort((a, b) => a - b);
  const small = stats.hitLatencies.splice(0).sort((a, b) => a - b);
  const m = measure();
  const t = (performance.now() - began) / 1000;
  samples.push({ t, ...m });
  const rate = (stats.requests - lastRequests) / INTERVAL_S;
  lastRequests = stats.requests;
  console.log(
    `${t.toFixed(0).padStart(4)}  ${String(stats.requests).padStart(8)}  ${rate.toFixed(0).padStart(8)}  ${String(stats.errors).padStart(6)}  ${pct(sorted, 0.5).toFixed(2).padStart(7)}  ${pct(sorted, 0.99).toFixed(2).padStart(7)}  ${pct(small, 0.99).toFixed(2).padStart(9)}  ${(m.rss / MiB).toFixed(1).padStart(8)}  ${String(m.fds).padStart(4)}`,
  );
}
running = false;
await Promise.all(loops);
agent.destroy();
await new Promise((r) => setTimeout(r, 1500)); // aborted responses noticed, idle sockets gone
const end = measure();

// --- verdict ---------------------------------------------------------------
const problems = [];
if (stats.errors > 0) problems.push(`${stats.errors} errors, e.g.\n    ${errorSamples.join("\n    ")}`);
// Descriptors: back to where they started once the traffic stops.
if (end.fds > start.fds + 4) problems.push(`descriptors did not come back: ${start.fds} at start, ${end.fds} idle at the end`);
// Memory: level, not climbing. The second half's peak may not exceed the first
// half's by more than 25% (allocator and heap growth settle in the first minute).
if (samples.length >= 4) {
  const half = Math.floor(samples.length / 2);
  const first = Math.max(...samples.slice(0, half).map((s) => s.rss));
  const second = Math.max(...samples.slice(half).map((s) => s.rss));
  if (second > first * 1.25 + 16 * MiB)
    problems.push(
      `RSS kept growing: peak ${(first / MiB).toFixed(1)} MiB in the first half, ${(second / MiB).toFixed(1)} MiB in the second`,
    );
}
child.kill("SIGTERM");
const code = await exited;
if (code !== 0) problems.push(`wharf exited ${code} on SIGTERM: ${err}`);
rmSync(dir, { recursive: true, force: true });
console.log(
  `mix: ${Object.entries(stats.kinds)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ")}`,
);
console.log(
  `end: ${stats.requests} requests, ${stats.errors} errors; idle RSS ${(end.rss / MiB).toFixed(1)} MiB, ${end.fds} fds (start ${(start.rss / MiB).toFixed(1)} MiB, ${start.fds} fds); exit ${code}`,
);
if (problems.length > 0) {
  console.log(`FAILED:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("passed: no errors, descriptors back to baseline, memory level");
