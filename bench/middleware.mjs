#!/usr/bin/env node
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
// `node bench/middleware.mjs`: the library's handler (createHandler from dist/)
// bare, against the same handler with one header-setting middleware, on the
// hot-path cases (1 KiB file, 304). Issue 12 item 4's "within 5% of bare": the
// configurations are measured in the same run, in an order that alternates every
// round, so machine noise falls on all alike. The server is pinned to CPU 0 and
// wrk to CPU 1, as in `npm run bench` and bench/ab.mjs.
//
// Configurations: bare (no middleware); next, `(req, next) => next(req)`, one
// synchronous middleware that passes every request on (the cost of a step of the
// chain itself, issue 12 item 4); sync, `(req, next) => withHeader(next(),
// "x-frame-options", "DENY")`, the README's way, which keeps a cached file in the
// same tick; await, `async (req, next) => withHeader(await next(), ...)`, the same
// header through an awaiting middleware (a promise per request); spread, the same
// header set by hand with `{ ...reply, headers: { ...reply.headers, name: value } }`
// (what withHeader did before 2026-12-01: on Node 20 a spread followed by a field
// the source lacks is about 1 µs, src/core/copy.ts); cli, the wharf
// command on the same files; cli-json, the wharf command on a copy with a
// wharf.json ({"cleanUrls": false}) in the served directory, which the CLI hides
// by its real path and which must not cost the fast path.
//
// Also the server itself: `node bench/middleware.mjs --serve PORT CONFIG ROOT`.
import { createServer } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CASES, checkCase, validateRun } from "./cases.mjs";
import { buildFixture } from "./fixture.mjs";
import { HOST } from "./probe.mjs";
import { cleanupNow, installExitHandlers, onCleanup } from "./procs.mjs";
import { startServer } from "./servers.mjs";
import { ensureSystemTools, ensureWharfBuilt, REPO_ROOT } from "./tools.mjs";
import { runWrk } from "./wrk.mjs";

/** The server's CPU time so far, in ms (utime + stime of /proc/PID/stat, 10 ms ticks). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

const CONFIGS = ["bare", "next", "sync", "await", "cli", "cli-json", "spread"];

if (process.argv[2] === "--serve") {
  const [, , , port, config, root] = process.argv;
  const { createHandler, withHeader } = await import(pathToFileURL(join(REPO_ROOT, "dist", "index.js")).href);
  const use = {
    bare: [],
    next: [(req, next) => next(req)],
    sync: [(_req, next) => withHeader(next(), "x-frame-options", "DENY")],
    await: [async (_req, next) => withHeader(await next(), "x-frame-options", "DENY")],
    spread: [
      (_req, next) => {
        const r = next();
        const f = (x) => ({ ...x, headers: { ...x.headers, "x-frame-options": "DENY" } });
        return r instanceof Promise ? r.then(f) : f(r);
      },
    ],
  }[config];
  if (use === undefined) throw new Error(`unknown configuration ${config}`);
  createServer(createHandler({ root, use })).listen(Number(port), HOST);
} else {
  const USAGE = `usage: node bench/middleware.mjs [options]

  --rounds N       rounds, each measuring every configuration back to back, order alternating (default 5)
  --duration S     seconds per measurement (default 2)
  --cases a,b      cases (default small,etag304)
  --configs a,b    configurations (default ${CONFIGS.join(",")})
  -h, --help       this text`;
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "5" },
      duration: { type: "string", default: "2" },
      cases: { type: "string", default: "small,etag304" },
      configs: { type: "string", default: CONFIGS.join(",") },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  installExitHandlers();
  const log = (m) => console.log(m);
  const system = ensureSystemTools(log);
  ensureWharfBuilt(log);
  const root = mkdtempSync(join(os.tmpdir(), "wharf-mw-"));
  onCleanup(() => rmSync(root, { recursive: true, force: true }));
  buildFixture(root);
  const self = fileURLToPath(import.meta.url);
  const withConfig = mkdtempSync(join(os.tmpdir(), "wharf-mw-json-"));
  onCleanup(() => rmSync(withConfig, { recursive: true, force: true }));
  buildFixture(withConfig);
  writeFileSync(join(withConfig, "wharf.json"), JSON.stringify({ cleanUrls: false }));
  const bin = join(REPO_ROOT, "dist", "cli", "bin.js");
  const commands = {
    cli: (port) => [process.execPath, [bin, String(port), "-b", HOST, "-d", root, "-q"]],
    "cli-json": (port) => [process.execPath, [bin, String(port), "-b", HOST, "-d", withConfig, "-q"]],
  };
  const cases = values.cases.split(",").map((id) => {
    const c = CASES.find((x) => x.id === id);
    if (!c) throw new Error(`unknown case ${id}`);
    return c;
  });
  const configs = values.configs.split(",");
  for (const c of configs) if (!CONFIGS.includes(c)) throw new Error(`unknown configuration ${c}`);
  const rounds = Number(values.rounds);
  const duration = Number(values.duration);
  const results = new Map(); // `${case}/${config}` -> rps[]
  log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (${os.cpus().length} CPUs)`,
  );

  // Every configuration's server runs throughout (an idle one costs nothing), so
  // that the measurements of one round follow each other within seconds: the
  // ratio of each round is taken on a machine in one state, and the median of
  // those ratios is reported, next to the medians of the rates.
  const servers = new Map();
  for (const config of configs) {
    const def = {
      name: config,
      command: ({ port }) => commands[config]?.(port) ?? [process.execPath, [self, "--serve", String(port), config, root]],
    };
    servers.set(config, await startServer(def, { taskset: system.taskset, cpu: 0, root, workDir: root }));
  }
  const checked = new Map();
  for (const [config, server] of servers) {
    for (const c of cases) {
      const check = await checkCase(c, server.port);
      if (check.na) throw new Error(`${config} ${c.id}: ${check.na}`);
      checked.set(`${c.id}/${config}`, check.headers);
      await runWrk({
        wrk: system.wrk,
        taskset: system.taskset,
        cpu: 1,
        url: server.url(c.path),
        connections: c.connections,
        durationS: 1,
        headers: check.headers,
      });
    }
  }
  const ratios = new Map(); // `${case}/${config}` -> (config / bare) per round
  const cpu = new Map(); // `${case}/${config}` -> server CPU µs per request
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? configs : [...configs].reverse();
      for (const c of cases) {
        const rate = {};
        for (const config of order) {
          const server = servers.get(config);
          const cpuBefore = cpuMs(server.pid);
          const r = await runWrk({
            wrk: system.wrk,
            taskset: system.taskset,
            cpu: 1,
            url: server.url(c.path),
            connections: c.connections,
            durationS: duration,
            headers: checked.get(`${c.id}/${config}`),
            watchPids: [server.pid],
          });
          // CPU time per request: unlike the rate, barely moved by other load on the machine.
          const perRequest = ((cpuMs(server.pid) - cpuBefore) * 1000) / r.requests;
          cpu.set(`${c.id}/${config}`, [...(cpu.get(`${c.id}/${config}`) ?? []), perRequest]);
          const problems = validateRun(c, r);
          if (problems.length > 0) throw new Error(`${config} ${c.id}: ${problems.join("; ")}`);
          rate[config] = r.requestsPerSec;
          const key = `${c.id}/${config}`;
          results.set(key, [...(results.get(key) ?? []), r.requestsPerSec]);
        }
        log(`round ${round + 1} ${c.id.padEnd(9)} ${order.map((cfg) => `${cfg} ${Math.round(rate[cfg])}`).join(", ")} req/s`);
        if (rate.bare !== undefined) {
          for (const cfg of configs)
            if (cfg !== "bare") ratios.set(`${c.id}/${cfg}`, [...(ratios.get(`${c.id}/${cfg}`) ?? []), rate[cfg] / rate.bare]);
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  log(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const fmt = (xs) => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))})`;
  const others = configs.filter((c) => c !== "bare");
  console.log(
    `\n| case | ${configs.map((c) => `${c} req/s (median, min-max)`).join(" | ")} | ${others.map((c) => `${c} / bare (median of rounds, min-max)`).join(" | ")} |`,
  );
  console.log(`|---|${configs.map(() => "---|").join("")}${others.map(() => "---|").join("")}`);
  for (const c of cases) {
    const cells = configs.map((cfg) => fmt(results.get(`${c.id}/${cfg}`)));
    const rs = others.map((cfg) => {
      const xs = ratios.get(`${c.id}/${cfg}`);
      return xs === undefined ? "-" : `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
    });
    console.log(`| ${c.title} | ${cells.join(" | ")} | ${rs.join(" | ")} |`);
  }
  console.log(`\nServer CPU time per request, µs (median, min-max):\n`);
  console.log(`| case | ${configs.join(" | ")} | ${others.map((c) => `${c} / bare`).join(" | ")} |`);
  console.log(`|---|${configs.map(() => "---|").join("")}${others.map(() => "---|").join("")}`);
  for (const c of cases) {
    const m = (cfg) => median(cpu.get(`${c.id}/${cfg}`));
    const cells = configs.map((cfg) => {
      const xs = cpu.get(`${c.id}/${cfg}`);
      return `${m(cfg).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
    });
    console.log(
      `| ${c.title} | ${cells.join(" | ")} | ${others.map((cfg) => (configs.includes("bare") ? (m(cfg) / m("bare")).toFixed(3) : "-")).join(" | ")} |`,
    );
  }
  cleanupNow();
}
