/**
 * What keeps one HTTP/2 connection from holding what it has not paid for: the
 * header list it may send, the responses (and so the open files) it may have in
 * progress, and how long output may wait for a client that does not read.
 *
 * A client controls how fast the server may send: with SETTINGS_INITIAL_WINDOW_SIZE
 * 0 (RFC 9113 §6.9.2) no DATA frame can leave, and a response that opened its file
 * holds the descriptor until the client lets it finish. 100 such streams on one
 * connection pinned 100 descriptors for as long as it stayed open. So responses per
 * connection are capped ({@link ResponseGate}) and output that makes no progress for
 * the send timeout ends the stream or the connection ({@link h2SendTimeout}).
 */
import { constants, type Http2Stream, type ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import { type SessionSent, streamSent, watchSessionSend } from "../adapters/h2-send.js";
import { type SendProgress, type SendState, sendCheckInterval, sendState } from "./send-timeout.js";

/**
 * RFC 9113 §6.5.2: the size of a header list is the sum of each field's name and
 * value length in octets plus 32 (RFC 7541 §4.1), pseudo-header fields included.
 * `rawHeaders` alternates names and values as Node gives them; Node decodes
 * each octet to one character, so length is octets.
 */
export function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  for (const field of rawHeaders) size += field.length;
  return size + 16 * rawHeaders.length; // 32 per name-value pair
}

/**
 * HTTP/1.1's `requestTimeout` for HTTP/2: Node applies it to HTTP/1.1 only, so a
 * stream could take as long as it liked to send its body, one byte before each
 * idle timeout, holding its stream and, for an upload, an open temporary file
 * (100 streams a connection). A stream whose request has a body (no END_STREAM
 * on its HEADERS, RFC 9113 §8.1) and whose client has not ended it `timeoutMs`
 * after the headers is reset with CANCEL (RFC 9113 §8.7), as HTTP/1.1 answers
 * 408 and closes; the handler's read of the body then fails, and an upload
 * removes its temporary file. Requests without a body (every GET a browser
 * sends) cost one flag test.
 *
 * A body the handler reads (a method in `idle`: an upload) is cut instead only
 * when it stops arriving for `timeoutMs` (body-deadline.ts says why): the
 * stream's own idle timeout, which Node restarts on every frame read or written.
 */
export function h2RequestDeadline(session: ServerHttp2Session, timeoutMs: number, idle?: ReadonlySet<string>): void {
  session.on("stream", (stream: Http2Stream, headers: Record<string, unknown>, flags: number) => {
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) return;
    if (idle?.has(String(headers[constants.HTTP2_HEADER_METHOD])) === true) {
      stream.setTimeout(timeoutMs, () => {
        if (!stream.destroyed && !stream.closed && stream.state.remoteClose !== 1) stream.close(constants.NGHTTP2_CANCEL);
      });
      return;
    }
    const timer = setTimeout(() => {
      if (!stream.destroyed && !stream.closed && stream.state.remoteClose !== 1) stream.close(constants.NGHTTP2_CANCEL);
    }, timeoutMs);
    timer.unref();
    stream.once("close", () => clearTimeout(timer));
  });
}

/** The shortest queue {@link ResponseGate} looks through for items that are gone. */
const MIN_PRUNE = 128;

/**
 * At most `limit` responses in progress per connection; the streams past it wait,
 * in order, without being handed to the handler (so without opening a file).
 *
 * Why a cap and not "open the file only when the stream can send": Node does not
 * expose a stream's send window, only the connection's, and a client can open a
 * stream's window by one byte at a time to pass any such test. A cap bounds
 * descriptors per connection by construction: each response holds at most one
 * open file, so a connection costs at most `limit` files plus its socket.
 */
export class ResponseGate<T> {
  readonly #limit: number;
  readonly #start: (item: T, done: () => void) => void;
  readonly #gone: (item: T) => boolean;
  #queue: T[] = [];
  #active = 0;
  /** Queue length at which waiting items that are gone are dropped (see {@link admit}). */
  #pruneAt = MIN_PRUNE;

  /**
   * `start(item, done)` begins a response; it calls `done` when the response is
   * over (more calls are ignored). `gone(item)`: whether a waiting item no longer
   * needs a response (its stream was reset).
   */
  constructor(limit: number, start: (item: T, done: () => void) => void, gone: (item: T) => boolean = () => false) {
    this.#limit = limit;
    this.#start = start;
    this.#gone = gone;
  }

  /**
   * Starts `item` now if a slot is free, else when one is. A stream reset while it
   * waits no longer counts against SETTINGS_MAX_CONCURRENT_STREAMS, so a client
   * that keeps the running responses slow and resets the waiting ones could grow
   * the queue by its reset budget (100 a second) for as long as it kept the
   * connection: the items that are gone are dropped whenever the queue doubles.
   */
  admit(item: T): void {
    if (this.#active < this.#limit) {
      this.#run(item);
      return;
    }
    if (this.#queue.length >= this.#pruneAt) {
      this.#queue = this.#queue.filter((waiting) => !this.#gone(waiting));
      this.#pruneAt = Math.max(MIN_PRUNE, 2 * this.#queue.length);
    }
    this.#queue.push(item);
  }

  /** Responses in progress. */
  get active(): number {
    return this.#active;
  }

  /** Streams waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  #run(item: T): void {
    this.#active++;
    let released = false;
    this.#start(item, () => {
      if (released) return;
      released = true;
      this.#active--;
      const next = this.#queue.shift();
      if (next !== undefined) this.#run(next);
    });
  }
}

/** What the send timeout does to one session at one look. */
export type SessionVerdict =
  | { readonly kind: "keep" }
  /** These streams' output has not moved for the timeout while the connection's did: RST_STREAM them. */
  | { readonly kind: "reset"; readonly streams: readonly number[] }
  /** No output of the connection moved for the timeout: GOAWAY, and destroy it. */
  | { readonly kind: "destroy" };

const KEEP: SessionVerdict = { kind: "keep" };
const DESTROY: SessionVerdict = { kind: "destroy" };

/**
 * The verdict for a session whose output as a whole is in state `session` and
 * whose streams' are in `streams` (by index). The session first: when nothing on
 * the connection moved, resetting streams would only queue more frames for a
 * client that reads nothing.
 */
export function sessionVerdict(session: SendState, streams: readonly SendState[]): SessionVerdict {
  if (session.kind === "stalled") return DESTROY;
  const stalled: number[] = [];
  streams.forEach((state, i) => {
    if (state.kind === "stalled") stalled.push(i);
  });
  return stalled.length === 0 ? KEEP : { kind: "reset", streams: stalled };
}

/** A watched session, until its connection's socket closes. */
interface WatchedSession {
  readonly socket: Socket;
  /** Progress of all its streams: bytes completed, plus one per stream that finished. */
  readonly sent: SessionSent;
  readonly seen: SendProgress;
  /** Its open streams, and what the last look saw of each. */
  readonly streams: Map<Http2Stream, SendProgress>;
  /** When the session was first seen destroyed while its socket was still open. */
  endedAt: number | undefined;
}

/** The sessions a send timeout applies to. */
export interface H2SendTimeout {
  /** Applies the timeout to `session`, whose connection's own socket is `socket`, until that socket closes. */
  watch(session: ServerHttp2Session, socket: Socket): void;
  /** Sessions watched now. */
  readonly size: number;
}

/**
 * nginx's `send_timeout` for HTTP/2, `timeoutMs` (> 0): one sweep, every
 * {@link sendCheckInterval}, over the watched sessions. A stream with output
 * waiting (`bufferSize`) and no write completed for the timeout is reset
 * (RST_STREAM CANCEL, RFC 9113 §6.4), which ends its response and closes its file;
 * a session none of whose streams completed a write (or finished) for the timeout
 * while one had output waiting gets GOAWAY and is destroyed. Writes complete only
 * as the client's window lets them go, so a client that announced a zero window
 * (RFC 9113 §6.9.2) is cut, and one that reads slowly is not: its bodies go out in
 * slices sized to its pace (src/adapters/h2-send.ts).
 *
 * `socket` is the connection's own socket: a destroyed session still waits for its
 * socket to flush, which a client that reads nothing never lets happen, so the
 * socket is destroyed a second after the session, or one timeout after the session
 * ended any other way (an idle GOAWAY) with the socket still open.
 */
export function h2SendTimeout(timeoutMs: number): H2SendTimeout {
  const watched = new Map<ServerHttp2Session, WatchedSession>();
  let timer: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = performance.now();
    for (const [session, w] of watched) {
      if (session.destroyed) {
        w.endedAt ??= now;
        if (now - w.endedAt >= timeoutMs) w.socket.destroy();
        continue;
      }
      const streams = [...w.streams];
      let pending = 0;
      const states = streams.map(([stream, seen]) => {
        const waiting = stream.bufferSize;
        pending += waiting;
        // A body written at once (it fitted in one write) has no count: it either goes, or waits whole.
        return sendState(seen, waiting, streamSent(stream)?.completed ?? 0, now, timeoutMs);
      });
      const verdict = sessionVerdict(sendState(w.seen, pending, w.sent.completed, now, timeoutMs), states);
      if (verdict.kind === "destroy") {
        // GOAWAY first: destroy() alone, with streams blocked, dropped it (measured).
        session.goaway(constants.NGHTTP2_CANCEL);
        session.destroy(new Error("send timeout"), constants.NGHTTP2_CANCEL);
        w.endedAt = now;
        setTimeout(() => w.socket.destroy(), Math.min(1000, timeoutMs)).unref();
      } else if (verdict.kind === "reset") {
        for (const i of verdict.streams) streams[i]![0].close(constants.NGHTTP2_CANCEL);
      }
    }
  };
  return {
    watch(session, socket) {
      if (watched.has(session)) return;
      const w: WatchedSession = {
        socket,
        sent: watchSessionSend(session, timeoutMs),
        seen: { completed: 0, since: -1 },
        streams: new Map(),
        endedAt: undefined,
      };
      watched.set(session, w);
      // One pair of listeners per session, not a closure per stream: this runs for every request.
      function onStreamClose(this: Http2Stream): void {
        w.streams.delete(this);
        // A response that ended is progress, however it was written.
        if (this.rstCode === constants.NGHTTP2_NO_ERROR && this.writableFinished) w.sent.completed++;
      }
      session.on("stream", (stream: Http2Stream) => {
        w.streams.set(stream, { completed: 0, since: -1 });
        stream.on("close", onStreamClose); // 'close' comes once
      });
      socket.once("close", () => {
        watched.delete(session);
        if (watched.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
      });
      if (timer === undefined) {
        timer = setInterval(sweep, sendCheckInterval(timeoutMs));
        timer.unref();
      }
    },
    get size() {
      return watched.size;
    },
  };
}
