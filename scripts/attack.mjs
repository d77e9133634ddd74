#!/usr/bin/env node
// `npm run attack -- --minutes N`: every attack class of issue 10 at once against
// one wharf process (the built CLI, on a free loopback port, serving a generated
// tree), while a well-behaved client in a process of its own measures itself.
//
//   node scripts/attack.mjs [--minutes 1 | --seconds N] [--scale 1] [--tls] [--send-timeout 5] ...
//   node scripts/attack.mjs --help     (every flag and threshold)
//
// Phases: fixture and server; warm-up (the client's first requests, not measured);
// baseline (RSS, descriptors); the attack; the attack stops: the classes that
// stall the server's writes (slow readers, HTTP/2 zero window, pipelining) keep
// their connections open and silent, the rest close theirs; one send timeout
// (plus --grace) later the server's descriptors are counted against the
// baseline; then everything is closed and the server gets SIGTERM.
//
// Prints peak RSS and descriptors (sampled from /proc/PID/status and /proc/PID/fd
// every 200 ms, and VmHWM), the client's p50/p99/max latency and errors, and the
// descriptors after the wait; exit 0 when every threshold is met, 1 when one is
// missed, 2 when the harness itself failed. The last line is `attack-result
// {JSON}` for scripts (test/resources/attack.test.ts).
//
// Loopback only; every attacker loop is bounded in count (--scale) and time.
import { fork } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { basic, makeFixture, USERS } from "./attack/fixture.mjs";
import { guessing, hostile, spray } from "./attack/floods.mjs";
import { h2ZeroWindow, pipelining, slowReaders } from "./attack/held.mjs";
import { context, destroy, sleep } from "./attack/net.mjs";
import { parseOptions } from "./attack/options.mjs";
import { idle, plainOnTls, slowloris } from "./attack/trickle.mjs";
import { hasSendTimeoutFlag, measure, sampler, startWharf } from "./attack/wharf.mjs";

/** Every class, by the name --only takes (and the report prints). */
const CLASSES = {
  "slow-readers": slowReaders,
  "h2-zero-window": h2ZeroWindow,
  "plain-on-tls": plainOnTls,
  spray,
  pipelining,
  "auth-guessing": guessing,
  hostile,
  slowloris,
  idle,
};
const TLS_ONLY = ["h2-zero-window", "plain-on-tls"];
const CLIENT = fileURLToPath(new URL("./attack/client.mjs", import.meta.url));
const WARM_UP_MS = 1500;

const parsed = parseOptions(process.argv.slice(2));
if (parsed.help !== undefined) {
  process.stdout.write(parsed.help);
  process.exit(0);
}
if (parsed.error !== undefined) {
  process.stderr.write(`attack: ${parsed.error}\n`);
  process.exit(2);
}
const o = parsed.options;
const unknown = (o.only ?? []).filter((name) => !(name in CLASSES));
if (unknown.length > 0) {
  process.stderr.write(`attack: unknown class ${unknown.join(", ")}; the classes: ${Object.keys(CLASSES).join(", ")}\n`);
  process.exit(2);
}
const log = (line) => process.stdout.write(`${line}\n`);
const f1 = (n) => n.toFixed(1);

// --- what must be undone, whatever happens ----------------------------------
let fixture;
let server;
let client;
function cleanUp() {
  if (client !== undefined && client.exitCode === null && client.signalCode === null) client.kill("SIGKILL");
  server?.kill();
  if (fixture !== undefined) rmSync(fixture.base, { recursive: true, force: true });
  fixture = undefined;
}
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));
// A run that overstays its length by two minutes has hung somewhere: stop it.
setTimeout(
  () => {
    log("attack: harness error: the run overstayed its length by 2 minutes; stopping");
    process.exit(2);
  },
  o.attackMs + o.sendTimeoutMs + o.graceMs + 120_000,
).unref();

/** Asks the client process for something over IPC and waits for its answer. */
function ask(type) {
  return new Promise((resolve, reject) => {
    const on = (m) => {
      if (m.type !== type) return;
      client.off("message", on);
      client.off("exit", gone);
      resolve(m);
    };
    const gone = (code) => reject(new Error(`the well-behaved client exited (${code}) while asked for "${type}"`));
    client.on("message", on);
    client.once("exit", gone);
    if (type !== "ready") client.send({ type });
  });
}

// Attackers' sockets, timers and the children would keep the process alive: exit.
try {
  process.exit(await run());
} catch (error) {
  log(`attack: harness error: ${error.stack ?? error}`);
  if (server !== undefined) log(`wharf's stderr:\n${server.stderr()}`);
  process.exit(2);
}

async function run() {
  // --- the server ------------------------------------------------------------
  const sendTimeoutFlag = hasSendTimeoutFlag(o.bin);
  fixture = makeFixture();
  server = await startWharf({
    bin: o.bin,
    base: fixture.base,
    root: fixture.root,
    host: o.host,
    tls: o.tls,
    sendTimeoutMs: o.sendTimeoutMs,
    sendTimeoutFlag,
  });
  const seconds = o.attackMs / 1000;
  log(
    `attack: ${seconds >= 60 ? `${f1(seconds / 60)} min` : `${seconds} s`} at scale ${o.scale}, ${o.tls ? "TLS (HTTP/1.1 and HTTP/2)" : "plain HTTP"}; wharf pid ${server.pid} on ${o.host} port ${server.port}`,
  );
  log(`  node ${server.args}`);
  if (!sendTimeoutFlag)
    log(
      `  note: this wharf has no --send-timeout flag: started without it; descriptors are still counted ${o.sendTimeoutMs / 1000} s (+ ${o.graceMs / 1000} s grace) after the attack`,
    );
  const samples = sampler(server.pid);

  // --- the well-behaved client, warmed up --------------------------------------
  client = fork(
    CLIENT,
    [
      JSON.stringify({
        host: o.host,
        port: server.port,
        tls: o.tls,
        auth: basic("alice", USERS.alice.password),
        rate: o.rate,
        targets: fixture.targets,
      }),
    ],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  await ask("ready");
  await sleep(WARM_UP_MS);
  await ask("reset");
  const baseline = measure(server.pid);
  if (baseline === undefined) throw new Error(`wharf exited before the attack: ${server.stderr()}`);
  log(
    `  baseline: RSS ${f1(baseline.rssMiB)} MiB, ${baseline.fds} descriptors; client: ${o.rate} requests/s of ${fixture.targets.length} small and medium files`,
  );

  // --- the attack -----------------------------------------------------------------
  const ctx = context({
    host: o.host,
    port: server.port,
    tls: o.tls,
    auth: basic("mallory", USERS.mallory.password),
    scale: o.scale,
    deadline: performance.now() + o.attackMs + 1000,
    sendTimeoutMs: o.sendTimeoutMs,
  });
  const classes = Object.entries(CLASSES)
    .filter(([name]) => (o.tls || !TLS_ONLY.includes(name)) && (o.only === undefined || o.only.includes(name)))
    .map(([, start]) => start(ctx));
  const began = performance.now();
  log(`  classes: ${classes.map((c) => c.tally.name).join(", ")}`);
  log(`      t   RSS MiB    fds  | client  req  err   p99 ms | open connections per class`);
  while (o.attackMs - (performance.now() - began) > 100 && server.alive()) {
    await sleep(Math.min(o.intervalMs, o.attackMs - (performance.now() - began)));
    const m = samples.last() ?? { rssMiB: 0, fds: 0 };
    const c = await ask("interval");
    const open = classes.map((k) => `${k.tally.name} ${k.tally.sockets.size}`).join(", ");
    log(
      `  ${f1((performance.now() - began) / 1000).padStart(5)}  ${f1(m.rssMiB).padStart(8)}  ${String(m.fds).padStart(5)}  |  ${String(c.requests).padStart(10)}  ${String(c.errors).padStart(3)}  ${f1(c.p99).padStart(7)} | ${open}`,
    );
  }

  // --- the attack stops; one send timeout later, the descriptors -------------------------
  ctx.stopped = true;
  for (const { tally } of classes) {
    if (tally.held) continue;
    for (const s of tally.sockets) destroy(s);
    for (const f of tally.onStop) f();
  }
  // The held classes' last act: as many fresh stalled connections, each with its
  // requests sent. Then the clock starts.
  await Promise.all(classes.map((k) => k.renew?.()));
  const stoppedAt = performance.now();
  const heldNow = () =>
    classes
      .filter((k) => k.tally.held)
      .map((k) => `${k.tally.name} ${k.tally.sockets.size}`)
      .join(", ") || "none";
  const held = heldNow();
  log(`  attack stopped; held open, silent: ${held}; waiting ${(o.sendTimeoutMs + o.graceMs) / 1000} s`);
  const limit = baseline.fds + o.thresholds.fdSlack;
  let backAfterMs;
  while (performance.now() - stoppedAt < o.sendTimeoutMs + o.graceMs && server.alive()) {
    const m = measure(server.pid);
    if (m !== undefined && m.fds <= limit && backAfterMs === undefined) backAfterMs = performance.now() - stoppedAt;
    if (m !== undefined && m.fds > limit) backAfterMs = undefined; // must stay back
    await sleep(100);
  }
  const after = measure(server.pid);
  const heldAtEnd = heldNow();

  // --- everything closed; the client's figures; the server stopped -------------------------
  for (const { tally } of classes) {
    for (const s of tally.sockets) destroy(s);
    for (const f of tally.onStop) f();
  }
  await Promise.race([Promise.all(classes.map((k) => k.run)), sleep(10_000)]);
  const result = await ask("stop");
  client.disconnect();
  samples.take();
  samples.stop();
  const aliveAtEnd = server.alive();
  const diedWith = aliveAtEnd ? undefined : server.exitCode();
  const exitCode = await server.stop();

  // --- report -------------------------------------------------------------------------------
  const t = o.thresholds;
  const peakRss = Math.max(samples.peak.rssMiB, samples.peak.hwmMiB);
  log("");
  log("attack: per class (opened: connections or sessions; closed by server: with the longest one lasted until seen closed;");
  log(
    `  outlived the hold: held unread ${(2 * o.sendTimeoutMs + 1000) / 1000} s or up to half again, then read: found still open (still sent to, or silent for 1 s), closed by us)`,
  );
  for (const { tally: k } of classes) {
    const statuses = Object.entries(k.statuses)
      .map(([s, n]) => `${s}×${n}`)
      .join(" ");
    log(
      `  ${k.name.padEnd(15)} opened ${String(k.opened).padStart(5)}, closed by server ${String(k.closedByServer).padStart(5)}${k.closedByServer === 0 ? "" : ` (longest ${f1(k.longestMs / 1000)} s)`}${k.held ? `, outlived the hold ${k.outlived}` : ""}, requests ${k.requests}${statuses === "" ? "" : `, answers ${statuses}`}`,
    );
    if (k.answers !== undefined) {
      const pairs = Object.entries(k.answers).map(([name, set]) => `${name} ${[...set].join("/")}`);
      for (let i = 0; i < pairs.length; i += 5) log(`      ${pairs.slice(i, i + 5).join(", ")}`);
    }
    for (const finding of k.findings) log(`      finding: ${finding}`);
  }
  log("");
  log("attack: results");
  log(
    `  peak RSS          ${f1(peakRss)} MiB (sampled ${f1(samples.peak.rssMiB)}, VmHWM ${f1(samples.peak.hwmMiB)}; baseline ${f1(baseline.rssMiB)})`,
  );
  log(`  peak descriptors  ${samples.peak.fds} (baseline ${baseline.fds})`);
  log(
    `  client            ${result.requests} requests, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, max ${result.max.toFixed(2)} ms, ${result.errors} errors${result.retried > 0 ? `, ${result.retried} sent again after their kept-alive connection was closed` : ""}`,
  );
  for (const sample of result.samples) log(`      error: ${sample}`);
  const afterText =
    after === undefined
      ? "wharf gone"
      : `${after.fds} (baseline ${baseline.fds}, ${after.fds - baseline.fds >= 0 ? "+" : ""}${after.fds - baseline.fds})`;
  log(
    `  descriptors ${(o.sendTimeoutMs + o.graceMs) / 1000} s after the attack stopped: ${afterText}${backAfterMs === undefined ? "" : `, back within ${t.fdSlack} after ${f1(backAfterMs / 1000)} s`}; still held by the attackers then: ${heldAtEnd}`,
  );
  log(`  wharf             ${aliveAtEnd ? `exited ${exitCode} on SIGTERM` : `DIED during the run (${diedWith})`}`);
  if (!aliveAtEnd) log(`  wharf's stderr (last 2,000 characters):\n${server.stderr().slice(-2000)}`);

  const checks = [
    [`client p99 ${result.p99.toFixed(2)} ms < ${t.p99Ms} ms`, result.p99 < t.p99Ms],
    [`client errors ${result.errors} <= ${t.maxErrors}`, result.errors <= t.maxErrors],
    [`peak RSS ${f1(peakRss)} MiB < ${t.maxRssMiB} MiB`, peakRss < t.maxRssMiB],
    [
      `descriptors after the send timeout ${after?.fds ?? "?"} <= baseline ${baseline.fds} + ${t.fdSlack}`,
      after !== undefined && after.fds <= limit,
    ],
    ["wharf alive through the run", aliveAtEnd],
  ];
  log("");
  log("attack: verdict");
  for (const [text, ok] of checks) log(`  ${ok ? "ok    " : "MISSED"}  ${text}`);
  const missed = checks.filter(([, ok]) => !ok).length;
  log(missed === 0 ? "attack: passed" : `attack: FAILED: ${missed} threshold${missed === 1 ? "" : "s"} missed`);
  const findings = classes.flatMap((k) => k.tally.findings.map((f) => `${k.tally.name}: ${f}`));
  log(
    `attack-result ${JSON.stringify({
      passed: missed === 0,
      missed: checks.filter(([, ok]) => !ok).map(([text]) => text),
      peakRssMiB: peakRss,
      peakFds: samples.peak.fds,
      baselineFds: baseline.fds,
      fdsAfter: after?.fds ?? null,
      client: { requests: result.requests, p50: result.p50, p99: result.p99, max: result.max, errors: result.errors },
      sendTimeoutFlag,
      findings,
    })}`,
  );
  return missed === 0 ? 0 : 1;
}
