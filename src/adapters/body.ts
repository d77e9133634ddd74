/**
 * Opening a reply's body for sending. File slices are opened before any header is
 * written and checked against the identity the headers were computed from; if the
 * file was replaced in between, the caller re-runs the request, so Content-Length,
 * ETag and bytes always describe the same file.
 */

import { sameFile } from "../core/identity.js";
import { errorReply } from "../core/reply.js";
import type { Body, Chunk, Reply, WharfRequest } from "../core/types.js";
import type { FileSystem, OpenFile, Recycling } from "../fs/types.js";
import { compressIterable } from "../responders/encoders.js";
import { statusForError } from "../responders/errors.js";

/** A body ready to stream: its bytes in order, and the descriptors to release. */
export interface OpenedBody {
  readonly bytes: AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** A file yielded fewer bytes than promised: the response must be cut, not ended. */
export class ShortBodyError extends Error {
  constructor() {
    super("file shorter than the length already sent");
    this.name = "ShortBodyError";
  }
}

const DONE: IteratorResult<Uint8Array> = { value: undefined, done: true };

/**
 * A body's bytes in order: its in-memory chunks, and its file slices piece by
 * piece, checked against the length promised. An iterator object rather than an
 * async generator, for the reason in src/fs/node.ts: a generator suspended while
 * the client is slow kept a piece it had already sent.
 */
class BodyBytes implements AsyncIterableIterator<Uint8Array>, Recycling {
  private index = 0;
  private current: (AsyncIterator<Uint8Array> & Recycling) | undefined;
  private expected = 0;

  constructor(
    private readonly chunks: readonly Chunk[],
    private readonly files: ReadonlyMap<string, OpenFile>,
  ) {}

  async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      if (this.current !== undefined) {
        const result = await this.current.next();
        if (result.done !== true) {
          this.expected -= result.value.length;
          return result;
        }
        this.current = undefined;
        if (this.expected !== 0) throw new ShortBodyError();
      }
      const chunk = this.chunks[this.index++];
      if (chunk === undefined) return DONE;
      if (chunk instanceof Uint8Array) return { value: chunk, done: false };
      this.expected = chunk.end - chunk.start;
      this.current = (this.files.get(chunk.path) as OpenFile).read(chunk.start, chunk.end)[Symbol.asyncIterator]();
    }
  }

  /** Gives a piece back to the file it came from (see {@link Recycling}); a chunk held in memory is never taken. */
  recycle(piece: Uint8Array): void {
    this.current?.recycle?.(piece);
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    const current = this.current;
    this.current = undefined;
    this.index = this.chunks.length;
    await current?.return?.();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A body opened for sending, or "stale": a file it reads is no longer the version its reply described. */
export type Opened = { readonly kind: "opened"; readonly body: OpenedBody } | { readonly kind: "stale" };

export async function openBody(fs: FileSystem, body: Body): Promise<Opened> {
  // Made as it is sent; it closes what it opens itself (src/responders/archive/).
  if (body.kind === "stream") return { kind: "opened", body: { bytes: body.open(), close: async () => undefined } };
  const chunks = body.kind === "chunks" ? body.chunks : body.kind === "encoded" ? [body.source] : [];
  const files = new Map<string, OpenFile>();
  const close = async (): Promise<void> => {
    await Promise.allSettled([...files.values()].map((f) => f.close()));
  };
  try {
    for (const chunk of chunks) {
      if (chunk instanceof Uint8Array || files.has(chunk.path)) continue;
      const file = await fs.open(chunk.path);
      files.set(chunk.path, file);
      const now = await file.stat();
      if (!sameFile(now, chunk.identity)) {
        await close();
        return { kind: "stale" };
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  const bytes = (): AsyncIterable<Uint8Array> => new BodyBytes(chunks, files);
  if (body.kind !== "encoded") return { kind: "opened", body: { bytes: bytes(), close } };
  const { encoding, source } = body;
  return { kind: "opened", body: { bytes: compressIterable(encoding, source.end - source.start, bytes()), close } };
}

/**
 * A reply together with its body ready to send: bytes already in memory (the hot
 * path: no stream, no await), an opened stream, or nothing (HEAD, bodiless replies).
 */
export interface Prepared {
  readonly reply: Reply;
  readonly body: Uint8Array | OpenedBody | undefined;
}

/** The body as one buffer when it has no file slices, else `undefined`. */
function inMemory(chunks: readonly Chunk[]): Uint8Array | undefined {
  if (chunks.length === 1 && chunks[0] instanceof Uint8Array) return chunks[0];
  if (!chunks.every((c): c is Uint8Array => c instanceof Uint8Array)) return undefined;
  return Buffer.concat(chunks);
}

/**
 * The reply ready to send when nothing has to be opened (HEAD, no body, or a body
 * held in memory); `undefined` when it reads files. Synchronous: the hot path.
 */
export function preparedInMemory(reply: Reply, req: WharfRequest): Prepared | undefined {
  const body = bodyInMemory(reply, req);
  return body === false ? undefined : { reply, body };
}

/**
 * What {@link preparedInMemory} would write, without wrapping it: the bytes, or
 * `undefined` for no body; `false` when the reply reads files. For the Node
 * listener's synchronous path, which writes at once and needs no object for it.
 */
export function bodyInMemory(reply: Reply, req: WharfRequest): Uint8Array | undefined | false {
  if (req.method === "HEAD" || reply.body.kind === "empty") return undefined;
  const bytes = reply.body.kind === "chunks" ? inMemory(reply.body.chunks) : undefined;
  return bytes ?? false;
}

/**
 * Runs `handle` (or takes its `first` result) and opens the body. A file replaced or deleted between deciding
 * and opening gets one more run (which now sees the new file, or answers 404); a
 * file that keeps changing answers 503 rather than mixing the headers of one
 * version with the bytes of another.
 */
export async function prepare(
  handle: (req: WharfRequest) => Promise<Reply>,
  req: WharfRequest,
  fs: FileSystem,
  first?: Reply | Promise<Reply>,
): Promise<Prepared> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const reply = await (attempt === 0 && first !== undefined ? first : handle(req));
    const ready = preparedInMemory(reply, req);
    if (ready !== undefined) return ready;
    if (reply.body.kind === "empty") throw new Error("unreachable: an empty body is always ready");
    const opened = await openBody(fs, reply.body).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === "ENOENT") return { kind: "stale" } as const;
      // Out of descriptors (EMFILE: 503, retry), or no longer readable (EACCES: 403):
      // the answer errors.ts gives wherever else the file system fails, not a 500.
      const status = statusForError(error);
      if (status === 500) throw error;
      return { kind: "refused", status } as const;
    });
    if (opened.kind === "opened") return { reply, body: opened.body };
    if (opened.kind === "refused") return inMemoryReply(errorReply(opened.status, opened.status === 503 ? { "retry-after": "1" } : {}));
  }
  return inMemoryReply(errorReply(503, { "retry-after": "1" }));
}

/** An error page (its body in memory) ready to send. */
function inMemoryReply(reply: Reply): Prepared {
  return { reply, body: reply.body.kind === "chunks" ? inMemory(reply.body.chunks) : undefined };
}
