/**
 * What is answered on the connection instead of by the handler: requests refused
 * from their head (400, 413, 414, 501, 505, each closing the connection, RFC 9112
 * §9.6), a body read and dropped before the next request, and requests the parser
 * refused ('clientError'), closed without losing the answer.
 */
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type NodeRequest, type NodeResponse, writeReply } from "../adapters/node.js";
import { codeOf } from "../core/errors.js";
import { errorReply } from "../core/reply.js";
import { clientErrorStatus } from "./client-error.js";
import type { AccessLogEntry } from "./log.js";

/** A socket as 'clientError' gets it. */
type ParserSocket = Duplex & { bytesWritten?: number; bytesRead?: number; remoteAddress?: string | undefined };

const URI_TOO_LONG = errorReply(414, {}, "The address is too long.");
const URI_TOO_LONG_BODY = URI_TOO_LONG.body.kind === "chunks" ? (URI_TOO_LONG.body.chunks[0] as Uint8Array) : undefined;

/** Answers 414 (RFC 9110 §15.5.15) to a request whose target is over the limit. */
export function refuseUriTooLong(req: NodeRequest, res: NodeResponse): void {
  writeReply(res, { reply: URI_TOO_LONG, body: req.method === "HEAD" ? undefined : URI_TOO_LONG_BODY }).catch(() => res.destroy());
}

const HEADERS_TOO_LARGE = errorReply(431);
const HEADERS_TOO_LARGE_BODY = HEADERS_TOO_LARGE.body.kind === "chunks" ? (HEADERS_TOO_LARGE.body.chunks[0] as Uint8Array) : undefined;

/** Answers 431 (RFC 6585 §5) to an HTTP/2 request whose header list is over the limit (secure.ts refuses it). */
export function refuseHeadersTooLarge(req: NodeRequest, res: NodeResponse): void {
  writeReply(res, { reply: HEADERS_TOO_LARGE, body: req.method === "HEAD" ? undefined : HEADERS_TOO_LARGE_BODY }).catch(() =>
    res.destroy(),
  );
}

/** The answers to a request head serve() refuses; each closes the connection (RFC 9112 §9.6). */
const REFUSALS = new Map(
  [400, 413, 501, 505].map((status) => {
    const reply = errorReply(status, { connection: "close" });
    return [status, { reply, body: reply.body.kind === "chunks" ? (reply.body.chunks[0] as Uint8Array) : undefined }] as const;
  }),
);

/** Connections whose last answer said `Connection: close` (see {@link refuseRequest}). */
const closing = new WeakSet<object>();

/** Answers `status` from {@link REFUSALS} and closes the connection once it is sent. */
export function refuseRequest(req: NodeRequest, res: NodeResponse, status: number): void {
  const refusal = REFUSALS.get(status)!;
  // The connection closes after this answer: a parser error that follows on it
  // (the body of a refused head) is not answered a second time.
  closing.add(req.socket);
  writeReply(res, { reply: refusal.reply, body: req.method === "HEAD" ? undefined : refusal.body }).catch(() => res.destroy());
}

/**
 * Reads and discards the body of `req`, then calls `then`; past `limit` bytes it
 * answers 413 and closes instead. If the body's framing is bad (a bad chunk size, a
 * NUL in a trailer), the parser's error reaches 'clientError' first, which answers
 * 400, and `then` is never called. Bounded in time by `requestTimeout`.
 */
export function afterBody(req: IncomingMessage, res: NodeResponse, limit: number, then: () => void): void {
  let read = 0;
  const onData = (chunk: Buffer): void => {
    read += chunk.length;
    if (read <= limit) return;
    req.off("data", onData);
    req.off("end", onEnd);
    refuseRequest(req, res, 413);
  };
  const onEnd = (): void => {
    req.off("data", onData);
    then();
  };
  req.on("data", onData);
  req.once("end", onEnd);
}

/** How long a refused connection may go on sending before it is cut (nginx's lingering_timeout is 5 s). */
const LINGER_MS = 2000;

/**
 * Closes a connection after an error answer without losing that answer: a client
 * still sending (the rest of a 20 KB head past the 16 KiB limit) would make an
 * immediate close send a reset, and a reset makes the client's kernel drop the
 * answer it had not read yet. So: FIN after the answer, what the client still
 * sends read and dropped (no longer parsed), and the socket destroyed when the
 * client closes or after {@link LINGER_MS} at most, like nginx's lingering close.
 */
function lingeringClose(socket: Duplex): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  // The HTTP parser reads from 'data': from now on nothing is parsed, only dropped.
  socket.removeAllListeners("data");
  socket.on("data", () => {});
  socket.on("error", () => socket.destroy());
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  socket.end();
  socket.resume();
}

// RFC 9112 §3: method SP request-target [SP HTTP-version] CRLF; the method a token.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+)(?: HTTP\/(\d\.\d))?\r?\n/;

/**
 * What can be said for the access log about a request the parser refused:
 * method, target and version when the packet it failed on is everything the
 * connection ever sent (`onlyPacket`: nothing answered yet, nothing read before
 * it), so that its first line is this request's request line and not an earlier
 * request's or a header line; `-` otherwise.
 */
export function refusedRequest(rawPacket: unknown, onlyPacket: boolean): { method: string; target: string; httpVersion: string } {
  const unknown = { method: "-", target: "-", httpVersion: "-" };
  if (!onlyPacket || !Buffer.isBuffer(rawPacket)) return unknown;
  const match = REQUEST_LINE.exec(rawPacket.toString("latin1"));
  if (match === null) return unknown;
  return { method: match[1]!, target: match[2]!, httpVersion: match[3] ?? "-" };
}

/** The request a response answers (`req` on both Node's HTTP/1.1 and HTTP/2 responses). */
function requestOf(res: NodeResponse): { readonly complete?: boolean } | undefined {
  return (res as { req?: { complete?: boolean } }).req;
}

/**
 * The server's 'clientError' listener: answers a request the parser refused with
 * its status (client-error.ts decides which) and closes the connection lingering;
 * a response still under way for an earlier request goes first. `log` gets the refused request's line;
 * `answeredByConnection` learns of the in-flight response whose answer this was.
 */
export function clientErrorListener(
  log: ((entry: AccessLogEntry) => void) | undefined,
  answeredByConnection: WeakMap<NodeResponse, number>,
): (err: Error & { rawPacket?: Buffer; bytesParsed?: number }, socket: ParserSocket) => void {
  return (err, socket) => {
    const code = codeOf(err);
    if (closing.has(socket)) {
      socket.destroy();
      return;
    }
    // Like Node's default answer, which a 'clientError' listener replaces: only
    // where nothing of a response has been written, so the status line cannot land
    // in the middle of one. The response in flight, if any, is the one Node is
    // about to write (its private `_httpMessage`, the field its own default reads):
    // the client reads this status as that request's answer, so its log line says so.
    // With none in flight (a fresh connection, or between keep-alive requests) the
    // refused request gets a line of its own.
    const current = (socket as { _httpMessage?: NodeResponse | null })._httpMessage ?? undefined;
    // A response already ended has handed all its bytes to the socket: the status goes after them.
    const inFlight = current === undefined || current.writableEnded ? undefined : current;
    // A response to an earlier request still under way (answered asynchronously:
    // a file opened, a cache revalidated, a download): its answer first, then the
    // status, as responses go in the order of their requests (RFC 9112 §9.3.2).
    // The response ends or goes within the send and request timeouts.
    // (Not when the refused bytes are that request's own body: it never completes.)
    if (inFlight !== undefined && code !== "ECONNRESET" && socket.writable && requestOf(inFlight)?.complete === true) {
      const listener = clientErrorListener(log, answeredByConnection);
      const after = (): void => {
        inFlight.off("finish", after);
        inFlight.off("close", after);
        if (!socket.writable || socket.destroyed) {
          socket.destroy();
          return;
        }
        // Now between requests: the refused one gets its own status and line.
        (socket as { _httpMessage?: NodeResponse | null })._httpMessage = null;
        listener(err, socket);
      };
      inFlight.once("finish", after);
      inFlight.once("close", after);
      return;
    }
    // Here no response is under way, or it is this request's own (its body was
    // refused): the status is its answer, if nothing of it was written yet.
    const answer = code !== "ECONNRESET" && socket.writable && (socket.bytesWritten === 0 || inFlight === undefined);
    if (answer) {
      // The status is decided in client-error.ts (501 for an unknown method, 505 for a version).
      const status = clientErrorStatus(code, err.rawPacket, err.bytesParsed);
      const onlyPacket = socket.bytesWritten === 0 && socket.bytesRead === err.rawPacket?.length;
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      if (inFlight !== undefined) answeredByConnection.set(inFlight, status);
      else if (log !== undefined) {
        log({
          time: new Date(),
          remoteAddress: socket.remoteAddress,
          ...refusedRequest(err.rawPacket, onlyPacket),
          status,
          bytes: 0,
          durationMs: 0,
          aborted: false,
        });
      }
    }
    // Answered: closed without losing the answer. Not answered (a response was
    // already under way, or the client reset): cut at once.
    if (answer) lingeringClose(socket);
    else socket.destroy();
  };
}
