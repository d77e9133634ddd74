// The cold listing of a 100,000-entry directory (issue 13 item 5), in-process
// with createHandler: for each view, a fresh process serves one small file (so
// the modules are loaded), then asks for the view once (cold: the directory not
// read yet) and three more times (warm: the kept page or the snapshot, while it is
// fresh). Wall time
// and the process's CPU time (process.cpuUsage: every thread, the stat workers
// and libuv's pool included) are printed as min and median over the rounds; the
// CPU time moves far less than the wall time when other jobs load the machine.
//
//   npm run build && node bench/listing-cold.mjs [--rounds 5] [--entries 100000] [--dist dist]
//
// The files are created in a shuffled order with sizes of 0-96 bytes, so the
// directory is not read back already in name order (tmpfs lists in creation
// order; ext4 in hash order) and a size sort has work to do.
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const VIEWS = [
  ["first page by name", "/big/"],
  ["first page by size", "/big/?sort=size"],
  ["first page by date", "/big/?sort=mtime"],
];

if (process.argv[2] === "--child") {
  const [, , , dist, root, target] = process.argv;
  const { createHandler } = await import(pathToFileURL(join(dist, "index.js")).href);
  const handler = createHandler({ root, listing: true });
  const get = async (path) => {
    const res = await handler.fetch(new Request(`http://localhost${path}`));
    const body = await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    return body.byteLength;
  };
  await get("/small.txt");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const bytes = await get(target);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const warm = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await get(target);
    warm.push(performance.now() - t);
  }
  console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, warmMs: Math.min(...warm), bytes }));
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    entries: { type: "string", default: "100000" },
    dist: { type: "string", default: "dist" },
  },
});
const rounds = Number(values.rounds);
const entries = Number(values.entries);
const dist = resolve(values.dist);

// tmpfs when there is one: 100,000 files are created there in a second.
const root = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "wharf-listing-cold-"));
try {
  closeSync(openSync(join(root, "small.txt"), "w"));
  const big = join(root, "big");
  mkdirSync(big);
  for (let i = 0; i < 3; i++) mkdirSync(join(big, `dir${i}`));
  // A fixed shuffle (a linear congruential generator), so every run lists the same tree.
  const order = Array.from({ length: entries }, (_, i) => i);
  let seed = 20261130;
  for (let i = order.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const i of order) {
    const fd = openSync(join(big, `f${i}.txt`), "w");
    if (i % 97 > 0) writeSync(fd, "x".repeat(i % 97));
    closeSync(fd);
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (xs) => `min ${Math.min(...xs).toFixed(0)} / median ${median(xs).toFixed(0)}`;
  console.log(
    `${entries.toLocaleString("en")} entries + 3 directories in ${root}; ${rounds} rounds; load average ${loadavg()[0].toFixed(1)}`,
  );
  const self = fileURLToPath(import.meta.url);
  for (const [label, target] of VIEWS) {
    const runs = [];
    for (let r = 0; r < rounds; r++) {
      runs.push(JSON.parse(execFileSync(process.execPath, [self, "--child", dist, root, target], { encoding: "utf8" })));
    }
    console.log(
      `${label.padEnd(19)} cold wall ms ${fmt(runs.map((x) => x.ms))}, CPU ms ${fmt(runs.map((x) => x.cpuMs))}; ` +
        `warm ${Math.min(...runs.map((x) => x.warmMs)).toFixed(1)} ms; ${runs[0].bytes} bytes`,
    );
  }
  console.log(`load average at the end ${loadavg()[0].toFixed(1)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
