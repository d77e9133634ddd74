// Runs every compiled test file under build/test with Node's built-in test runner.
// Node 20's `--test` takes no globs, so the files are listed here.
// Arguments are substrings of the files to run (`server/log handler`); one that
// starts with `!` leaves out the files that contain the rest (`!build/test/browser/`).
// The Node that runs this script runs the tests (.ci/run runs it with 22 and 24 too).

import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...find(path));
    else if (entry.name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const filter = args.filter((a) => !a.startsWith("!"));
const excluded = args.filter((a) => a.startsWith("!")).map((a) => a.slice(1));
const files = find("build/test")
  .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)))
  .filter((f) => !excluded.some((s) => f.includes(s)))
  .sort();
// `node --test` given no file looks for tests everywhere under the working
// directory (the sources too): a filter that matches nothing is a mistake, not "all".
if (files.length === 0) {
  console.error(`test/run.mjs: no test file under build/test matches ${args.join(" ")}`);
  process.exit(1);
}
// A test that hangs (a child process that never exits, an event that never comes)
// fails after 5 minutes instead of stalling the run until CI's own limit; tests
// that need longer say so with their own `timeout`.
const TEST_TIMEOUT_MS = 300_000;
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", `--test-timeout=${TEST_TIMEOUT_MS}`, ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
