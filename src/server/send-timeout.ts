/**
 * The send timeout (nginx's `send_timeout`): a connection with bytes waiting to
 * go out that its client has taken none of for `sendTimeout` ms is destroyed.
 *
 * Without it a client that asks for a large file and never reads holds its
 * connection slot, its file descriptor and two read pieces (1 MiB) for ever: the
 * header and request timeouts only cover what the client sends, and Node's
 * keep-alive timeout only starts once a response is done. 20 such clients held
 * every slot of `--max-connections 20`.
 *
 * Progress is what the socket has finished writing (`bytesWritten - writableLength`:
 * every write whose bytes the kernel accepted), not the time since the last
 * `write()` call, so a writer that ignored back-pressure could not keep a dead
 * connection alive by queueing more. Node reports progress a whole write at a
 * time; one write is at most one read piece (512 KiB, src/fs/node.ts) or one body
 * held in memory (1 MiB, `cacheFileBytes`), so a client reading 35 KiB/s or more
 * is never cut at the default of 30 s.
 *
 * One sweep over the watched connections, like Node's own header-timeout check,
 * rather than a timer per response: the hot path gains nothing per request.
 */
import type { Socket } from "node:net";

/** What the sweep decides for one connection. */
export type SendState =
  | { readonly kind: "idle" } // nothing waiting to be sent
  | { readonly kind: "progress" } // bytes were accepted since the last look, or the wait just began
  | { readonly kind: "waiting" } // nothing accepted, still within the timeout
  | { readonly kind: "stalled" }; // nothing accepted for the whole timeout: destroy

const IDLE: SendState = { kind: "idle" };
const PROGRESS: SendState = { kind: "progress" };
const WAITING: SendState = { kind: "waiting" };
const STALLED: SendState = { kind: "stalled" };

/** What the sweep remembers of a connection between looks. */
export interface SendProgress {
  /** Bytes the socket had finished writing at the last look that saw progress. */
  completed: number;
  /** When that look was (ms, `performance.now()`); `-1` while nothing waits to be sent. */
  since: number;
}

/**
 * The state of a connection with `pending` bytes not yet written and `completed`
 * bytes written, at `now`; updates `seen` to match. Never "stalled" earlier than
 * `timeoutMs` after the last progress was seen.
 */
export function sendState(seen: SendProgress, pending: number, completed: number, now: number, timeoutMs: number): SendState {
  if (pending === 0) {
    seen.since = -1;
    return IDLE;
  }
  if (seen.since < 0 || completed !== seen.completed) {
    seen.completed = completed;
    seen.since = now;
    return PROGRESS;
  }
  return now - seen.since >= timeoutMs ? STALLED : WAITING;
}

/** How often the sweep runs: a stalled connection is cut within the timeout plus this. */
export function sendCheckInterval(timeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(timeoutMs / 4)));
}

/** The connections a send timeout applies to. */
export interface SendWatch {
  /** Applies the timeout to `socket` until it closes; calling it again is a no-op. */
  watch(socket: Socket): void;
  /** Connections watched now. */
  readonly size: number;
}

/**
 * A send timeout of `timeoutMs` (`0`: none) over the sockets given to
 * {@link SendWatch.watch}. The sweep's timer runs only while a connection is
 * watched, and never keeps the process alive.
 */
export function sendWatch(timeoutMs: number): SendWatch {
  const watched = new Map<Socket, SendProgress>();
  let timer: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = performance.now();
    for (const [socket, seen] of watched) {
      const pending = socket.writableLength;
      // bytesWritten counts what is still queued too; only read it when something is.
      const completed = pending === 0 ? 0 : socket.bytesWritten - pending;
      if (sendState(seen, pending, completed, now, timeoutMs).kind === "stalled") socket.destroy();
    }
  };
  function unwatch(this: Socket): void {
    watched.delete(this);
    if (watched.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  }
  return {
    watch(socket) {
      if (timeoutMs === 0 || watched.has(socket) || socket.destroyed) return;
      watched.set(socket, { completed: 0, since: -1 });
      // `on`, not `once`: a socket closes once, and unwatch is idempotent; no wrapper per connection.
      socket.on("close", unwatch);
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
