/**
 * The Node file system's reads: a piece read ahead that fails while nobody is
 * waiting for it (the sender is parked on 'drain') must not become an unhandled
 * rejection, which kills the process; the error reaches whoever asks for that
 * piece.
 *
 * A failing disk is made from this process's own memory: /proc/PID/mem reads
 * fine where memory is mapped and fails with EIO where it is not, so a range that
 * runs off the end of a mapping gives a first piece and then a read error.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { nodeFileSystem } from "../../src/fs/node.js";

/** A readable mapping of at least 64 KiB followed by unmapped addresses, as [start, end). */
function mappingBeforeGap(): { start: number; end: number } | undefined {
  const rows = readFileSync("/proc/self/maps", "latin1")
    .trim()
    .split("\n")
    .map((line) => {
      const [range, perms] = line.split(" ");
      const [from, to] = range!.split("-").map((hex) => Number.parseInt(hex, 16));
      return { start: from!, end: to!, readable: perms!.startsWith("r") };
    });
  for (let i = 0; i + 1 < rows.length; i++) {
    const row = rows[i]!;
    if (row.readable && row.end - row.start >= 64 * 1024 && rows[i + 1]!.start > row.end && Number.isSafeInteger(row.end + 64 * 1024))
      return row;
  }
  return undefined;
}

test("a read ahead that fails while the sender waits is no unhandled rejection; the next piece throws it", {
  skip: process.platform !== "linux",
}, async () => {
  const gap = mappingBeforeGap();
  assert.ok(gap !== undefined, "a mapping followed by a gap");
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const file = await nodeFileSystem.open(`/proc/${process.pid}/mem`);
  try {
    const pieces = file.read(gap.end - 64 * 1024, gap.end + 64 * 1024)[Symbol.asyncIterator]();
    const first = await pieces.next();
    assert.equal(first.done, false);
    assert.equal((first.value as Uint8Array).length, 64 * 1024);
    // The piece after it is read meanwhile, and fails; nobody asks for it for a while.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], "an unhandled rejection");
    await assert.rejects(pieces.next(), (error: unknown) => (error as { code?: unknown }).code === "EIO");
  } finally {
    await file.close();
    process.off("unhandledRejection", onUnhandled);
  }
});
