/**
 * `nodeFileSystem.statEntries`, which a listing sorted by size or date calls for
 * every entry: a batch of 4,096 names or more is stat'ed in a worker thread
 * (src/fs/stat-worker.ts), a smaller one, or one while the worker is busy, by
 * callbacks. Both ways give exactly what `lstat` gives, `undefined` for a name
 * that is gone, is a symlink or cannot be an entry's.
 */
import assert from "node:assert/strict";
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { nodeFileSystem, statWorkerBatches } from "../../src/fs/node.js";
import type { FileStat } from "../../src/fs/types.js";

const FILES = 5000; // past the worker's threshold of 4,096
const BASE = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
let dir = "";

before(() => {
  dir = mkdtempSync(join(BASE, "wharf-stat-entries-"));
  for (let i = 0; i < FILES; i++) {
    const fd = openSync(join(dir, `f${i}.txt`), "w");
    if (i % 7 !== 0) writeSync(fd, "x".repeat(i % 300));
    closeSync(fd);
  }
  mkdirSync(join(dir, "sub"));
  symlinkSync("f1.txt", join(dir, "link"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What `lstat` says, as a FileStat; `undefined` for a symlink or a name that is not there. */
function expected(name: string): FileStat | undefined {
  if (name === "" || name === "." || name === ".." || name.includes("/")) return undefined;
  const s = lstatSync(join(dir, name), { throwIfNoEntry: false });
  if (s === undefined || s.isSymbolicLink()) return undefined;
  return { kind: s.isFile() ? "file" : s.isDirectory() ? "directory" : "other", size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
}

const ODD = ["sub", "link", "gone.txt", "", ".", "..", "../etc", "sub/x"];

describe("statEntries", () => {
  const cases: Array<[string, number, number]> = [
    ["a large batch (worker)", FILES, 1],
    ["a small batch (callbacks)", 100, 0],
  ];
  for (const [label, count, workers] of cases) {
    test(`${label}: exactly lstat's answers, in the order asked`, async () => {
      const names = [...Array.from({ length: count }, (_, i) => `f${count - 1 - i}.txt`), ...ODD];
      const before = statWorkerBatches();
      const got = await nodeFileSystem.statEntries!(dir, names);
      assert.equal(statWorkerBatches() - before, workers, "batches answered by the worker");
      assert.equal(got.length, names.length);
      for (const [i, name] of names.entries()) {
        assert.deepEqual(got[i], expected(name), `statEntries of ${JSON.stringify(name)}: got ${JSON.stringify(got[i])}`);
      }
    });
  }

  test("two large batches at once: one in the worker, one by callbacks, both exact", async () => {
    const names = Array.from({ length: FILES }, (_, i) => `f${i}.txt`);
    const before = statWorkerBatches();
    const [a, b] = await Promise.all([nodeFileSystem.statEntries!(dir, names), nodeFileSystem.statEntries!(dir, [...names].reverse())]);
    assert.equal(statWorkerBatches() - before, 1, "batches answered by the worker");
    names.forEach((name, i) => {
      assert.deepEqual(a[i], expected(name), name);
      assert.deepEqual(b[FILES - 1 - i], expected(name), name);
    });
  });
});
