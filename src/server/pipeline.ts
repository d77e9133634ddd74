/**
 * A cap on the pipelined HTTP/1.1 requests one connection has under way.
 *
 * HTTP/1.1 lets a client send requests without waiting for the answers (RFC 9112
 * §9.3.2); the server answers them in order. Node parses every request it reads
 * and hands each to the handler at once, and only stops reading when the answers
 * already written pile up. A request answered from memory writes its answer at
 * once, so that check holds on the hot path; one that must open a file or
 * revalidate writes nothing for a while. Four connections that pipelined thousands
 * of such requests without reading drove the process to 2-3 GB (a descriptor,
 * 64 KiB written and 128 KiB read ahead per request) and kept other clients
 * waiting for about 30 s.
 *
 * So at most {@link MAX_PIPELINED} requests of a connection are under way at
 * once (handed to the handler and not yet closed). The next one waits, unhandled,
 * in a queue, and the connection stops being read until the queue has emptied:
 * besides those, at most what one read brought in (64 KiB of request bytes) waits.
 * Requests answered in the same tick (the hot path) are never counted: the only
 * cost they pay is one WeakMap lookup.
 *
 * Pausing uses the flag Node's HTTP server pauses a connection with (`_paused`),
 * so that its own resume paths (a request body consumed, an answer drained) see it
 * paused; one of them, `socketOnDrain`, resumes without looking at anything of
 * ours, and a 'resume' listener stops it again. The same in Node 20, 22 and 24.
 */
import { type IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { NodeRequest, NodeResponse } from "../adapters/node.js";
import { closeWithConnection } from "../adapters/queued.js";

/**
 * Requests of one connection under way at once. No browser pipelines; tools that
 * do (benchmarks, `wrk` scripts) send about 10 at a time, and nginx takes them
 * one by one. 16 keeps a pipelining client's file opens and reads overlapping,
 * and caps what one connection holds at 16 descriptors and about 3 MiB.
 */
export const MAX_PIPELINED = 16;

/**
 * Requests of one connection waiting their turn, at most. Node parses the whole
 * of every read (64 KiB) before the connection can be paused, making a request
 * and a response object for each: about 1,900 minimal requests, 12-15 MiB, per
 * read of a client that pipelines without reading answers. Past this many the
 * connection is closed, as nginx closes one after `keepalive_requests`: what was
 * parsed and not started goes with it, and a client that does read its answers
 * sends the rest again on a new connection (RFC 9112 §9.3.2). 256 is more than
 * any pipelining tool sends at once, and about 2 MiB.
 */
export const MAX_WAITING = 256;

/** Node's own fields of a server-side socket (lib/_http_server.js), not in @types/node. */
interface HttpSocket extends Socket {
  _paused?: boolean;
  parser?: { resume(): void } | null;
}

/** A connection with requests under way that went past the same tick. */
interface Line {
  /** Requests handed to the handler and not yet closed. */
  active: number;
  /** Requests waiting for their turn, request then response, in order. */
  readonly waiting: (IncomingMessage | ServerResponse)[];
  /** Index of the first waiting request in {@link waiting}. */
  head: number;
  /** Whether this module stopped reading the connection. */
  paused: boolean;
}

/**
 * `run` (the handler) with at most `limit` requests of a connection under way at
 * once. HTTP/2 requests pass straight through: a session has its own limit on
 * concurrent streams.
 */
export function limitPipelining(
  run: (req: NodeRequest, res: NodeResponse) => void,
  limit: number = MAX_PIPELINED,
): (req: NodeRequest, res: NodeResponse) => void {
  const lines = new WeakMap<Socket, Line>();

  const start = (req: IncomingMessage, res: ServerResponse, socket: HttpSocket, line: Line | undefined): void => {
    run(req, res);
    if (res.writableEnded) return; // answered in the same tick: Node's own check covers its bytes
    let l = line ?? lines.get(socket);
    if (l === undefined) {
      l = { active: 0, waiting: [], head: 0, paused: false };
      lines.set(socket, l);
      socket.on("resume", keepPaused);
      socket.once("close", dropWaiting);
    }
    l.active++;
    res.once("close", finished);
  };

  // Node's socketOnDrain resumes a paused connection when its own bytes have
  // drained, whatever is still waiting here: stop it again, in the same tick
  // (after Node's listener started reading, before anything is read).
  function keepPaused(this: HttpSocket): void {
    if (lines.get(this)?.paused === true && this._paused !== true) {
      this._paused = true;
      this.pause();
    }
  }

  // The connection closed: whatever still waits is never handled. queued.ts
  // closes those responses (for the access log and the in-flight count).
  function dropWaiting(this: HttpSocket): void {
    const line = lines.get(this);
    if (line === undefined) return;
    line.waiting.length = 0;
    line.head = 0;
  }

  function finished(this: ServerResponse): void {
    const socket: HttpSocket = this.req.socket;
    const line = lines.get(socket);
    if (line === undefined) return;
    line.active--;
    if (socket.destroyed) return;
    while (line.head < line.waiting.length && line.active < limit) {
      const req = line.waiting[line.head] as IncomingMessage;
      const res = line.waiting[line.head + 1] as ServerResponse;
      line.head += 2;
      start(req, res, socket, line);
    }
    if (line.head < line.waiting.length) return;
    line.waiting.length = 0;
    line.head = 0;
    if (line.paused && line.active < limit) {
      // What socketOnDrain does; if Node still has too many bytes queued it
      // pauses again at the next request.
      line.paused = false;
      socket._paused = false;
      socket.parser?.resume();
      socket.resume();
    }
  }

  return (req, res) => {
    if (!(res instanceof ServerResponse)) {
      run(req, res);
      return;
    }
    const socket: HttpSocket = res.req.socket;
    const line = lines.get(socket);
    if (line === undefined || (line.active < limit && line.head === line.waiting.length)) {
      start(res.req, res, socket, line);
      return;
    }
    closeWithConnection(res);
    // Node goes on parsing the rest of a read after the connection was closed
    // below: those requests are closed with it (queued.ts), never kept.
    if (socket.destroyed) return;
    line.waiting.push(res.req, res);
    if (line.waiting.length - line.head > 2 * MAX_WAITING) {
      socket.destroy();
      return;
    }
    if (!line.paused) {
      // Node pauses the parser itself once the current read is parsed.
      line.paused = true;
      socket._paused = true;
      socket.pause();
    }
  };
}
