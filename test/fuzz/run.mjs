#!/usr/bin/env node
// `npm run fuzz`: the properties of test/fuzz/*.test.ts with many more runs and a
// fresh random seed each round, for as long as asked, plus the timing check the
// unit tests leave out ("an 8 KB crafted header is handled in a few
// milliseconds"). Needs the compiled tests: `npm run fuzz` builds them first.
//
//   node test/fuzz/run.mjs [--minutes N] [--scale K] [--seed S] [--no-timing]
//
// --minutes: how long to keep starting rounds (default 2); --scale: how many times
// npm test's runs each property gets per round (default 20, or FUZZ_SCALE);
// --seed: one round with this seed (replay). A failing round prints its seed and
// the command that replays it, and the script exits 1.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUILD = join(ROOT, "build");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const minutes = Number(arg("minutes", "2"));
const scale = Number(arg("scale", process.env.FUZZ_SCALE ?? "20"));
const fixedSeed = arg("seed", undefined);
const timing = !process.argv.includes("--no-timing");

let failed = false;

// ---------------------------------------------------------------------------
// Timing: crafted 8 KB values through every parser a request reaches.

const load = (path) => import(pathToFileURL(join(BUILD, path)).href);

async function timingChecks() {
  const { evaluateRange } = await load("src/http/range.js");
  const { parseEntityTagList } = await load("src/http/etag.js");
  const { parseHttpDate } = await load("src/http/dates.js");
  const { evaluatePreconditions } = await load("src/http/preconditions.js");
  const { resolveRequestPath } = await load("src/path/resolve.js");
  const { escapeLogField } = await load("src/server/log.js");
  const negotiate = await load("src/http/negotiate.js").catch(() => undefined);
  const patterns = await load("src/features/patterns.js").catch(() => undefined);

  const KB8 = 8192;
  const fill = (piece, prefix = "") => prefix + piece.repeat(Math.ceil((KB8 - prefix.length) / piece.length)).slice(0, KB8 - prefix.length);
  const validators = { etag: { weak: false, opaque: '"abc"' }, lastModifiedMs: 0 };
  const cases = [
    ["Range: 2,000 one-byte ranges (over maxRanges)", () => evaluateRange(fill("0-0,", "bytes="), 1e6)],
    [
      "Range: 2,000 ranges, no limit (parse, sort, coalesce)",
      () => evaluateRange(fill("7-7,3-3,", "bytes="), 1e6, { maxRanges: Infinity }),
    ],
    [
      "Range: ranges in reverse order, no limit",
      () =>
        evaluateRange(`bytes=${Array.from({ length: 1000 }, (_, i) => `${(1000 - i) * 100}-${(1000 - i) * 100 + 1}`).join(",")}`, 1e6, {
          maxRanges: Infinity,
        }),
    ],
    ["Range: 8 KB of digits", () => evaluateRange(`${fill("0", "bytes=")}-`, 1e6)],
    ["Range: 8 KB of whitespace and commas", () => evaluateRange(fill(" ,", "bytes="), 1e6)],
    ["If-None-Match: 2,000 tags", () => parseEntityTagList(fill('"a",'))],
    ["If-None-Match: one unterminated 8 KB tag", () => parseEntityTagList(fill("x", 'W/"'))],
    ["If-None-Match: 8 KB of commas", () => parseEntityTagList(fill(","))],
    [
      "If-Match + If-None-Match + dates: preconditions",
      () => evaluatePreconditions("GET", (n) => (n.startsWith("if-m") ? fill('"a", ') : fill("Sun, ")), validators),
    ],
    ["HTTP-date: 8 KB", () => parseHttpDate(fill("Sun, "))],
    ["path: 8 KB of %2e%2e/", () => resolveRequestPath(fill("%2e%2e/", "/a/"))],
    ["path: 4,000 segments", () => resolveRequestPath(fill("/a"))],
    ["path: 8 KB of percent-encoded UTF-8", () => resolveRequestPath(fill("%c3%a9", "/"))],
    ["log field: 8 KB of ESC", () => escapeLogField(fill("\x1b"))],
  ];
  if (negotiate !== undefined) {
    const offered = ["br", "zstd", "gzip"];
    cases.push(
      ["Accept-Encoding: 800 weighted codings", () => negotiate.negotiateEncoding(fill("gzip;q=0.5,"), offered)],
      ["Accept-Encoding: 8 KB of ;q=", () => negotiate.negotiateEncoding(fill(";q="), offered)],
      ["Accept-Encoding: 8 KB of commas", () => negotiate.negotiateEncoding(fill(","), offered)],
      ["Accept-Encoding: one 8 KB qvalue", () => negotiate.negotiateEncoding(fill("0", "gzip;q=0."), offered)],
    );
  }
  if (patterns !== undefined) {
    // Route sources are the operator's; the path is the client's. 2 KB, not 8:
    // the known-bad shape is cubic, and 8 KB would take seconds per request.
    const path = `/${"a/".repeat(1000)}`;
    for (const source of ["/:x/**", "/:x/**/a/**/b", "/:x/**/a/**/a/**/b"]) {
      const match = patterns.compileSource(source);
      cases.push([`route source ${source} on a 2 KB path`, () => match(path)]);
    }
  }

  const LIMIT_MS = 5; // "a few milliseconds", for the median of 30 runs
  console.log(`timing: each case 30 times after a warm-up; fails if the median exceeds ${LIMIT_MS} ms`);
  for (const [name, run] of cases) {
    for (let i = 0; i < 3; i++) run();
    const times = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      run();
      times.push(performance.now() - t);
      if (times.reduce((a, b) => a + b, 0) > 5000) break; // a pathological case: enough evidence
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1];
    const ok = median <= LIMIT_MS;
    if (!ok) failed = true;
    console.log(
      `  ${ok ? "ok  " : "SLOW"} ${median.toFixed(3).padStart(9)} ms median, ${times.at(-1).toFixed(3).padStart(9)} ms max  ${name}`,
    );
  }
}

// ---------------------------------------------------------------------------
// Properties: rounds of test/fuzz/*.test.js with random seeds.

function propertyRound(seed) {
  const dir = join(BUILD, "test", "fuzz");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".test.js"))
    .map((f) => join(dir, f));
  const started = performance.now();
  const result = spawnSync(process.execPath, ["--test", "--test-reporter=dot", ...files], {
    env: { ...process.env, FUZZ_SEED: String(seed), FUZZ_SCALE: String(scale) },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    console.log(`  seed ${seed}: passed (${seconds} s)`);
    return true;
  }
  console.log(`  seed ${seed}: FAILED (${seconds} s)\n${result.stdout}${result.stderr}`);
  console.log(`replay: FUZZ_SEED=${seed} FUZZ_SCALE=${scale} node --test build/test/fuzz/*.test.js`);
  return false;
}

if (timing) await timingChecks();
console.log(`properties: ${fixedSeed === undefined ? `random seeds for ${minutes} min` : `seed ${fixedSeed}`}, ${scale}x npm test's runs`);
const deadline = performance.now() + minutes * 60_000;
let rounds = 0;
do {
  const seed = fixedSeed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(fixedSeed);
  rounds++;
  if (!propertyRound(seed)) {
    failed = true;
    break;
  }
} while (fixedSeed === undefined && performance.now() < deadline);
console.log(`${rounds} round${rounds === 1 ? "" : "s"}; ${failed ? "FAILED" : "all passed"}`);
process.exit(failed ? 1 : 0);
