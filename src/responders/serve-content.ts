/**
 * The public middle layer, as Go exports `ServeContent` beside its `FileServer`:
 * the engine the static handler answers with (preconditions in the order of
 * RFC 9110 §13.2.2, If-Range, byte ranges, multipart/byteranges, 304 and 416),
 * applied to any bytes a custom handler has — a string or buffer in memory, or a
 * file of its choosing. The handler decides what to send; this decides how, so
 * that it gets the conditional and range rules right without copying them.
 *
 * Nothing here re-implements a rule: the variant is built by
 * {@link buildVariant} and answered by {@link variantReply}, the functions every
 * static file goes through, so a custom route and a file on disk behave alike.
 */

import { OptionError } from "../core/errors.js";
import { chunksBody, EMPTY, errorReply } from "../core/reply.js";
import type { Body, Chunk, Reply, WharfRequest } from "../core/types.js";
import { nodeFileSystem } from "../fs/node.js";
import type { FileStat, FileSystem } from "../fs/types.js";
import { contentTypeFor } from "../http/content-type.js";
import { lastModifiedOf } from "../http/dates.js";
import { type EntityTag, parseEntityTag } from "../http/etag.js";
import { DEFAULT_MAX_RANGES } from "../http/range.js";
import { statusForError } from "./errors.js";
import { bytesTag, metadataTag } from "./file-contents.js";
import { type DiskFile, fileSlice } from "./file-variants.js";
import { buildVariant, type Variant } from "./variant.js";
import { variantReply } from "./variant-reply.js";

/** A file already looked up: its canonical path (from `realpath`) and its current stat. */
export interface StatedFile {
  /** The canonical absolute path, as {@link FileSystem.realpath} returns it. */
  readonly path: string;
  /** Its stat now; the bytes sent are checked against it when the file is opened. */
  readonly stat: FileStat;
}

/** What every kind of content takes. */
interface ContentOptions {
  /**
   * The entity-tag of the content as the ETag header spells it: `"v1"` (strong) or
   * `W/"v1"` (weak: §8.8.1, never satisfies If-Match or If-Range). By default a
   * strong tag is made: for `body` a hash of its bytes (the tag wharf gives a file
   * with the same bytes), for `file` its size and modification time.
   */
  readonly etag?: string;
  /**
   * When the content last changed, for Last-Modified and If-(Un)Modified-Since.
   * By default none for `body`, the file's modification time for `file`.
   */
  readonly lastModified?: Date | number;
  /**
   * The Cache-Control of the 200, 206 and 304.
   * @default "no-cache" (as `createHandler`)
   */
  readonly cacheControl?: string;
  /**
   * A Range header listing more ranges than this is ignored (a 200), as nginx's
   * `max_ranges` does against CVE-2011-3192.
   * @default 100
   */
  readonly maxRanges?: number;
}

/** Content held in memory. */
export interface BodyContent extends ContentOptions {
  /** The bytes; a string is sent as UTF-8. */
  readonly body: string | Uint8Array;
  readonly file?: never;
  /** The Content-Type, e.g. `text/plain; charset=utf-8`. */
  readonly contentType: string;
}

/** Content read from a file when it is sent. */
export interface FileContent extends ContentOptions {
  /**
   * A path (resolved with `realpath` and stat'ed now), or a file already looked up.
   * The reply holds slices of it, which the adapters (or {@link import("../adapters/send.js").openReplyBody})
   * open and check against this stat before any byte is sent.
   *
   * Not confined: no root, no dotfile, hidden-file or symlink rule applies, so any
   * file the process can read is served. Never build it from the request; to serve
   * a directory, use `createHandler`.
   */
  readonly file: string | StatedFile;
  readonly body?: never;
  /**
   * The Content-Type.
   * @default what wharf sends for the file's name (`a.html`: `text/html; charset=utf-8`)
   */
  readonly contentType?: string;
  /**
   * Where the file is.
   * @default the Node file system
   */
  readonly fs?: FileSystem;
}

/** What {@link serveContent} sends: bytes in memory, or a file. */
export type Content = BodyContent | FileContent;

/** The methods content answers (RFC 9110 §9.3). */
const ALLOW = "GET, HEAD, OPTIONS";

// A header value may not contain CR, LF or NUL (RFC 9110 §5.5): a caller's
// Content-Type built from user input must not split the response.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const encoder = new TextEncoder();

/**
 * The reply to `req` for `content`, with the conditional and range semantics of
 * the static handler:
 *
 * - GET: 200 with the content; 304 when If-None-Match or If-Modified-Since says
 *   the client has it; 412 when If-Match or If-Unmodified-Since fails (evaluated in
 *   the order of RFC 9110 §13.2.2); 206 for a satisfiable Range (several ranges as
 *   multipart/byteranges, §14.6), unless If-Range names another version; 416 with
 *   `Content-Range: bytes *\/length` for an unsatisfiable one.
 * - HEAD: the same status and headers as GET, with no body (§9.3.2).
 * - OPTIONS: 204 with Allow; any other method: 405 with Allow.
 *
 * In-memory content is answered synchronously. A file is stat'ed (a promise); a
 * file that is not there or not a regular file answers 404, one that cannot be
 * read 403, and running out of descriptors 503. Bad options (an ETag that is not
 * an entity-tag, a header value with CR or LF) throw an OptionError.
 *
 * With no `etag`, in-memory content is hashed on every call: give one (a version,
 * a hash kept beside the content) when the body is large.
 *
 * @example
 * ```ts
 * const reply = serveContent(req, { body: "hello\n", contentType: "text/plain; charset=utf-8" });
 * ```
 */
export function serveContent(req: WharfRequest, content: BodyContent): Reply;
export function serveContent(req: WharfRequest, content: FileContent): Promise<Reply>;
export function serveContent(req: WharfRequest, content: Content): Reply | Promise<Reply>;
export function serveContent(req: WharfRequest, content: Content): Reply | Promise<Reply> {
  if (content === null || typeof content !== "object") throw new OptionError("content", "must be an object with `body` or `file`");
  const common = commonOptions(content);
  if (content.body !== undefined) {
    if (content.file !== undefined) throw new OptionError("content", "takes `body` or `file`, not both");
    if (req.method !== "GET" && req.method !== "HEAD") return otherMethod(req);
    return answer(req, bodyVariant(content.body, checkedValue("contentType", content.contentType), common), common.maxRanges);
  }
  if (content.file === undefined) throw new OptionError("content", "must have `body` or `file`");
  if (req.method !== "GET" && req.method !== "HEAD") return Promise.resolve(otherMethod(req));
  return fileReply(req, content, common);
}

interface Common {
  readonly etag: EntityTag | undefined;
  readonly lastModifiedMs: number | undefined;
  readonly cacheControl: string;
  readonly maxRanges: number;
}

/** Checks the options every kind of content shares, once per call. */
function commonOptions(content: Content): Common {
  let etag: EntityTag | undefined;
  if (content.etag !== undefined) {
    etag = typeof content.etag === "string" ? parseEntityTag(content.etag) : undefined;
    if (etag === undefined) throw new OptionError("etag", `must be an entity-tag such as "\\"v1\\"" or "W/\\"v1\\"" (with the quotes)`);
  }
  let lastModifiedMs: number | undefined;
  if (content.lastModified !== undefined) {
    lastModifiedMs = content.lastModified instanceof Date ? content.lastModified.getTime() : content.lastModified;
    if (typeof lastModifiedMs !== "number" || !Number.isFinite(lastModifiedMs) || lastModifiedMs < 0) {
      throw new OptionError("lastModified", "must be a valid Date or milliseconds since the epoch");
    }
  }
  const maxRanges = content.maxRanges ?? DEFAULT_MAX_RANGES;
  if (!(Number.isSafeInteger(maxRanges) && maxRanges >= 1) && maxRanges !== Infinity) {
    throw new OptionError("maxRanges", "must be a whole number of at least 1");
  }
  return { etag, lastModifiedMs, cacheControl: checkedValue("cacheControl", content.cacheControl ?? "no-cache"), maxRanges };
}

function checkedValue(option: string, value: unknown): string {
  if (typeof value !== "string" || value === "" || !HEADER_VALUE.test(value)) throw new OptionError(option, "must be a valid header value");
  return value;
}

/** RFC 9110 §9.3.7: OPTIONS says what is allowed; §15.5.6: a 405 must say it too. */
function otherMethod(req: WharfRequest): Reply {
  return req.method === "OPTIONS" ? { status: 204, headers: { allow: ALLOW }, body: EMPTY } : errorReply(405, { allow: ALLOW });
}

/** The reply from the engine every static file goes through; HEAD drops the body here, so a caller writing it out never sends one. */
function answer(req: WharfRequest, variant: Variant, maxRanges: number): Reply {
  // The variant was built for this call alone, so its replies are the caller's to
  // change (no cache shares them, unlike the static handler's).
  const reply = variantReply(req, variant, maxRanges);
  return req.method === "HEAD" ? { ...reply, body: EMPTY } : reply;
}

function bodyVariant(body: string | Uint8Array, contentType: string, common: Common): Variant {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  if (!(bytes instanceof Uint8Array)) throw new OptionError("body", "must be a string or a Uint8Array");
  return buildVariant({
    etag: common.etag ?? bytesTag(bytes),
    lastModifiedMs: common.lastModifiedMs,
    size: bytes.length,
    contentType,
    cacheControl: common.cacheControl,
    encoding: undefined,
    negotiable: false,
    body: bytes.length === 0 ? EMPTY : chunksBody([bytes], bytes.length),
    slice: (start, end) => bytes.subarray(start, end),
  });
}

async function fileReply(req: WharfRequest, content: FileContent, common: Common): Promise<Reply> {
  const fs = content.fs ?? nodeFileSystem;
  let file: DiskFile;
  try {
    file = await lookUp(fs, content.file);
  } catch (error) {
    // The one mapping of file-system failures (errors.ts); the unexpected is the caller's to report.
    const status = statusForError(error);
    if (status === 500) throw error;
    return errorReply(status, status === 503 ? { "retry-after": "1" } : {});
  }
  // A directory, a FIFO or a device is not content: as a GET of it would be in the static handler.
  if (file.stat.kind !== "file") return errorReply(404);
  const contentType = checkedValue("contentType", content.contentType ?? contentTypeFor(file.real.slice(file.real.lastIndexOf("/") + 1)));
  const { size } = file.stat;
  const body: Body = size === 0 ? EMPTY : chunksBody([fileSlice(file, 0, size)], size);
  const variant = buildVariant({
    // The rule file-contents.ts applies to a file it does not hash: strong, and new
    // whenever the file is rewritten. Hashing here would read the file on every call.
    etag: common.etag ?? metadataTag(file.stat),
    // A placeholder time (a reproducible image's) is no date: see http/dates.ts.
    lastModifiedMs: common.lastModifiedMs ?? lastModifiedOf(file.stat.mtimeMs),
    size,
    contentType,
    cacheControl: common.cacheControl,
    encoding: undefined,
    negotiable: false,
    body,
    slice: (start, end): Chunk => fileSlice(file, start, end),
  });
  return answer(req, variant, common.maxRanges);
}

/** The canonical path and stat of `file`: the adapters open exactly that path and check that stat. */
async function lookUp(fs: FileSystem, file: string | StatedFile): Promise<DiskFile> {
  if (typeof file !== "string") {
    if (typeof file?.path !== "string" || typeof file.stat?.ino !== "number")
      throw new OptionError("file", "must be a path or { path, stat }");
    return { real: file.path, stat: file.stat };
  }
  if (file === "") throw new OptionError("file", "must be a non-empty path");
  const real = await fs.realpath(file);
  return { real, stat: await fs.stat(real) };
}
