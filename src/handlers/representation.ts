/**
 * A *variant* is one selected representation of a resource (RFC 9110 §3.2): the
 * file as it is, or one content coding of it; bytes in memory, a file on disk, or
 * a stream compressed on the fly. This module builds a variant's headers once,
 * and turns a variant into the reply for a request: preconditions (§13), then
 * ranges (§14). Every GET-able thing wharf serves goes through here, so conditional
 * and range requests behave the same everywhere.
 */
import { EMPTY, chunksBody } from "../core/reply.js";
import type { Body, Chunk, Reply, WharfRequest } from "../core/types.js";
import { formatHttpDate } from "../http/dates.js";
import { type EntityTag, formatEntityTag } from "../http/etag.js";
import { planByteranges, newBoundary } from "../http/multipart.js";
import type { Encoding } from "../http/negotiate.js";
import { evaluateIfRange, evaluatePreconditions } from "../http/preconditions.js";
import { evaluateRange, formatContentRange, formatUnsatisfiedRange } from "../http/range.js";
import { errorReply } from "./errors.js";

/** One representation, with its replies built once. */
export interface Variant {
  readonly etag: EntityTag;
  readonly lastModifiedMs: number | undefined;
  /** Length in bytes; `undefined` for a stream compressed on the fly. */
  readonly size: number | undefined;
  readonly contentType: string;
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
}

/** Builds a variant's 200 and 304 once, so a request only picks one. */
export function buildVariant(spec: VariantSpec): Variant {
  // RFC 9110 §15.4.5: a 304 carries the fields a 200 would send for caches — ETag,
  // Cache-Control, Vary (Node adds Date) — and no representation metadata.
  const cacheHeaders: Record<string, string> = { etag: formatEntityTag(spec.etag), "cache-control": spec.cacheControl };
  // §12.5.5: every response of a negotiated resource says what it varied on,
  // identity and 304 included, or a shared cache would hand br to a client without it.
  const vary = [spec.vary, spec.negotiable ? "accept-encoding" : undefined].filter((v) => v !== undefined);
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
  return {
    etag: spec.etag,
    lastModifiedMs: spec.lastModifiedMs,
    size: spec.size,
    contentType: spec.contentType,
    ok: { status: 200, headers, body: spec.body },
    notModified: { status: 304, headers: cacheHeaders, body: EMPTY },
    slice: spec.slice,
  };
}

/** The reply to `req` from `variant`, honouring preconditions (RFC 9110 §13) and ranges (§14). */
export function variantReply(req: WharfRequest, variant: Variant, maxRanges: number): Reply {
  const validators = { etag: variant.etag, lastModifiedMs: variant.lastModifiedMs };
  const precondition = evaluatePreconditions(req.method, (n) => req.header(n), validators);
  if (precondition.kind === "not-modified") return variant.notModified;
  if (precondition.kind === "precondition-failed") return errorReply(412);

  const { size } = variant;
  const rangeHeader = req.header("range");
  if (size === undefined || rangeHeader === undefined) return variant.ok;
  // RFC 9110 §14.2: Range is defined for GET; HEAD gets the same answer GET would.
  if (evaluateIfRange(req.header("if-range"), validators).kind === "send-full") return variant.ok;
  const range = evaluateRange(rangeHeader, size, { maxRanges });
  const base = variant.ok.headers;
  switch (range.kind) {
    case "full":
      return variant.ok;
    case "unsatisfiable": {
      const headers: Record<string, string> = { "content-range": formatUnsatisfiedRange(size), "accept-ranges": "bytes" };
      if (base["vary"] !== undefined) headers["vary"] = base["vary"];
      return errorReply(416, headers);
    }
    case "partial": {
      const [only] = range.ranges;
      if (range.ranges.length === 1 && only !== undefined) {
        const length = only.end - only.start;
        const headers = { ...base, "content-range": formatContentRange(only, size), "content-length": String(length) };
        return { status: 206, headers, body: chunksBody([variant.slice(only.start, only.end)], length) };
      }
      // RFC 9110 §14.6: several ranges travel as multipart/byteranges.
      const plan = planByteranges(range.ranges, size, variant.contentType, newBoundary());
      const chunks: Chunk[] = [];
      for (const part of plan.parts) chunks.push(part.head, variant.slice(part.range.start, part.range.end));
      chunks.push(plan.tail);
      const headers = { ...base, "content-type": plan.contentType, "content-length": String(plan.length) };
      return { status: 206, headers, body: chunksBody(chunks, plan.length) };
    }
  }
}
