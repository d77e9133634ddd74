/**
 * Pipelined HTTP/1.1 requests whose connection closes before their turn.
 *
 * Node queues the response to a pipelined request until the responses before it
 * are done, and gives it the socket only then. If the connection closes first (a
 * client pipelined `GET /big.iso` three times and hung up during the first), the
 * queued responses never get a socket and never emit 'close'. Everything waiting
 * on them would wait forever: the in-flight count graceful shutdown waits for,
 * the access-log line, and the body being written, parked on 'drain' with its
 * file descriptor open, one leaked descriptor per queued request. A client could
 * exhaust the server's descriptors that way.
 */
import { ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** Per connection, the responses still queued behind another one. */
const queued = new WeakMap<Socket, Set<ServerResponse>>();

/** Responses closed while still queued: nothing of them ever reached the client. */
const abandoned = new WeakSet<object>();

/** Whether `res` was closed while still queued, so that no byte of it was sent (for the access log). */
export function wasAbandoned(res: object): boolean {
  return abandoned.has(res);
}

/** Destroys a queued response and emits the 'close' Node never will. */
function abandon(res: ServerResponse): void {
  if (res.socket !== null || res.writableFinished) return; // it got its turn: Node's own events apply
  abandoned.add(res);
  res.destroy();
  res.emit("close");
}

/**
 * Makes `res` close when its connection does, if it is an HTTP/1.1 response still
 * queued behind another (no socket yet). Cheap for the usual, unpipelined request:
 * one property read. One 'close' listener per connection, however many are queued.
 */
export function closeWithConnection(res: unknown): void {
  if (!(res instanceof ServerResponse) || res.socket !== null) return;
  const socket = res.req.socket;
  if (socket.destroyed) {
    process.nextTick(abandon, res);
    return;
  }
  let waiting = queued.get(socket);
  if (waiting === undefined) {
    const set = new Set<ServerResponse>();
    waiting = set;
    queued.set(socket, set);
    socket.once("close", () => {
      queued.delete(socket);
      for (const r of set) abandon(r);
      set.clear();
    });
  }
  waiting.add(res);
  res.once("close", () => waiting.delete(res));
}
