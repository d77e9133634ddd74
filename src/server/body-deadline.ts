/**
 * How long a request body may take, with uploads on. Node's `requestTimeout`
 * bounds the whole request, body included, from its first byte: right for a
 * body nobody reads (at most 1 MiB, dropped), wrong for an upload, where it is a
 * minimum speed (1 GiB in 30 s is 36 MB/s; a phone on Wi-Fi sending a video got
 * 408). So with uploads on, serve() turns Node's off and keeps the two deadlines
 * here instead, only for requests that have a body (a GET costs nothing more):
 *
 * - a body the handler reads (a write): idle, cut only when no byte of it has
 *   arrived for `requestTimeout`, as nginx's `client_body_timeout` ("only for a
 *   period between two successive read operations");
 * - a body that is dropped: absolute, `requestTimeout` from its head, as Node's.
 *
 * Why no absolute cap on a write as well: any cap is a minimum speed again, and
 * one low enough to let a slow phone finish a large file (1 KiB/s: 12 days for
 * 1 GiB) bounds nothing. A client sending a byte just within each deadline holds
 * one connection and one temporary file; its bytes are capped by the upload size
 * limit, and the connections it can hold by `maxConnections`, as with nginx.
 */
import type { NodeRequest, NodeResponse } from "../adapters/node.js";

/** The error Node's own request timeout reports to 'clientError' (answered 408, client-error.ts). */
export function requestTimeoutError(): Error {
  return Object.assign(new Error("Request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" });
}

/**
 * Calls `expire` once `progress()` (a count of bytes read) has not moved for
 * `idleMs`, unless `over()` says the body is complete first. Checked every half of
 * `idleMs`: a body is cut between 1 and 1.5 times `idleMs` after its last byte
 * (one timer per body, never per chunk). Returns the function that stops it.
 */
export function idleDeadline(idleMs: number, progress: () => number, over: () => boolean, expire: () => void): () => void {
  let seen = progress();
  let silent = 0;
  const timer = setInterval(() => {
    if (over()) {
      clearInterval(timer);
      return;
    }
    const now = progress();
    if (now !== seen) {
      seen = now;
      silent = 0;
    } else if (++silent >= 2) {
      clearInterval(timer);
      expire();
    }
  }, idleMs / 2);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The HTTP/1.1 deadline of a request body the handler reads: idle, measured by
 * the bytes its connection has read. `timedOut` answers as Node does at its own
 * request timeout (408 if nothing was answered, else the connection is cut).
 */
export function watchUploadBody(
  req: NodeRequest,
  res: NodeResponse,
  idleMs: number,
  timedOut: (socket: NodeRequest["socket"]) => void,
): void {
  const socket = req.socket;
  const stop = idleDeadline(
    idleMs,
    () => socket.bytesRead,
    () => (req as { complete?: boolean }).complete === true,
    () => timedOut(socket),
  );
  res.once("close", stop);
}

/** The absolute deadline of a body that is dropped: `timeoutMs` from its head. Returns the function that stops it. */
export function absoluteDeadline(req: NodeRequest, timeoutMs: number, timedOut: (socket: NodeRequest["socket"]) => void): () => void {
  const socket = req.socket;
  const timer = setTimeout(() => timedOut(socket), timeoutMs);
  timer.unref();
  return () => clearTimeout(timer);
}
