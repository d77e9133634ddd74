#!/usr/bin/env node
import { spawnSync } from "node:child_process";
// `npm run bench:ab -- --base REV`: this checkout's wharf against another
// build of wharf, head to head, on the hot-path cases (1 KiB, 304, 404,
// Connection: close). Both are measured in the same run, alternating A and B
// in every round, so machine noise falls on both alike; the ratio B/A is what
// an issue's "within 5% of today's" means. The server is pinned to CPU 0 and
// wrk to CPU 1, as in `npm run bench`.
//
// --base REV builds REV in a temporary git worktree (npm ci + build) under
// bench/.cache/ab-REV; --base-bin PATH uses an already built dist/cli/bin.js.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CASES, checkCase, validateRun } from "./cases.mjs";
import { buildFixture } from "./fixture.mjs";
import { cleanupNow, installExitHandlers, onCleanup } from "./procs.mjs";
import { startServer } from "./servers.mjs";
import { CACHE_DIR, ensureSystemTools, ensureWharfBuilt, REPO_ROOT } from "./tools.mjs";
import { runWrk } from "./wrk.mjs";

const USAGE = `usage: npm run bench:ab -- (--base REV | --base-bin PATH) [options]

  --base REV       the build to compare against: a git revision (built once, cached)
  --base-bin PATH  ...or an already built dist/cli/bin.js
  --rounds N       rounds, each measuring A then B (or B then A, alternating) (default 5)
  --duration S     seconds per measurement (default 4)
  --cases a,b      cases (default small,etag304,notfound,close)
  --flags "..."    extra wharf flags for both builds (e.g. "--send-timeout 30")
  --head-flags "..." extra wharf flags for this checkout's build only: with --base-bin
                   a copy of this build, what a flag costs (e.g. "--metrics 0")
  --config JSON    write JSON as wharf.json in the served directory (e.g. '{"cleanUrls":false}'),
                   to measure a site that carries its configuration file
  --log            both builds write their access log (to stderr, a pipe this script
                   reads) instead of running with -q
  -h, --help       this text`;

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    "base-bin": { type: "string" },
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "4" },
    cases: { type: "string", default: "small,etag304,notfound,close" },
    flags: { type: "string", default: "" },
    "head-flags": { type: "string", default: "" },
    config: { type: "string" },
    log: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help || (values.base === undefined && values["base-bin"] === undefined)) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${(r.stdout ?? "") + (r.stderr ?? "")}`.slice(-3000));
  return r.stdout.trim();
}

function baseBin() {
  if (values["base-bin"] !== undefined) return values["base-bin"];
  const rev = run("git", ["rev-parse", "--short", values.base], { cwd: REPO_ROOT });
  const dir = join(CACHE_DIR, `ab-${rev}`);
  const bin = join(dir, "dist/cli/bin.js");
  if (!existsSync(bin)) {
    console.log(`building ${rev} in ${dir} ...`);
    rmSync(dir, { recursive: true, force: true });
    spawnSync("git", ["worktree", "prune"], { cwd: REPO_ROOT });
    run("git", ["worktree", "add", "--detach", dir, rev], { cwd: REPO_ROOT });
    run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir });
    run("npm", ["run", "build"], { cwd: dir });
  }
  return bin;
}

installExitHandlers();
const log = (m) => console.log(m);
const system = ensureSystemTools(log);
const headBin = ensureWharfBuilt(log);
const base = baseBin();
const extra = values.flags.split(/\s+/).filter(Boolean);
const headExtra = values["head-flags"].split(/\s+/).filter(Boolean);
const builds = [
  { name: "base", bin: base, flags: extra },
  { name: "head", bin: headBin, flags: [...extra, ...headExtra] },
];
const root = mkdtempSync(join(os.tmpdir(), "wharf-ab-"));
onCleanup(() => rmSync(root, { recursive: true, force: true }));
buildFixture(root);
// The CLI finds wharf.json in the served directory (-d) and hides it by its real path.
if (values.config !== undefined) writeFileSync(join(root, "wharf.json"), JSON.stringify(JSON.parse(values.config)));
const cases = values.cases.split(",").map((id) => {
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`unknown case ${id}`);
  return c;
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
// --explain off, as `npm run bench` runs wharf (bench/servers.mjs): the client is
// on loopback only because a bench must be, and wharf explains 404s to loopback
// clients by default, which reads the directory for every 404 (a person's tool).
const shared = values.log ? ["--explain", "off"] : ["-q", "--explain", "off"];
const results = new Map(); // `${case}/${build}` -> rps[]

for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? builds : [...builds].reverse();
  for (const build of order) {
    const def = {
      name: build.name,
      command: ({ port }) => [process.execPath, [build.bin, String(port), "-b", "127.0.0.1", "-d", root, ...shared, ...build.flags]],
    };
    const server = await startServer(def, { taskset: system.taskset, cpu: 0, root, workDir: root });
    try {
      for (const c of cases) {
        const checked = await checkCase(c, server.port);
        if (checked.na) throw new Error(`${build.name} ${c.id}: ${checked.na}`);
        await runWrk({
          wrk: system.wrk,
          taskset: system.taskset,
          cpu: 1,
          url: server.url(c.path),
          connections: c.connections,
          durationS: 1,
          headers: checked.headers,
        });
        const r = await runWrk({
          wrk: system.wrk,
          taskset: system.taskset,
          cpu: 1,
          url: server.url(c.path),
          connections: c.connections,
          durationS: duration,
          headers: checked.headers,
          watchPids: [server.pid],
        });
        const problems = validateRun(c, r);
        if (problems.length > 0) throw new Error(`${build.name} ${c.id}: ${problems.join("; ")}`);
        const key = `${c.id}/${build.name}`;
        results.set(key, [...(results.get(key) ?? []), r.requestsPerSec]);
        log(`round ${round + 1} ${build.name.padEnd(4)} ${c.id.padEnd(9)} ${Math.round(r.requestsPerSec)} req/s`);
      }
    } finally {
      await server.stop();
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`\n| case | base req/s (median, min-max) | head req/s (median, min-max) | head / base |`);
console.log(`|---|---|---|---|`);
for (const c of cases) {
  const a = results.get(`${c.id}/base`);
  const b = results.get(`${c.id}/head`);
  const fmt = (xs) => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))})`;
  console.log(`| ${c.title} | ${fmt(a)} | ${fmt(b)} | ${(median(b) / median(a)).toFixed(3)} |`);
}
cleanupNow();
