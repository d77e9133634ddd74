#!/usr/bin/env node
// Basic auth under a password-guessing flood (issue 10, item 6), on loopback:
//
//   node scripts/auth-flood.mjs [--seconds 5] [--flood 40] [--dist dist]
//
// A wharf child process serves with an htpasswd file (bcrypt cost 10, $apr1$ and
// {SHA} users). It prints:
// - what one wrong password costs, per user kind, known and unknown (median of
//   sequential requests, each with a new password so nothing is cached);
// - a signed-in client's latency (sequential requests with its right header)
//   alone, then while `--flood` connections send wrong bcrypt passwords as fast
//   as they are answered, and what the flood got (401s, 503s).
// `--dist` points at another build (an older checkout's dist/) to compare.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import bcrypt from "bcryptjs";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const SECONDS = Number(arg("seconds", 5));
const FLOOD = Number(arg("flood", 40));
const DIST = resolve(arg("dist", fileURLToPath(new URL("../dist", import.meta.url))));

const dir = mkdtempSync(join(tmpdir(), "wharf-auth-flood-"));
writeFileSync(join(dir, "index.html"), "<p>hello</p>\n");
const htpasswd = join(dir, ".htpasswd");
writeFileSync(
  htpasswd,
  [`bee:${bcrypt.hashSync("b-pass", 10)}`, "apr:$apr1$B98NqLBx$kNb/f9Q2HPsvYTwH0KAm.0", "sha:{SHA}lkdQfQhFgU2CdvHc5IY7mmK0fAI=", ""].join(
    "\n",
  ),
);

const child = spawn(
  process.execPath,
  [
    "--input-type=module",
    "-e",
    `
  const { serve } = await import(${JSON.stringify(pathToFileURL(join(DIST, "index.js")).href)});
  const s = await serve({ root: ${JSON.stringify(join(dir))}, port: 0, host: "127.0.0.1", log: false, authFile: ${JSON.stringify(htpasswd)} });
  process.stdout.write(s.port + "\\n");
`,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const port = await new Promise((done) => child.stdout.once("data", (d) => done(Number(String(d).trim()))));

const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const agent = new Agent({ keepAlive: true, maxSockets: FLOOD + 4 });
function get(authorization) {
  return new Promise((done, fail) => {
    const start = performance.now();
    request({ port, host: "127.0.0.1", path: "/", agent, headers: { authorization } }, (res) => {
      res.resume().on("end", () => done({ status: res.statusCode, ms: performance.now() - start }));
    })
      .on("error", fail)
      .end();
  });
}
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const fmt = (ms) => `${ms.toFixed(2)} ms`;

// 1. What a wrong password costs, per user (nothing cached: failures never are).
console.log("one wrong password, median of 15 sequential requests:");
let n = 0;
for (const user of ["bee", "apr", "sha", "nobody"]) {
  const times = [];
  for (let i = 0; i < 15; i++) times.push((await get(basic(user, `wrong ${n++}`))).ms);
  console.log(`  ${user.padEnd(7)} ${fmt(quantile(times, 0.5))}`);
}

// 2. A signed-in client, alone and during a flood of wrong bcrypt passwords.
const valid = basic("bee", "b-pass");
await get(valid); // signs in once; later requests are remembered
async function measure(seconds) {
  const times = [];
  const statuses = {};
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const r = await get(valid);
    times.push(r.ms);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
  return { times, statuses };
}
const report = (label, { times, statuses }) =>
  console.log(
    `  ${label}: ${times.length} requests ${JSON.stringify(statuses)}, p50 ${fmt(quantile(times, 0.5))}, p99 ${fmt(quantile(times, 0.99))}, max ${fmt(Math.max(...times))}`,
  );

console.log(`signed-in client (sequential, ${SECONDS} s each):`);
report("alone", await measure(SECONDS));
// The guessers run in a process of their own, so that their work does not delay the measuring client.
const guesser = spawn(
  process.execPath,
  [
    "--input-type=module",
    "-e",
    `
  import { Agent, request } from "node:http";
  const agent = new Agent({ keepAlive: true, maxSockets: ${FLOOD} });
  const counts = { 401: 0, 503: 0, other: 0 };
  let flooding = true, n = 0;
  process.stdin.on("data", () => (flooding = false)).resume();
  const get = (authorization) => new Promise((done) => request({ port: ${port}, host: "127.0.0.1", path: "/", agent, headers: { authorization } },
    (res) => res.resume().on("end", () => done(res.statusCode))).on("error", () => done(0)).end());
  await Promise.all(Array.from({ length: ${FLOOD} }, async () => {
    while (flooding) {
      const status = await get("Basic " + Buffer.from("bee:guess " + n++).toString("base64"));
      counts[status === 401 || status === 503 ? status : "other"]++;
    }
  }));
  process.stdout.write(JSON.stringify(counts) + "\\n");
  agent.destroy();
`,
  ],
  { stdio: ["pipe", "pipe", "inherit"] },
);
const flood = new Promise((done) => guesser.stdout.once("data", (d) => done(JSON.parse(String(d)))));
report(`during a flood of ${FLOOD} guessers`, await measure(SECONDS));
// A sign-in that is not remembered yet, during the flood: checked (200) or told to retry (503).
const fresh = await get(`basic ${valid.slice("Basic ".length)}`); // another spelling: not remembered
guesser.stdin.end("stop");
const counts = await flood;
console.log(`  the flood got: ${JSON.stringify(counts)} (${((counts[401] + counts[503]) / SECONDS).toFixed(0)} answers/s)`);
console.log(`  a new sign-in during the flood: ${fresh.status} in ${fmt(fresh.ms)}`);

agent.destroy();
child.kill();
rmSync(dir, { recursive: true, force: true });
