// Builds the trees the servers serve. Contents and mtimes are deterministic, so
// every run (and every machine) serves the same bytes and the same listings.
import { closeSync, mkdirSync, openSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

/** A fixed mtime (2026-01-01T00:00:00Z), so Last-Modified, nginx's ETags and listings never vary. */
const MTIME = new Date("2026-01-01T00:00:00Z");

/** The files each case requests, and their sizes. */
export const FILES = {
  small: { path: "/small.txt", size: 1024 },
  medium: { path: "/medium.js", size: 100 * 1024 },
  large: { path: "/large.bin", size: 16 * 1024 * 1024 },
};
export const LISTING_PATH = "/list/";
export const LISTING_ENTRIES = 1000;
/** The huge directory of issue 13: 100,000 empty files, listed one 1,000-row page at a time. */
export const HUGE_LISTING_PATH = "/list100k/";
export const HUGE_LISTING_ENTRIES = 100_000;
export const MISSING_PATH = "/does-not-exist.txt";
export const STARTUP_PATH = "/deep/file.txt";

/** Deterministic pseudo-random bytes (xorshift32): incompressible like a real binary, same every run. */
function pseudoRandomBytes(size, seed = 0x9e3779b9) {
  const buf = Buffer.allocUnsafe(size);
  let x = seed >>> 0;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  for (; i < size; i++) buf[i] = i & 0xff;
  return buf;
}

/** Text of exactly `size` bytes made of repeated lines. */
function textOfSize(size, line) {
  return Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size));
}

function put(path, data) {
  writeFileSync(path, data);
  utimesSync(path, MTIME, MTIME);
}

/**
 * The main fixture: small.txt (1 KiB), medium.js (100 KiB), large.bin (16 MiB),
 * and list/ with 1,000 entries (100 directories, 900 small files) for the
 * listing case.
 */
export function buildFixture(root) {
  mkdirSync(root, { recursive: true });
  put(join(root, "small.txt"), textOfSize(FILES.small.size, "The quick brown fox jumps over the lazy dog.\n"));
  put(join(root, "medium.js"), textOfSize(FILES.medium.size, "export function add(a, b) { return a + b; } // padding to look like code\n"));
  put(join(root, "large.bin"), pseudoRandomBytes(FILES.large.size));

  const list = join(root, "list");
  mkdirSync(list);
  const dirs = LISTING_ENTRIES / 10;
  for (let i = 1; i <= dirs; i++) {
    const dir = join(list, `folder-${String(i).padStart(3, "0")}`);
    mkdirSync(dir);
    utimesSync(dir, MTIME, MTIME);
  }
  for (let i = 1; i <= LISTING_ENTRIES - dirs; i++) {
    // A mix of name shapes: natural-order numbers, spaces, non-ASCII, characters to escape.
    const name = i % 50 === 0 ? `report & notes ${i}.txt` : i % 30 === 0 ? `café-${i}.md` : `file-${i}.txt`;
    put(join(list, name), `entry ${i}\n`.repeat(1 + (i % 40)));
  }
  utimesSync(list, MTIME, MTIME);
  const huge = join(root, HUGE_LISTING_PATH.slice(1, -1));
  mkdirSync(huge);
  for (let i = 0; i < HUGE_LISTING_ENTRIES; i++) closeSync(openSync(join(huge, `f${i}.txt`), "w"));
  utimesSync(huge, MTIME, MTIME);
  utimesSync(root, MTIME, MTIME);
}

/**
 * The startup tree: `count` tiny files in directories of 1,000, plus
 * deep/file.txt, the file each server is asked for until it answers.
 * Returns how long building took, in ms.
 */
export function buildLargeTree(root, count) {
  const started = performance.now();
  mkdirSync(join(root, "deep"), { recursive: true });
  writeFileSync(join(root, "deep", "file.txt"), "found\n");
  const perDir = 1000;
  const content = Buffer.from("x\n");
  for (let i = 0; i < count; i++) {
    const dir = join(root, `d${String(Math.floor(i / perDir)).padStart(4, "0")}`);
    if (i % perDir === 0) mkdirSync(dir);
    const fd = openSync(join(dir, `f${String(i).padStart(6, "0")}.txt`), "w");
    writeSync(fd, content);
    closeSync(fd);
  }
  return performance.now() - started;
}
