/**
 * Reading a whole range for a consumer that takes each piece at once (a hash, a
 * copy into a buffer of its own), giving every piece back as soon as it is
 * taken: the reader then reads the next one into it ({@link Recycling}), and a
 * long read goes through a handful of buffers instead of a new one per piece.
 * Without this, hashing a 64 MiB file dropped 128 pieces of 512 KiB as garbage:
 * the collector ran for it and glibc kept the freed memory resident (under the
 * attack run's HTTP/2 zero-window class, array buffers reached 46 MiB for three
 * connections, most of them the background hash of the file they asked for).
 */
import type { Recycling } from "./types.js";

/** Runs `take` on each piece of `pieces` in order, giving each back once `take` has returned. */
export async function eachPiece(pieces: AsyncIterable<Uint8Array>, take: (piece: Uint8Array) => void): Promise<void> {
  const iterator = pieces[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & Recycling;
  let finished = false;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) {
        finished = true;
        return;
      }
      take(next.value);
      iterator.recycle?.(next.value);
    }
  } finally {
    // Stopped early (`take` threw): let the reader settle its read ahead and release, as for-await would.
    if (!finished) await iterator.return?.();
  }
}
