/**
 * Sending a {@link Reply} outside `createHandler`, so that `handle()` and
 * `serveContent()` are a complete runtime-neutral API: whatever produces replies
 * can be served by `node:http` ({@link nodeListener}), by a web-standard runtime
 * ({@link fetchHandler}), or by anything that can write bytes
 * ({@link openReplyBody}).
 *
 * All three keep the guarantee the built-in adapters give: a reply's file slices
 * are opened before a header is written and checked against the file identity
 * the headers were computed from, so Content-Length, ETag and bytes always
 * describe one version of the file.
 */

import { errorReply } from "../core/reply.js";
import type { Reply, WharfRequest } from "../core/types.js";
import { nodeFileSystem } from "../fs/node.js";
import type { FileSystem } from "../fs/types.js";
import { type Opened, openBody, prepare } from "./body.js";
import { fetchResponse } from "./fetch.js";
import { answerFailure, fromNodeRequest, type NodeRequest, type NodeResponse, writeReply } from "./node.js";
import { closeWithConnection } from "./queued.js";

/** Anything that answers a request with a reply: `handler.handle`, or a function calling `serveContent`. */
export type Responder = (req: WharfRequest) => Reply | Promise<Reply>;

/** A reply's body, opened: its bytes in order, exactly as many as its Content-Length says. */
export interface ReplyBody {
  /**
   * The bytes, read as they are iterated. Iteration fails with an error when a
   * file turns out shorter than promised (truncated while sent): the response
   * must then be cut off, never ended as if complete.
   */
  readonly bytes: AsyncIterable<Uint8Array>;
  /** Releases the open files; call it once sending ends, however it ends. */
  close(): Promise<void>;
}

/**
 * A file a reply reads is no longer the version its headers describe (replaced,
 * rewritten or removed since the reply was made). Nothing has been sent: make the
 * reply again (it will describe the new version, or be a 404), or answer 503.
 */
export class StaleReplyError extends Error {
  readonly code = "WHARF_STALE_REPLY";
  constructor() {
    super("wharf: a file changed between deciding the reply and opening it");
    this.name = "StaleReplyError";
  }
}

const NOTHING: ReplyBody = {
  bytes: { [Symbol.asyncIterator]: () => ({ next: async () => ({ value: undefined, done: true }) }) },
  close: async () => {},
};

/**
 * Opens `reply`'s body for sending: in-memory chunks as they are, file slices
 * opened on `fs` and checked against the identity (inode, size, mtime) the reply
 * was decided with. Throws {@link StaleReplyError} when a file changed or went
 * away, and the file system's error (`EACCES`, `EMFILE`, ...) when it cannot be
 * opened; on either, nothing is left open.
 *
 * The reply describes the GET response: for HEAD, send its status and headers
 * and do not open the body (a reply from `serveContent` for HEAD has none).
 *
 * @example
 * ```ts
 * const body = await openReplyBody(reply);
 * try {
 *   for await (const chunk of body.bytes) await write(chunk);
 * } finally {
 *   await body.close();
 * }
 * ```
 */
export async function openReplyBody(reply: Reply, fs: FileSystem = nodeFileSystem): Promise<ReplyBody> {
  if (reply.body.kind === "empty") return NOTHING;
  let opened: Opened;
  try {
    opened = await openBody(fs, reply.body);
  } catch (error) {
    // Gone since the reply was made: the same case as replaced.
    if ((error as { code?: unknown }).code === "ENOENT") throw new StaleReplyError();
    throw error;
  }
  if (opened.kind === "stale") throw new StaleReplyError();
  return opened.body;
}

/** Options of {@link nodeListener} and {@link fetchHandler}. */
export interface SendOptions {
  /**
   * The file system the replies' file slices are on.
   * @default the Node file system
   */
  readonly fs?: FileSystem;
  /**
   * Told of every error the responder throws (the client gets a 500 that says
   * nothing of it).
   * @default one line on stderr
   */
  readonly report?: (error: unknown, req: WharfRequest) => void;
}

const defaultReport = (error: unknown, req: WharfRequest): void => {
  // JSON escapes control characters, so a request target cannot forge log lines.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`wharf: internal error on ${JSON.stringify(`${req.method} ${req.target}`)}: ${JSON.stringify(message)}\n`);
};

/** `responder` that never throws: an error is reported and answered with 500. */
function guarded(responder: Responder, report: (error: unknown, req: WharfRequest) => void): (req: WharfRequest) => Promise<Reply> {
  return async (req) => {
    try {
      return await responder(req);
    } catch (error) {
      report(error, req);
      return errorReply(500);
    }
  };
}

/**
 * A `node:http` (or `https`, or `http2` compatibility) request listener that
 * answers with `responder`, as `createHandler` does: HEAD without a body, file
 * slices opened and checked first, a reply whose file changed in between made
 * once more (then 503), a file that came up short cutting the connection.
 *
 * @example
 * ```ts
 * createServer(nodeListener((req) => serveContent(req, { body: "hi\n", contentType: "text/plain" }))).listen(8000);
 * ```
 */
export function nodeListener(responder: Responder, options: SendOptions = {}): (req: NodeRequest, res: NodeResponse) => void {
  const fs = options.fs ?? nodeFileSystem;
  const report = options.report ?? defaultReport;
  const handle = guarded(responder, report);
  return (req, res) => {
    const request = fromNodeRequest(req);
    // A pipelined request whose connection closes before its turn: see queued.ts.
    closeWithConnection(res);
    prepare(handle, request, fs)
      .then((prepared) => writeReply(res, prepared))
      // Only opening a file can fail here (handle never throws).
      .catch((error: unknown) => answerFailure(res, error, request, fs, report));
  };
}

/** A web-standard handler (`Request` in, `Response` out) that answers with `responder`, with the guarantees of {@link nodeListener}. */
export function fetchHandler(responder: Responder, options: SendOptions = {}): (request: Request) => Promise<Response> {
  const fs = options.fs ?? nodeFileSystem;
  const handle = guarded(responder, options.report ?? defaultReport);
  return (request) => fetchResponse(handle, fs, request);
}
