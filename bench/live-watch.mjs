#!/usr/bin/env node
// `node bench/live-watch.mjs [FILES] [--chokidar DIR]`: how long each way of
// watching a tree takes to be ready for FILES files (default 100,000, in
// directories of 100), its RSS, and whether it sees a file written into a
// directory made a moment before (the race of node issue 48437). Compares
// wharf's per-directory watcher (dist/features/live/watch-tree.js, npm run build
// first), Node's recursive fs.watch, and chokidar when DIR holds
// node_modules/chokidar (npm install --prefix DIR chokidar@4). Each runs in a
// child process of its own. The figures are in docs/design.md, "Live reload".
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [, , mode, ...rest] = process.argv;
const DIST = fileURLToPath(new URL("../dist/features/live/watch-tree.js", import.meta.url));

if (mode === "--child") {
  const [method, root, chokidarDir] = rest;
  const start = performance.now();
  const seen = new Set();
  let close;
  if (method === "wharf") {
    const { TreeWatcher } = await import(DIST);
    const w = new TreeWatcher({ root, skip: () => false, changed: (p) => seen.add(p), warn: console.error, pollMs: 0 });
    await w.ready;
    close = () => w.close();
  } else if (method === "recursive") {
    const { watch } = await import("node:fs");
    // Node 20 walks the tree inside watch() on Linux; it is ready when the call returns.
    const w = watch(root, { recursive: true }, (_t, name) => seen.add(String(name)));
    close = () => w.close();
  } else {
    const { createRequire } = await import("node:module");
    const chokidar = createRequire(join(chokidarDir, "x.js"))("chokidar");
    const w = chokidar.watch(root, { ignoreInitial: true });
    w.on("all", (_e, p) => seen.add(p.slice(root.length + 1)));
    await new Promise((r) => w.once("ready", r));
    close = () => w.close();
  }
  const readyMs = performance.now() - start;
  const rss = process.memoryUsage().rss;
  // The race: a directory made, and a file written into it at once.
  const fresh = join(root, "d0", "fresh");
  mkdirSync(fresh);
  writeFileSync(join(fresh, "inside.txt"), "x");
  const deadline = Date.now() + 2000;
  while (![...seen].some((p) => p.endsWith("inside.txt")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const sawFile = [...seen].some((p) => p.endsWith("inside.txt"));
  const sawDir = [...seen].some((p) => p.endsWith("fresh"));
  await close();
  process.stdout.write(JSON.stringify({ method, readyMs: Math.round(readyMs), rssMiB: Math.round(rss / 1048576), sawFile, sawDir }));
  process.exit(0);
}

const files = Number(mode ?? 100_000) || 100_000;
const chokidarIndex = process.argv.indexOf("--chokidar");
const chokidarDir = chokidarIndex > 0 ? process.argv[chokidarIndex + 1] : undefined;
const root = mkdtempSync(join(tmpdir(), "wharf-live-watch-"));
try {
  const perDir = 100;
  for (let d = 0; d < files / perDir; d++) {
    const dir = join(root, `d${d % 10}`, `s${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) writeFileSync(join(dir, `f${f}.txt`), "x");
  }
  console.log(`${files} files in ${files / perDir} directories, Node ${process.version}`);
  for (const method of ["wharf", "recursive", ...(chokidarDir ? ["chokidar"] : [])]) {
    rmSync(join(root, "d0", "fresh"), { recursive: true, force: true });
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", method, root, chokidarDir ?? ""], {
      encoding: "utf8",
      timeout: 120_000,
    });
    console.log(run.stdout || `${method}: failed ${run.stderr}`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
