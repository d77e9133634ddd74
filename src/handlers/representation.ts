/**
 * Turns one selected representation (a file, or bytes such as a rendered listing)
 * into a reply: validators, preconditions, ranges. Every GET-able thing wharf serves
 * goes through here, so conditional and range requests behave the same everywhere.
 */
import { EMPTY, chunksBody } from "../core/reply.js";
import type { Chunk, Reply, WharfRequest } from "../core/types.js";
import { formatHttpDate } from "../http/dates.js";
import { type EntityTag, formatEntityTag } from "../http/etag.js";
import { planByteranges, newBoundary } from "../http/multipart.js";
import { evaluateIfRange, evaluatePreconditions } from "../http/preconditions.js";
import { evaluateRange, formatContentRange, formatUnsatisfiedRange } from "../http/range.js";
import { errorReply } from "./errors.js";

/** What the reply logic needs to know about the bytes it may send. */
export interface Representation {
  readonly size: number;
  readonly contentType: string;
  readonly etag: EntityTag;
  /** Absent for generated content with no meaningful modification time. */
  readonly lastModifiedMs: number | undefined;
  readonly cacheControl: string;
  /** Bytes `[start, end)` as a body chunk. */
  slice(start: number, end: number): Chunk;
}

/** Builds the reply for `rep`, honouring preconditions (RFC 9110 §13) and ranges (§14). */
export function representationReply(req: WharfRequest, rep: Representation, maxRanges: number): Reply {
  const validators = { etag: rep.etag, lastModifiedMs: rep.lastModifiedMs };
  const etag = formatEntityTag(rep.etag);
  const headers: Record<string, string> = { etag, "cache-control": rep.cacheControl };

  const precondition = evaluatePreconditions(req.method, (n) => req.header(n), validators);
  if (precondition.kind === "not-modified") {
    // RFC 9110 §15.4.5: a 304 repeats the fields a 200 would carry for caches
    // (ETag, Cache-Control, Date — Node adds Date) and nothing else.
    return { status: 304, headers, body: EMPTY };
  }
  if (precondition.kind === "precondition-failed") return errorReply(412);

  // RFC 9110 §8.8.2.1: a Last-Modified later than the response's Date (a clock
  // skew, a file touched into the future) is replaced by the Date.
  if (rep.lastModifiedMs !== undefined) headers["last-modified"] = formatHttpDate(Math.min(rep.lastModifiedMs, Date.now()));
  headers["accept-ranges"] = "bytes";
  headers["x-content-type-options"] = "nosniff";

  // RFC 9110 §14.2: Range is defined for GET; HEAD gets the same answer GET would.
  const rangeHeader = req.header("range");
  const ifRange = rangeHeader === undefined ? { kind: "apply-range" as const } : evaluateIfRange(req.header("if-range"), validators);
  const range = ifRange.kind === "apply-range" ? evaluateRange(rangeHeader, rep.size, { maxRanges }) : { kind: "full" as const };

  switch (range.kind) {
    case "full":
      headers["content-type"] = rep.contentType;
      headers["content-length"] = String(rep.size);
      return { status: 200, headers, body: rep.size === 0 ? EMPTY : chunksBody([rep.slice(0, rep.size)], rep.size) };
    case "unsatisfiable":
      return errorReply(416, { "content-range": formatUnsatisfiedRange(rep.size), "accept-ranges": "bytes" });
    case "partial": {
      const [only] = range.ranges;
      if (range.ranges.length === 1 && only !== undefined) {
        const length = only.end - only.start;
        headers["content-type"] = rep.contentType;
        headers["content-range"] = formatContentRange(only, rep.size);
        headers["content-length"] = String(length);
        return { status: 206, headers, body: chunksBody([rep.slice(only.start, only.end)], length) };
      }
      // RFC 9110 §14.6: several ranges travel as multipart/byteranges.
      const plan = planByteranges(range.ranges, rep.size, rep.contentType, newBoundary());
      const chunks: Chunk[] = [];
      for (const part of plan.parts) chunks.push(part.head, rep.slice(part.range.start, part.range.end));
      chunks.push(plan.tail);
      headers["content-type"] = plan.contentType;
      headers["content-length"] = String(plan.length);
      return { status: 206, headers, body: chunksBody(chunks, plan.length) };
    }
  }
}
