/**
 * HTTP/2 output written so that its progress can be seen, stream by stream: the
 * signal the send timeout (src/server/secure.ts) needs to tell a client that reads
 * slowly from one that does not read at all.
 *
 * Node reports no bytes sent per stream, and a stream's queued writes are merged
 * into one (writev) whose callback comes when the last of them is sent: a 1 MiB
 * body written at once reports nothing until all of it has gone, so a download at
 * 320 KiB/s looked stalled for three seconds. A write's callback does come once
 * nghttp2 has taken its bytes and the socket has written them, which is after the
 * client's flow-control window (RFC 9113 §5.2) let them go: that is progress. So a
 * watched stream's body goes out in slices, at most two handed to the stream at a
 * time (one being sent, one queued behind it, so that none is merged), each
 * completion counted. A slice is sized to what the client took in
 * `timeoutMs / 16` at its last slice's pace (from 16 KiB to 512 KiB): a slow client
 * completes a small slice well within the timeout, a fast one gets writes large
 * enough that slicing costs nothing.
 *
 * A stream is watched when the server that accepted its connection has a send
 * timeout ({@link watchSessionSend}); an HTTP/2 server of the caller's own (the
 * middleware use) writes as before.
 */
import type { Http2ServerResponse, Http2Session, Http2Stream } from "node:http2";

/** Write sizes, in bytes. */
export const SLICE = {
  /**
   * The first write, and the smallest: one DATA frame at the default
   * SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2). A client taking 1 KiB/s completes
   * one in 16 s, inside the default send timeout of 30 s.
   */
  min: 16 * 1024,
  /**
   * The largest: one read piece (src/fs/node.ts), so a fast client's writes are
   * what they were unsliced. Measured on loopback, an 8 MiB download written in
   * 256 KiB slices took 15% more CPU than in 512 KiB pieces; 512 KiB, the same.
   */
  max: 512 * 1024,
} as const;

/** How much of the send timeout one write should take, at most, at the pace last seen. */
const SHARE_OF_TIMEOUT = 16;

/**
 * The size of the next write to a stream whose last write, of `bytes`, took `tookMs`
 * to complete, under a send timeout of `timeoutMs`, when writes were `current`
 * bytes: what the client took in `timeoutMs / 16` at that pace, as a power of two
 * between {@link SLICE.min} and {@link SLICE.max}, and never more than twice
 * `current` (one fast write is little evidence). So a client whose pace falls
 * less than 16-fold from one write to the next completes its next write within
 * the timeout, and one that keeps any pace of 16 KiB per timeout or more is
 * never cut.
 */
export function nextSliceSize(bytes: number, tookMs: number, timeoutMs: number, current: number): number {
  const fits = tookMs <= 0 ? Number.POSITIVE_INFINITY : (bytes * timeoutMs) / (SHARE_OF_TIMEOUT * tookMs);
  let size: number = SLICE.min;
  while (size * 2 <= fits && size * 2 <= current * 2 && size < SLICE.max) size *= 2;
  return size;
}

/** What a connection's streams have sent, together. */
export interface SessionSent {
  /** Bytes whose write completed, over every stream of the connection so far. */
  completed: number;
  /** The write size the connection's latest completed write settled on: where a new stream starts. */
  slice: number;
}

/** One watched stream's output, as the send timeout reads it. */
export interface StreamSent {
  /** Bytes whose write completed (taken by nghttp2 and written to the socket). */
  readonly completed: number;
}

class StreamSend implements StreamSent, SlicedWriter {
  completed = 0;
  #slice: number;
  /** When the last write completed (ms, `performance.now()`); a slice waiting behind it starts then. */
  #lastDone = Number.NEGATIVE_INFINITY;

  constructor(
    readonly timeoutMs: number,
    readonly session: SessionSent,
  ) {
    this.#slice = session.slice;
  }

  /**
   * Writes `bytes` to `res` in slices; resolves once every slice has completed,
   * or the stream is gone (its remaining slices dropped). Resolving only then
   * keeps a stalled download to this piece and the one read ahead of it.
   */
  write(res: Http2ServerResponse, bytes: Uint8Array): Promise<void> {
    const stream = res.stream;
    return new Promise((resolve) => {
      let at = 0;
      let inFlight = 0;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        stream.off("close", finish);
        resolve();
      };
      stream.once("close", finish);
      const more = (): void => {
        while (inFlight < 2 && at < bytes.length && !stream.destroyed) {
          const slice = bytes.subarray(at, at + this.#slice);
          at += slice.length;
          inFlight++;
          const written = performance.now();
          res.write(slice, (err?: Error | null) => {
            inFlight--;
            if (err != null) return finish();
            const now = performance.now();
            // Sent after the write before it (one at a time): its time starts when that one ended.
            const took = now - Math.max(written, this.#lastDone);
            this.#lastDone = now;
            this.completed += slice.length;
            this.session.completed += slice.length;
            this.#slice = nextSliceSize(slice.length, took, this.timeoutMs, this.#slice);
            this.session.slice = this.#slice;
            if (at >= bytes.length && inFlight === 0) finish();
            else more();
          });
        }
        if (stream.destroyed) finish();
      };
      more();
    });
  }
}

/** A watched connection: what its streams sent, and its send timeout. */
interface WatchedSession extends SessionSent {
  readonly timeoutMs: number;
}

const sessions = new WeakMap<Http2Session, WatchedSession>();
/** Writers, made for a stream when it first has a body to slice (most bodies fit in one write). */
const writers = new WeakMap<Http2Stream, StreamSend>();

/**
 * Makes the bodies written to `session`'s streams go out in counted slices, for
 * a send timeout of `timeoutMs` (> 0); returns what the timeout reads of the
 * connection as a whole.
 */
export function watchSessionSend(session: Http2Session, timeoutMs: number): SessionSent {
  const sent: WatchedSession = { completed: 0, slice: SLICE.min, timeoutMs };
  sessions.set(session, sent);
  return sent;
}

/** What `stream`'s sliced writes completed, if it wrote any. */
export function streamSent(stream: Http2Stream): StreamSent | undefined {
  return writers.get(stream);
}

/** How a watched stream's body is written. */
export interface SlicedWriter {
  /** Writes `bytes` in slices; resolves once they are sent, or the stream is gone. */
  write(res: Http2ServerResponse, bytes: Uint8Array): Promise<void>;
}

/**
 * The writer for a body of `length` bytes to `res`, or `undefined` when it is
 * written at once as usual: its connection is not watched, or the body fits in
 * one write (a new stream starts at the size its connection's last write settled on).
 */
export function slicedWriter(res: Http2ServerResponse, length = Number.POSITIVE_INFINITY): SlicedWriter | undefined {
  const stream = res.stream;
  let writer = writers.get(stream);
  if (writer !== undefined) return writer;
  const session = stream.session === undefined ? undefined : sessions.get(stream.session);
  if (session === undefined || length <= session.slice) return undefined;
  writer = new StreamSend(session.timeoutMs, session);
  writers.set(stream, writer);
  return writer;
}
