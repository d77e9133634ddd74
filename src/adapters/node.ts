/**
 * The Node adapter: `IncomingMessage` in, `ServerResponse` out. Works for a plain
 * `http.createServer(listener)`, `https`, `http2` (through its compatibility API)
 * and as Connect/Express middleware.
 */
import { type IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { TLSSocket } from "node:tls";
import { errorReply, flatHeaders } from "../core/reply.js";
import type { Reply, WharfRequest } from "../core/types.js";
import type { FileSystem, Recycling } from "../fs/types.js";
import type { ClientAddressFn } from "../http/forwarded.js";
import { type Prepared, prepare } from "./body.js";
import { type SlicedWriter, slicedWriter } from "./h2-send.js";

/** A request from `node:http`/`node:https`, or from `node:http2`'s compatibility API. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** The response that goes with a {@link NodeRequest}. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

// What the access log reads of a response, kept on the response itself under
// symbols of this module: a WeakMap entry per response cost about 180 ns on the
// hot path (and an ephemeron for the collector to trace), a property about 40.
const SENT = Symbol("wharf.sentBytes");
const USER = Symbol("wharf.user");
interface Noted {
  [SENT]?: number;
  [USER]?: string;
}

/** Body bytes actually written for `res` so far (for access logs). */
export function responseBodyBytes(res: NodeResponse): number {
  return (res as Noted)[SENT] ?? 0;
}

/** The user `res` was sent to, as its {@link Reply.user} says (for access logs). */
export function responseUser(res: NodeResponse): string | undefined {
  return (res as Noted)[USER];
}

// RFC 9112 §3.2.2: a server must accept the absolute-form (`GET http://host/p`)
// and then ignore the Host field for the target's authority (the part after any
// `userinfo@`, which RFC 9110 §4.2.4 forbids senders to write).
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/?#]*)/i;

const awaitingContinue = new WeakMap<NodeRequest, ServerResponse>();

/**
 * serve(), for an upload that asked `Expect: 100-continue` (curl does for large
 * ones): the interim 100 is sent when the handler first reads the body, so an
 * answer decided from the head alone (413, 409, 401, 403) goes out before the
 * client has sent a byte of it (RFC 9110 §10.1.1).
 */
export function deferContinue(req: IncomingMessage, res: ServerResponse): void {
  awaitingContinue.set(req, res);
}

/** The body's iterator, after the 100 it waits for, if any. */
function readBody(req: NodeRequest): AsyncIterable<Uint8Array> {
  const res = awaitingContinue.get(req);
  if (res !== undefined) {
    awaitingContinue.delete(req);
    if (!res.headersSent) res.writeContinue();
  }
  // Not the stream's own iterator: returning from that one early destroys the
  // request, and the socket with it, before an early answer (a 409, a 413) is written.
  return req.iterator({ destroyOnReturn: false });
}

/**
 * A {@link WharfRequest} view of a Node request. `withBody` adds
 * {@link WharfRequest.body}: decided once per handler (uploads on), so that a
 * handler that never reads a body does not make one more function per request.
 * With `client` (the handler's `trustProxy`), its `clientAddress`.
 */
export function fromNodeRequest(req: NodeRequest, withBody = false, client?: ClientAddressFn): WharfRequest {
  let target = req.url ?? "/";
  // The absolute-form's authority, which stands for Host (RFC 9112 §3.2.2): the
  // Host allow-list, the origin checks and every URL a reply builds read it.
  let authority: string | undefined;
  if (!target.startsWith("/") && target !== "*") {
    const form = ABSOLUTE_FORM.exec(target);
    if (form !== null) {
      authority = form[1];
      target = target.slice(form[0].length) || "/";
    }
  }
  const q = target.indexOf("?");
  const headers = req.headers;
  const header = (name: string): string | undefined => {
    if (authority !== undefined && name === "host") return authority;
    const value = headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const remoteAddress = req.socket.remoteAddress;
  return {
    method: req.method ?? "GET",
    target,
    pathname: q < 0 ? target : target.slice(0, q),
    search: q < 0 ? "" : target.slice(q),
    header,
    remoteAddress,
    // Worked out now, not by a getter on first read: defining an accessor on each
    // view cost about 0.6 µs a request on Node 20, more than the address itself
    // (http/ip.ts parses by hand). The access log works it out for itself.
    ...(client === undefined ? {} : { clientAddress: client(remoteAddress, header) }),
    // In the literal, not a copy with the field added afterwards (core/copy.ts).
    ...(withBody ? { body: () => readBody(req) } : {}),
  };
}

// Resolves on 'drain', or on 'close' when the client has gone away.
function drained(res: NodeResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

// RFC 9113 §8.2.2: HTTP/2 has no connection-specific fields; Node drops `connection`
// with a warning and throws on `transfer-encoding`. Only a custom handler could set one.
const CONNECTION_FIELDS = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

function forHttp2(headers: Record<string, string>): Record<string, string> {
  if (!CONNECTION_FIELDS.some((name) => headers[name] !== undefined)) return headers;
  const copy = { ...headers };
  for (const name of CONNECTION_FIELDS) delete copy[name];
  return copy;
}

const NODE_WRITE_HEAD = ServerResponse.prototype.writeHead;

/**
 * `reply`'s headers as `res.writeHead` takes them: over HTTP/2 without
 * connection fields; to Node's own HTTP/1.1 `writeHead`, a shared reply's flat
 * list (core/reply.ts `sharedReply`). Only to Node's own: a wrapper put on the
 * response (on-headers, under Express's compression and morgan) may read an
 * array as `[name, value]` pairs.
 */
function headersFor(res: NodeResponse, reply: Reply, stream: unknown): OutgoingHttpHeaders {
  if (stream !== undefined) return forHttp2(reply.headers);
  const flat = flatHeaders(reply);
  // (Typed as the object: the union of the two responses' writeHead takes only that.)
  return flat !== undefined && res.writeHead === NODE_WRITE_HEAD ? (flat as unknown as OutgoingHttpHeaders) : reply.headers;
}

/** Writes a reply whose body is in memory (or absent), synchronously: the hot path. */
export function writeReady(res: NodeResponse, reply: Reply, body: Uint8Array | undefined): void {
  if (reply.user !== undefined) (res as Noted)[USER] = reply.user;
  const stream = (res as Partial<Http2ServerResponse>).stream;
  res.writeHead(reply.status, headersFor(res, reply, stream));
  if (body === undefined) {
    res.end();
    return;
  }
  (res as Noted)[SENT] = body.length;
  // A body larger than one write of a watched HTTP/2 stream goes in slices, so that
  // a slow client is seen to progress (h2-send.ts); the rest is written at once.
  const sliced = stream === undefined ? undefined : slicedWriter(res as Http2ServerResponse, body.length);
  if (sliced === undefined) {
    res.end(body);
    return;
  }
  void sliced.write(res as Http2ServerResponse, body).then(() => {
    if (!stream!.destroyed) res.end();
  });
}

/**
 * Takes the next piece of a body and writes it: "done" at the end, "gone" when
 * the client is, "wait" when the socket wants 'drain' first. A function of its
 * own so that no frame suspended while a slow client drains holds a piece: a
 * suspended async function keeps every value it has held, so the loop in
 * {@link writeReply} kept a piece already sent (three 512 KiB pieces per stalled
 * download, where the socket's and the one read ahead are all there need be).
 */
async function writeNext(
  res: NodeResponse,
  pieces: AsyncIterator<Uint8Array> & Recycling,
  gone: () => boolean,
  sliced: SlicedWriter | undefined,
): Promise<"done" | "gone" | "wait" | "more"> {
  // Gone while the last piece was waiting to drain (a send timeout cut a client
  // that stopped reading): no next piece. Asking for it read one more piece and
  // started the read ahead of another (up to 1 MiB per connection cut, garbage
  // at once), and the attack run cuts 50 slow readers every few seconds.
  if (gone()) return "gone";
  const next = await pieces.next();
  if (next.done === true) return "done";
  if (gone()) return "gone";
  (res as Noted)[SENT] = ((res as Noted)[SENT] ?? 0) + next.value.length;
  // A watched HTTP/2 stream: in slices, the piece sent before the next is read (h2-send.ts).
  if (sliced !== undefined) {
    await sliced.write(res as Http2ServerResponse, next.value);
    return "more";
  }
  const piece = next.value;
  // Once the socket has written the piece (the callback of its write, or of its
  // last slice's), nothing holds it: the file reads the next piece into it.
  const done = pieces.recycle === undefined ? undefined : () => pieces.recycle?.(piece);
  if (piece.length > TLS_SLICE && ((res as ServerResponse).socket as TLSSocket | null)?.encrypted === true) {
    return writeTlsSlices(res as ServerResponse, piece, gone, done);
  }
  return (res as ServerResponse).write(piece, done) ? "more" : "wait";
}

/**
 * The largest write handed to a TLS socket at once. A write is encrypted whole
 * into OpenSSL's output as soon as it is made, so a client that stops reading
 * left a 512 KiB piece's ciphertext beside its plaintext, and the allocator's
 * churn on those large buffers kept more: 50 stalled HTTPS downloads measured
 * 2.9-3.1 MiB each, against 1.4 MiB over plain HTTP. In 64 KiB slices (four TLS
 * records), 1.6-1.9 MiB. A slice is written once the one before has drained.
 */
const TLS_SLICE = 64 * 1024;

/** Writes `piece` to a TLS socket in {@link TLS_SLICE}s; the last slice's outcome as {@link writeNext}'s. */
async function writeTlsSlices(
  res: ServerResponse,
  piece: Uint8Array,
  gone: () => boolean,
  done: (() => void) | undefined,
): Promise<"gone" | "wait" | "more"> {
  for (let at = 0; ; at += TLS_SLICE) {
    if (gone()) return "gone";
    if (at + TLS_SLICE >= piece.length) return res.write(piece.subarray(at), done) ? "more" : "wait";
    if (!res.write(piece.subarray(at, at + TLS_SLICE))) await drained(res);
  }
}

/**
 * Writes a prepared reply. If the body comes up short (a file truncated while it
 * is sent) the connection is destroyed: a response that ended early would be
 * indistinguishable from a complete one to the client.
 */
export async function writeReply(res: NodeResponse, prepared: Prepared): Promise<void> {
  const { reply, body } = prepared;
  if (body === undefined || body instanceof Uint8Array) {
    writeReady(res, reply, body);
    return;
  }
  if (reply.user !== undefined) (res as Noted)[USER] = reply.user;
  // An Http2ServerResponse has a stream; a ServerResponse does not (one failed lookup).
  const stream = (res as Partial<Http2ServerResponse>).stream;
  try {
    res.writeHead(reply.status, headersFor(res, reply, stream));
  } catch (error) {
    // A header Node refuses (a custom handler's line break): nothing was sent, and
    // the caller answers 500; the files opened for the body must not stay open.
    await body.close();
    throw error;
  }
  // Http2ServerResponse has no `destroyed` (Node 20); its stream does.
  const gone = stream === undefined ? () => (res as ServerResponse).destroyed : () => stream.destroyed;
  const sliced = stream === undefined ? undefined : slicedWriter(res as Http2ServerResponse);
  const pieces: AsyncIterator<Uint8Array> & Recycling = body.bytes[Symbol.asyncIterator]();
  try {
    for (;;) {
      const step = await writeNext(res, pieces, gone, sliced);
      if (step === "done") break;
      if (step === "gone") {
        await pieces.return?.(); // lets a read ahead settle before the file closes
        break;
      }
      // A closed HTTP/2 stream refuses the write and never emits 'close' again.
      if (step === "wait" && !gone()) await drained(res);
    }
    if (!gone()) res.end();
  } catch {
    res.destroy();
  } finally {
    await body.close();
  }
}

/**
 * After a failure while preparing or sending a reply: reports it, then answers
 * 500 if nothing was sent yet, else cuts the connection. A reporter that throws,
 * or a 500 that cannot be written either, never becomes an unhandled rejection
 * (which ends a Node process): the connection goes instead.
 */
export function answerFailure(
  res: NodeResponse,
  error: unknown,
  request: WharfRequest,
  fs: FileSystem,
  report: (error: unknown, req: WharfRequest) => void,
): void {
  try {
    report(error, request);
  } catch {
    // the reporter's own failure: nothing more to tell
  }
  if (res.headersSent) res.destroy();
  else
    prepare(async () => errorReply(500), request, fs)
      .then((p) => writeReply(res, p))
      .catch(() => res.destroy());
}
