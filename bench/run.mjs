#!/usr/bin/env node
// `npm run bench`: wharf against a ceiling (bench/ceiling.mjs), sirv, serve,
// http-server, python -m http.server and nginx, on loopback, the server pinned
// to CPU 0 and wrk to CPU 1. See docs/benchmarks.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CASES, checkCase, validateRun } from "./cases.mjs";
import { waitForQuiet } from "./cpu.mjs";
import { buildFixture, buildLargeTree, FILES, STARTUP_PATH } from "./fixture.mjs";
import { cleanupNow, installExitHandlers, onCleanup } from "./procs.mjs";
import { metricValue, renderMarkdown, renderText, summarize, summarizeStartup } from "./report.mjs";
import { captureWharf } from "./same-headers.mjs";
import { sameHeadersDir, serverDefinitions, startServer } from "./servers.mjs";
import { BENCH_DIR, describeEnvironment, ensureNpmTools, ensureSystemTools, ensureWharfBuilt, snapshotWharf } from "./tools.mjs";
import { runWrk } from "./wrk.mjs";

const SERVER_CPU = 0;
const WRK_CPU = 1;

const USAGE = `usage: npm run bench -- [options]

  --rounds N          rounds; each case runs each server once per round (default 3)
  --duration S        seconds per measurement (default 5)
  --warmup S          seconds of load before each measurement, 0 for none (default 1)
  --quick             smoke run: 1 round, 2 s, no warm-up, startup on 10,000 files
  --servers a,b       only these servers (wharf,ceiling,same-headers,sirv,serve,http-server,python,nginx)
  --cases a,b         only these cases (small,medium,large,close,notfound,listing,listing-100k,etag304,br,gzip)
  --max-other-load P  a measurement during which other processes used more than
                      P% of a CPU is repeated (default 10)
  --retries N         at most this many repeats per measurement (default 2; 0: never)
  --retry-budget S    seconds the whole run may spend on waiting and repeats (default 300)
  --startup-files N   files in the startup tree (default 100000)
  --no-startup        skip the startup case
  --out FILE          JSON results (default bench/results/latest.json; Markdown beside it)
  -h, --help          this text`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      quick: { type: "boolean", default: false },
      servers: { type: "string" },
      cases: { type: "string" },
      "startup-files": { type: "string" },
      "max-other-load": { type: "string" },
      retries: { type: "string" },
      "retry-budget": { type: "string" },
      "no-startup": { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positiveInt = (name, text, fallback, min = 1, max = 3600) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      console.error(`--${name} must be a whole number from ${min} to ${max}`);
      process.exit(2);
    }
    return n;
  };
  const quick = values.quick;
  return {
    rounds: positiveInt("rounds", values.rounds, quick ? 1 : 3),
    durationS: positiveInt("duration", values.duration, quick ? 2 : 5),
    warmupS: positiveInt("warmup", values.warmup, quick ? 0 : 1, 0),
    maxOtherLoad: positiveInt("max-other-load", values["max-other-load"], 10, 0, 200),
    retries: positiveInt("retries", values.retries, quick ? 0 : 2, 0),
    retryBudgetS: positiveInt("retry-budget", values["retry-budget"], 300, 0),
    servers: values.servers?.split(",").map((s) => s.trim()),
    cases: values.cases?.split(",").map((s) => s.trim()),
    startupFiles: values["no-startup"] ? 0 : positiveInt("startup-files", values["startup-files"], quick ? 10_000 : 100_000, 1, 1_000_000),
    out: values.out ?? join(BENCH_DIR, "results", "latest.json"),
    quick,
  };
}

const log = (...a) => console.error(...a);
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

/** One measurement: a fresh server, a check, a warm-up, wrk, the server's peak RSS, stop. */
async function measure(def, testCase, ctx) {
  const server = await startServer(def, {
    taskset: ctx.system.taskset,
    cpu: SERVER_CPU,
    root: ctx.fixture,
    workDir: ctx.workDir,
    readyPath: FILES.small.path,
  });
  try {
    const check = await checkCase(testCase, server.port);
    if (check.na) return { status: "n/a", reason: check.na };
    const wrkOptions = {
      wrk: ctx.system.wrk,
      taskset: ctx.system.taskset,
      cpu: WRK_CPU,
      url: server.url(testCase.path),
      connections: testCase.connections,
      headers: check.headers,
      watchPids: [server.pid],
    };
    if (ctx.warmupS > 0) await runWrk({ ...wrkOptions, durationS: ctx.warmupS });
    const died = (when) => ({ status: "error", reason: `server exited ${when} (${server.exitReason()})` });
    if (server.exitReason()) return died("during the warm-up");
    const r = await runWrk({ ...wrkOptions, durationS: ctx.durationS });
    const rssBytes = server.peakRss();
    const { raw, ...wrk } = r;
    // A server that died mid-run has no throughput to report, only the crash.
    if (server.exitReason()) return { ...died("during the run"), wrk };
    return {
      status: "ok",
      value: metricValue(testCase, r),
      p99Ms: r.latencyMs.p99,
      rssBytes,
      problems: validateRun(testCase, r),
      otherLoadPct: r.otherLoad?.otherPct,
      // CPU use of each side, in % of one CPU: wrk near 100% means the client, not the server, was the limit.
      serverCpuPct: r.otherLoad?.pidPct[0],
      wrkCpuPct: r.otherLoad?.pidPct[1],
      wrk,
    };
  } finally {
    await server.stop();
  }
}

/**
 * measure(), repeated (fresh server each time) while other processes on the
 * machine took more than opts.maxOtherLoad % of a CPU during the run, after
 * waiting up to 15 s for the machine to quieten; keeps the least disturbed run.
 * Waits and repeats draw on one budget for the whole run (ctx.retryBudgetMs), so
 * a machine that stays busy lengthens the run by at most that much.
 */
async function measureQuietly(def, testCase, ctx, opts) {
  let best;
  for (let attempt = 1; attempt <= 1 + opts.retries; attempt++) {
    const started = performance.now();
    if (attempt > 1) {
      if (ctx.retryBudgetMs <= 0) {
        if (!ctx.budgetSpentLogged) log("retry budget spent: noisy measurements are kept as they are from now on");
        ctx.budgetSpentLogged = true;
        break;
      }
      await waitForQuiet(opts.maxOtherLoad, Math.min(15_000, ctx.retryBudgetMs));
    }
    let result;
    try {
      result = await measure(def, testCase, ctx);
    } catch (e) {
      result = { status: "error", reason: e.message.split("\n")[0] };
    }
    result.attempts = attempt;
    if (attempt > 1) ctx.retryBudgetMs -= performance.now() - started;
    if (result.status !== "ok") return best ?? result; // n/a and crashes are not noise
    if (best === undefined || (result.otherLoadPct ?? 0) < (best.otherLoadPct ?? 0)) best = { ...result };
    best.attempts = attempt;
    if ((result.otherLoadPct ?? 0) <= opts.maxOtherLoad) break;
  }
  return best;
}

/** Startup: spawn to the first 200 for STARTUP_PATH, on the big tree. */
async function measureStartup(def, ctx) {
  const server = await startServer(def, {
    taskset: ctx.system.taskset,
    cpu: SERVER_CPU,
    root: ctx.tree,
    workDir: ctx.workDir,
    readyPath: STARTUP_PATH,
    readyStatus: 200,
    timeoutMs: 180_000,
  });
  try {
    return { status: "ok", ms: server.startupMs, rssBytes: server.peakRss() };
  } finally {
    await server.stop();
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  installExitHandlers();
  const began = performance.now();

  const system = ensureSystemTools(log);
  const npmTools = ensureNpmTools(log);
  ensureWharfBuilt(log);
  const env = describeEnvironment(system, npmTools);
  if (env.cores < 2) log("warning: fewer than 2 CPUs; server and wrk will share one");

  const workDir = mkdtempSync(join(os.tmpdir(), "wharf-bench-"));
  onCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  const wharf = snapshotWharf(join(workDir, "wharf"));
  env.wharfDistBuiltAt = wharf.builtAt;
  const fixture = join(workDir, "fixture");
  buildFixture(fixture);
  const ctx = {
    system,
    fixture,
    workDir,
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    retryBudgetMs: opts.retryBudgetS * 1000,
  };

  const allDefs = serverDefinitions({ system, npmTools, wharfBin: wharf.bin, ceilingBin: join(BENCH_DIR, "ceiling.mjs") });
  const defs = opts.servers ? allDefs.filter((d) => opts.servers.includes(d.name)) : allDefs;
  const cases = opts.cases ? CASES.filter((c) => opts.cases.includes(c.id)) : CASES;
  for (const [kind, wanted, known] of [
    ["server", opts.servers, allDefs.map((d) => d.name)],
    ["case", opts.cases, CASES.map((c) => c.id)],
  ]) {
    const unknown = (wanted ?? []).filter((w) => !known.includes(w));
    if (unknown.length) throw new Error(`unknown ${kind}: ${unknown.join(", ")} (known: ${known.join(", ")})`);
  }

  if (defs.some((d) => d.name === "same-headers")) {
    // The same-headers ceiling answers with what this wharf answered: capture it once, from the same fixture.
    const wharfDef = allDefs.find((d) => d.name === "wharf");
    const w = await startServer(wharfDef, {
      taskset: system.taskset,
      cpu: SERVER_CPU,
      root: fixture,
      workDir,
      readyPath: FILES.small.path,
    });
    try {
      const n = await captureWharf(w.port, cases, sameHeadersDir(workDir));
      log(`captured wharf's answers to ${n} request(s) for the same-headers ceiling`);
    } finally {
      await w.stop();
    }
  }

  log(
    `wharf ${env.wharfCommit ?? "?"} · ${env.cpu} × ${env.cores} · Node ${env.node} · nginx ${env.nginx} · wrk ${env.wrk}\n` +
      `${opts.rounds} round(s) × ${cases.length} case(s) × ${defs.length} server(s), ${opts.durationS} s each` +
      ` (+${opts.warmupS} s warm-up); server on CPU ${SERVER_CPU}, wrk on CPU ${WRK_CPU}`,
  );

  // Rounds outermost, so a slow drift of the machine spreads over every server;
  // within a case the server order rotates each round.
  const runs = [];
  const notApplicable = new Map(); // "case/server" -> reason: no need to ask again next round
  let retried = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const [ci, testCase] of cases.entries()) {
      for (const def of rotate(defs, round - 1 + ci)) {
        const key = `${testCase.id}/${def.name}`;
        const base = { caseId: testCase.id, server: def.name, round };
        if (notApplicable.has(key)) {
          runs.push({ ...base, status: "n/a", reason: notApplicable.get(key) });
          continue;
        }
        const result = await measureQuietly(def, testCase, ctx, opts);
        if (result.reason) result.reason = result.reason.replaceAll(workDir, "$TMP");
        if (result.attempts > 1) retried++;
        if (result.status === "n/a") notApplicable.set(key, result.reason);
        runs.push({ ...base, ...result });
        const shown =
          result.status === "ok"
            ? `${Math.round(result.value).toLocaleString("en-US")} ${testCase.metric}, p99 ${result.p99Ms?.toFixed(2)} ms` +
              `${result.otherLoadPct ? `, other load ${result.otherLoadPct}%` : ""}` +
              `${result.attempts > 1 ? ` (attempt ${result.attempts})` : ""}` +
              `${result.problems.length ? `  [${result.problems.join("; ")}]` : ""}`
            : `${result.status}: ${result.reason}`;
        log(`  round ${round}  ${testCase.id.padEnd(8)} ${def.name.padEnd(11)} ${shown}`);
      }
    }
  }

  if (retried > 0) log(`${retried} measurement(s) repeated because other processes loaded the machine`);

  let startup;
  if (opts.startupFiles > 0) {
    const tree = join(workDir, "tree");
    log(`building the startup tree (${opts.startupFiles.toLocaleString("en-US")} files) ...`);
    const buildMs = buildLargeTree(tree, opts.startupFiles);
    const startupRuns = [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const def of rotate(defs, round - 1)) {
        if (opts.retries > 0 && ctx.retryBudgetMs > 0) {
          const started = performance.now();
          await waitForQuiet(opts.maxOtherLoad, Math.min(15_000, ctx.retryBudgetMs));
          ctx.retryBudgetMs -= performance.now() - started;
        }
        let result;
        try {
          result = await measureStartup(def, { ...ctx, tree });
        } catch (e) {
          result = { status: "error", reason: e.message.split("\n")[0].replaceAll(workDir, "$TMP") };
        }
        startupRuns.push({ server: def.name, round, ...result });
        log(`  round ${round}  startup  ${def.name.padEnd(11)} ${result.status === "ok" ? `${result.ms.toFixed(0)} ms` : result.reason}`);
      }
    }
    startup = {
      files: opts.startupFiles,
      path: STARTUP_PATH,
      buildMs,
      servers: summarizeStartup(
        defs.map((d) => d.name),
        startupRuns,
      ),
      runs: startupRuns,
    };
  }

  const result = {
    meta: {
      date: new Date().toISOString(),
      rounds: opts.rounds,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      maxOtherLoadPct: opts.maxOtherLoad,
      retries: opts.retries,
      repeatedMeasurements: retried,
      serverCpu: SERVER_CPU,
      wrkCpu: WRK_CPU,
      wallSeconds: 0,
      env,
    },
    servers: defs.map((d) => d.name),
    cases: summarize(
      cases,
      defs.map((d) => d.name),
      runs,
      opts.maxOtherLoad,
    ),
    startup,
    runs,
  };
  result.meta.wallSeconds = Math.round((performance.now() - began) / 1000);

  console.log(`\n${renderText(result)}\n`);
  mkdirSync(join(opts.out, ".."), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  const md = `${opts.out.replace(/\.json$/, "")}.md`;
  writeFileSync(md, renderMarkdown(result));
  log(`wrote ${opts.out} and ${md} (${result.meta.wallSeconds} s in all)`);
}

main()
  .then(() => {
    cleanupNow();
  })
  .catch((e) => {
    console.error(`bench failed: ${e.stack ?? e}`);
    cleanupNow();
    process.exit(1);
  });
