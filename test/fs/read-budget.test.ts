/**
 * The pieces all downloads hold together are bounded (src/fs/node.ts
 * READ_BUDGET): 100 downloads that each took a few pieces and stopped (clients
 * that stopped reading) hold at most the budget in grown pieces, not 1 MiB each;
 * closing their files gives everything back.
 */
import assert from "node:assert/strict";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { grownPieceBytes, nodeFileSystem, READ_BUDGET, setShedDelay } from "../../src/fs/node.js";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "wharf-budget-")));
after(() => rmSync(dir, { recursive: true, force: true }));

test("100 stalled downloads hold at most the read budget in grown pieces, and give it back when closed", async () => {
  const path = join(dir, "big.bin");
  writeFileSync(path, Buffer.alloc(8 * 1024 * 1024, 0x61));
  const files = await Promise.all(Array.from({ length: 100 }, () => nodeFileSystem.open(path)));
  // Nothing shed on a busy machine while the 100 are taken: the budget is what is measured.
  const shed = setShedDelay(60_000);
  try {
    const reads = files.map((f) => f.read(0, 8 * 1024 * 1024)[Symbol.asyncIterator]());
    // Five pieces each (64, 128, 256, 512, 512 KiB), the next read ahead: then stalled.
    for (let i = 0; i < 5; i++) for (const r of reads) assert.equal((await r.next()).done, false);
    const held = grownPieceBytes();
    // Unbounded, each would hold its 512 KiB piece and a 512 KiB read ahead: 100 MiB.
    assert.ok(held <= READ_BUDGET, `grown pieces held: ${held} bytes, budget ${READ_BUDGET}`);
    assert.ok(held > READ_BUDGET / 2, `the first downloads still grow: ${held} bytes`);
  } finally {
    setShedDelay(shed);
    await Promise.all(files.map((f) => f.close()));
  }
  assert.equal(grownPieceBytes(), 0, "closing the files gives the budget back");
});
