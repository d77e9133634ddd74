/**
 * A *variant* is one selected representation of a resource (RFC 9110 §3.2): the
 * file as it is, or one content coding of it; bytes in memory, a file on disk, or
 * a stream compressed on the fly. This module builds a variant's headers and its
 * 200 and 304 once; variant-reply.ts turns a variant into the reply for a request.
 */
import { EMPTY, sharedReply } from "../core/reply.js";
import type { Body, Chunk, Reply } from "../core/types.js";
import { formatHttpDate } from "../http/dates.js";
import { type Digests, formatDigest } from "../http/digest-fields.js";
import { type EntityTag, formatEntityTag } from "../http/etag.js";
import type { Encoding } from "../http/negotiate.js";

/** One representation, with its replies built once. */
export interface Variant {
  readonly etag: EntityTag;
  /** A tag the same bytes were sent with before, still matched (preconditions.ts `formerEtag`). */
  readonly formerEtag?: EntityTag | undefined;
  readonly lastModifiedMs: number | undefined;
  /** Length in bytes; `undefined` for a stream compressed on the fly. */
  readonly size: number | undefined;
  readonly contentType: string;
  /** The representation's digests (Repr-Digest), when `digest` is on and they are known. */
  readonly digests: Digests | undefined;
  /** The plain 200. */
  readonly ok: Reply;
  /** The 304 (RFC 9110 §15.4.5). */
  readonly notModified: Reply;
  /** Bytes `[start, end)` of the representation (only when `size` is known). */
  slice(start: number, end: number): Chunk;
}

/** What {@link buildVariant} needs. */
export interface VariantSpec {
  readonly etag: EntityTag;
  readonly formerEtag?: EntityTag | undefined;
  readonly lastModifiedMs: number | undefined;
  readonly size: number | undefined;
  readonly contentType: string;
  readonly cacheControl: string;
  /** The content coding, for an encoded variant. */
  readonly encoding: Encoding | undefined;
  /** Whether the resource has several codings, so caches must key on Accept-Encoding. */
  readonly negotiable: boolean;
  /** The whole body. */
  readonly body: Body;
  readonly slice: (start: number, end: number) => Chunk;
  /** Request headers besides Accept-Encoding the representation was chosen by (a listing's `accept`). */
  readonly vary?: string | undefined;
  /** Further headers of the 200 (a listing's Link and Content-Security-Policy). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The digests of the whole representation (`body`), when known and wanted. */
  readonly digests?: Digests | undefined;
}

/**
 * The request headers a response with digests varies on (RFC 9530 §4): they
 * choose the algorithm, or none, of Repr-Digest and Content-Digest.
 */
export const DIGEST_VARY = "want-repr-digest, want-content-digest";

/** Builds a variant's 200 and 304 once, so a request only picks one. */
export function buildVariant(spec: VariantSpec): Variant {
  // RFC 9110 §15.4.5: a 304 carries the fields a 200 would send for caches — ETag,
  // Cache-Control, Vary (Node adds Date) — and no representation metadata.
  const cacheHeaders: Record<string, string> = { etag: formatEntityTag(spec.etag), "cache-control": spec.cacheControl };
  // §12.5.5: every response of a negotiated resource says what it varied on,
  // identity and 304 included, or a shared cache would hand br to a client without it.
  const vary = [spec.vary, spec.negotiable ? "accept-encoding" : undefined, spec.digests !== undefined ? DIGEST_VARY : undefined].filter(
    (v) => v !== undefined,
  );
  if (vary.length > 0) cacheHeaders["vary"] = vary.join(", ");
  const headers: Record<string, string> = { ...cacheHeaders, ...spec.headers };
  // §8.8.2.1: never later than the response's Date.
  if (spec.lastModifiedMs !== undefined) headers["last-modified"] = formatHttpDate(Math.min(spec.lastModifiedMs, Date.now()));
  // A stream of unknown length cannot serve ranges; it does not offer them.
  if (spec.size !== undefined) headers["accept-ranges"] = "bytes";
  headers["x-content-type-options"] = "nosniff";
  headers["content-type"] = spec.contentType;
  if (spec.encoding !== undefined) headers["content-encoding"] = spec.encoding;
  if (spec.size !== undefined) headers["content-length"] = String(spec.size);
  // RFC 9530 §3: SHA-256 unless the request asks otherwise (digest-reply.ts); a
  // 206 copies it, since it describes the whole representation, not the part.
  if (spec.digests !== undefined) headers["repr-digest"] = formatDigest("sha-256", spec.digests["sha-256"]);
  return {
    etag: spec.etag,
    formerEtag: spec.formerEtag,
    lastModifiedMs: spec.lastModifiedMs,
    size: spec.size,
    contentType: spec.contentType,
    digests: spec.digests,
    ok: sharedReply({ status: 200, headers, body: spec.body }),
    notModified: sharedReply({ status: 304, headers: cacheHeaders, body: EMPTY }),
    slice: spec.slice,
  };
}
