/**
 * How a download's pieces are read (src/fs/node.ts): a piece given back once
 * written is read into again, and only that one; the first piece is read alone;
 * a piece read ahead that is not asked for within the shed delay is dropped and
 * read again when it is; the full-size pieces a download gives back at its end
 * are read into by the next download, a bounded number of them kept. Every case
 * checks the bytes against the file's.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  grownPieceBytes,
  nodeFileSystem,
  pooledPieceBytes,
  pooledPieces,
  READ_BUDGET,
  setPoolBytes,
  setShedDelay,
} from "../../src/fs/node.js";
import type { Recycling } from "../../src/fs/types.js";
import { waitFor } from "../helpers/wait.js";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "wharf-pieces-")));
const SIZE = 6 * 1024 * 1024 + 12_345;
const path = join(dir, "data.bin");
// Every 4 bytes their own offset: a piece read into the wrong buffer, at the
// wrong place or overwritten later shows.
const content = Buffer.alloc(SIZE);
for (let i = 0; i + 4 <= SIZE; i += 4) content.writeUInt32LE(i, i);
const digest = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

before(() => writeFileSync(path, content));
after(() => rmSync(dir, { recursive: true, force: true }));

type Reader = AsyncIterator<Uint8Array> & Recycling;

async function reader(start = 0, end = SIZE): Promise<{ read: Reader; close: () => Promise<void> }> {
  const file = await nodeFileSystem.open(path);
  return { read: file.read(start, end)[Symbol.asyncIterator]() as Reader, close: () => file.close() };
}

test("a download that gives each piece back once written reads into a handful of buffers, and the bytes are the file's", async () => {
  const { read, close } = await reader();
  const hash = createHash("sha256");
  const buffers = new Set<ArrayBufferLike>();
  let pieces = 0;
  try {
    for (let r = await read.next(); r.done !== true; r = await read.next()) {
      hash.update(r.value);
      buffers.add(r.value.buffer);
      pieces++;
      read.recycle?.(r.value);
    }
  } finally {
    await close();
  }
  assert.equal(hash.digest("hex"), digest(content));
  // 64, 128, 256, 512 KiB, then 512 KiB pieces read into the two in turn (a
  // 256 KiB one given back does not fit a 512 KiB read). Without recycling, one
  // buffer per piece: 16 here.
  assert.ok(pieces >= 14, `${pieces} pieces`);
  assert.ok(buffers.size <= 6, `${buffers.size} buffers for ${pieces} pieces`);
});

test("a piece not given back is never read into; giving back any but the last one handed out does nothing", async () => {
  const { read, close } = await reader();
  const kept: Uint8Array[] = [];
  const copies: string[] = [];
  try {
    let previous: Uint8Array | undefined;
    for (let r = await read.next(); r.done !== true; r = await read.next()) {
      kept.push(r.value);
      copies.push(digest(r.value));
      // The one before the last: never taken back.
      if (previous !== undefined) read.recycle?.(previous);
      previous = r.value;
    }
  } finally {
    await close();
  }
  assert.deepEqual(
    kept.map((p) => digest(p)),
    copies,
    "a piece held by its consumer changed after it was handed out",
  );
  assert.equal(digest(Buffer.concat(kept)), digest(content));
  assert.equal(new Set(kept.map((p) => p.buffer)).size, kept.length, "two pieces share a buffer");
});

test("the first piece is read alone; the read ahead starts once it is taken", async () => {
  const { read, close } = await reader();
  try {
    assert.equal(grownPieceBytes(), 0);
    const first = await read.next();
    assert.equal(first.value?.length, 64 * 1024);
    // Nothing read ahead: the next piece (128 KiB, counted in the budget) is not under way.
    assert.equal(grownPieceBytes(), 0, "a piece read ahead of the first");
    const second = await read.next();
    assert.equal(second.value?.length, 128 * 1024);
    assert.equal(digest(Buffer.concat([first.value as Uint8Array, second.value as Uint8Array])), digest(content.subarray(0, 192 * 1024)));
    // Now the third (256 KiB) is read ahead.
    assert.equal(grownPieceBytes(), 128 * 1024 + 256 * 1024);
  } finally {
    await close();
  }
  assert.equal(grownPieceBytes(), 0);
});

test("a piece read ahead and not asked for within the shed delay is dropped, then read again when asked for", async () => {
  const before = setShedDelay(50);
  const { read, close } = await reader();
  try {
    const got: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) got.push((await read.next()).value as Uint8Array); // 64, 128, 256, 512 KiB
    // Held: the 512 KiB piece handed out, and 512 KiB read ahead.
    assert.equal(grownPieceBytes(), 1024 * 1024);
    assert.ok(await waitFor(() => grownPieceBytes() === 512 * 1024, { deadline: 10_000 }), `held ${grownPieceBytes()} bytes`);
    // Asked for at last: read again, from the first size, at the right place.
    const next = (await read.next()).value as Uint8Array;
    assert.equal(next.length, 64 * 1024);
    got.push(next);
    assert.equal(digest(Buffer.concat(got)), digest(content.subarray(0, 960 * 1024 + 64 * 1024)));
  } finally {
    setShedDelay(before);
    await close();
  }
  assert.equal(grownPieceBytes(), 0);
});

test("pieces given back are read into by the next download, of every size, and at most the read budget is kept", async () => {
  // Downloads that give every piece back, one after the other: the second and
  // later read their pieces (64 KiB first, then doubling) into the buffers the ones before left.
  const seen: Set<ArrayBufferLike>[] = [];
  const small: Set<ArrayBufferLike>[] = [];
  for (let d = 0; d < 3; d++) {
    const { read, close } = await reader();
    const hash = createHash("sha256");
    const buffers = new Set<ArrayBufferLike>();
    const smaller = new Set<ArrayBufferLike>();
    try {
      for (let r = await read.next(); r.done !== true; r = await read.next()) {
        hash.update(r.value);
        if (r.value.length === 512 * 1024) buffers.add(r.value.buffer);
        else if ([64, 128, 256].some((k) => r.value.length === k * 1024)) smaller.add(r.value.buffer);
        read.recycle?.(r.value);
      }
    } finally {
      await close();
    }
    assert.equal(hash.digest("hex"), digest(content), `download ${d + 1}`);
    seen.push(buffers);
    small.push(smaller);
  }
  const [first, second] = seen as [Set<ArrayBufferLike>, Set<ArrayBufferLike>];
  assert.ok(
    [...second].some((b) => first.has(b)),
    "the second download allocated all its 512 KiB pieces afresh",
  );
  const [firstSmall, secondSmall] = small as [Set<ArrayBufferLike>, Set<ArrayBufferLike>];
  assert.equal(secondSmall.size, 3, "the second download's 64, 128 and 256 KiB pieces");
  assert.ok(
    [...secondSmall].every((b) => firstSmall.has(b)),
    "the second download allocated its 64, 128 or 256 KiB pieces afresh",
  );
  assert.ok(pooledPieces() >= 1, `${pooledPieces()} full-size pieces kept`);
  assert.ok(pooledPieceBytes() <= READ_BUDGET, `${pooledPieceBytes()} bytes kept`);

  // A crowd of downloads ending at once keeps no more than the bound; a piece
  // still held by its consumer (not given back) is never kept.
  const bound = 256 * 1024; // less than the crowd gives back (448 KiB: a download outgrows its 64, 128 and 256 KiB pieces)
  const budget = setPoolBytes(bound);
  const open = await Promise.all(Array.from({ length: 12 }, () => reader()));
  const held: Uint8Array[] = [];
  for (const { read } of open) {
    for (let i = 0; i < 5; i++) {
      const r = await read.next();
      held.push(r.value as Uint8Array);
      read.recycle?.(r.value as Uint8Array);
    }
    // Taken and not given back: must not be read into by anyone.
    held.push((await read.next()).value as Uint8Array);
  }
  const copies = held.map((p) => digest(p));
  for (const { read, close } of open) {
    await read.return?.();
    await close();
  }
  assert.ok(pooledPieceBytes() <= bound, `${pooledPieceBytes()} bytes kept, bound ${bound}`);
  setPoolBytes(budget);
  // More downloads now read into the kept pieces: what was not given back is unchanged.
  for (let d = 0; d < 2; d++) {
    const { read, close } = await reader();
    try {
      for (let r = await read.next(); r.done !== true; r = await read.next()) read.recycle?.(r.value);
    } finally {
      await close();
    }
  }
  const notGivenBack = held.filter((_, i) => i % 6 === 5);
  assert.deepEqual(
    notGivenBack.map((p) => digest(p)),
    copies.filter((_, i) => i % 6 === 5),
    "a piece not given back was read into",
  );
});
