/**
 * The variants of a file: as it is, and in each content coding (RFC 9110 §8.4).
 * Each is produced once per file version: a precompressed sidecar (`app.js.br`)
 * when one is present and up to date, else the in-memory body compressed once and
 * kept within the cache budget, else — for a file too large to keep — a stream
 * compressed while it is sent.
 *
 * ETags are distinct per coding (a 304 for one never validates another): the hash
 * of the bytes actually sent for sidecars and in-memory variants. A stream's bytes
 * are not known before they are sent, so its tag is the identity tag with the
 * coding appended, marked weak (RFC 9110 §8.8.1: weak = same meaning, not
 * necessarily the same bytes), as nginx does when it gzips on the fly.
 */
import { chunksBody, EMPTY } from "../core/reply.js";
import type { Body, Chunk, FileSlice } from "../core/types.js";
import type { FileStat } from "../fs/types.js";
import { lastModifiedOf } from "../http/dates.js";
import type { EntityTag } from "../http/etag.js";
import type { Encoding } from "../http/negotiate.js";
import type { Contents, FileContentsCache } from "./file-contents.js";
import { buildVariant, type Variant } from "./variant.js";

/** A file on disk as last stat'ed. */
export interface DiskFile {
  readonly real: string;
  readonly stat: FileStat;
}

/** What every variant of one file shares. */
export interface FileFacts extends DiskFile {
  readonly contentType: string;
  readonly cacheControl: string;
  /** Whether the file has codings to choose from (so every response says `Vary`). */
  readonly negotiable: boolean;
}

export function fileSlice(file: DiskFile, start: number, end: number): FileSlice {
  const { ino, size, mtimeMs } = file.stat;
  return { kind: "file", path: file.real, start, end, identity: { ino, size, mtimeMs } };
}

/** A whole body: bytes in memory, or the file read at send time. */
function wholeBody(bytes: Uint8Array | undefined, file: DiskFile): Body {
  if (bytes !== undefined) return bytes.length === 0 ? EMPTY : chunksBody([bytes], bytes.length);
  return file.stat.size === 0 ? EMPTY : chunksBody([fileSlice(file, 0, file.stat.size)], file.stat.size);
}

function slicer(bytes: Uint8Array | undefined, file: DiskFile): (start: number, end: number) => Chunk {
  return bytes !== undefined ? (start, end) => bytes.subarray(start, end) : (start, end) => fileSlice(file, start, end);
}

/** The variant of `source` (the file itself or a sidecar) with its contents: bytes in memory when held, else read from `source`. */
function storedVariant(facts: FileFacts, source: DiskFile, contents: Contents, encoding: Encoding | undefined): Variant {
  return buildVariant({
    etag: contents.etag,
    // The file's own bytes only: a sidecar's never had a provisional tag.
    formerEtag: encoding === undefined ? contents.formerEtag : undefined,
    // The representation was last changed when the original was.
    lastModifiedMs: lastModifiedOf(facts.stat.mtimeMs),
    size: contents.body?.length ?? source.stat.size,
    contentType: facts.contentType,
    cacheControl: facts.cacheControl,
    encoding,
    negotiable: facts.negotiable,
    // Of the bytes this variant sends: the sidecar's or the compressed ones (RFC 9530 §3).
    digests: contents.digests,
    body: wholeBody(contents.body, source),
    slice: slicer(contents.body, source),
  });
}

/** The file as it is. */
export function identityVariant(facts: FileFacts, contents: Contents): Variant {
  return storedVariant(facts, facts, contents, undefined);
}

function streamTag(identity: EntityTag, encoding: Encoding): EntityTag {
  return { weak: true, opaque: `${identity.opaque.slice(0, -1)}-${encoding}"` };
}

/**
 * The file in `encoding`: from `sidecar` when given, else compressed in memory,
 * else streamed. `hold` is told of the Contents whose body the variant keeps.
 */
export async function encodedVariant(
  facts: FileFacts,
  identity: Contents,
  encoding: Encoding,
  sidecar: DiskFile | undefined,
  cache: FileContentsCache,
  hold: (contents: Contents) => void,
): Promise<Variant> {
  if (sidecar !== undefined) {
    const contents = await cache.contentsOf(sidecar.real, sidecar.stat);
    hold(contents);
    return storedVariant(facts, sidecar, contents, encoding);
  }
  const inMemory = cache.encodedOf(identity, encoding);
  if (inMemory !== undefined) {
    const contents = await inMemory;
    hold(contents);
    return storedVariant(facts, facts, contents, encoding);
  }
  return buildVariant({
    etag: streamTag(identity.etag, encoding),
    lastModifiedMs: lastModifiedOf(facts.stat.mtimeMs),
    size: undefined,
    contentType: facts.contentType,
    cacheControl: facts.cacheControl,
    encoding,
    negotiable: true,
    body: { kind: "encoded", encoding, source: fileSlice(facts, 0, facts.stat.size) },
    slice: () => {
      throw new Error("a streamed variant has no ranges");
    },
  });
}

/** A generated page (a listing) in `encoding`, from bytes compressed once. */
export function bytesVariant(
  bytes: Uint8Array,
  etag: EntityTag,
  contentType: string,
  cacheControl: string,
  encoding: Encoding | undefined,
  negotiable: boolean,
  extra: { readonly vary?: string | undefined; readonly headers?: Readonly<Record<string, string>> } = {},
): Variant {
  return buildVariant({
    ...extra,
    etag,
    lastModifiedMs: undefined,
    size: bytes.length,
    contentType,
    cacheControl,
    encoding,
    negotiable,
    body: bytes.length === 0 ? EMPTY : chunksBody([bytes], bytes.length),
    slice: (start, end) => bytes.subarray(start, end),
  });
}
