/**
 * The reply to one request from a variant (variant.ts): preconditions (RFC 9110
 * §13), then ranges (§14). Every GET-able thing wharf serves goes through here,
 * so conditional and range requests behave the same everywhere.
 */

import { copyRecord } from "../core/copy.js";
import { chunksBody, errorReply } from "../core/reply.js";
import type { Chunk, Reply, WharfRequest } from "../core/types.js";
import { newBoundary, planByteranges } from "../http/multipart.js";
import { evaluateIfRange, evaluatePreconditions } from "../http/preconditions.js";
import { evaluateRange, formatContentRange, formatUnsatisfiedRange } from "../http/range.js";
import type { Variant } from "./variant.js";

/** The reply to `req` from `variant`, honouring preconditions (RFC 9110 §13) and ranges (§14). */
export function variantReply(req: WharfRequest, variant: Variant, maxRanges: number): Reply {
  const validators = { etag: variant.etag, lastModifiedMs: variant.lastModifiedMs, formerEtag: variant.formerEtag };
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
        const headers = copyRecord(base); // fields added: not a spread (core/copy.ts)
        headers["content-range"] = formatContentRange(only, size);
        headers["content-length"] = String(length);
        return { status: 206, headers, body: chunksBody([variant.slice(only.start, only.end)], length) };
      }
      // RFC 9110 §14.6: several ranges travel as multipart/byteranges.
      const plan = planByteranges(range.ranges, size, variant.contentType, newBoundary());
      const chunks: Chunk[] = [];
      for (const part of plan.parts) chunks.push(part.head, variant.slice(part.range.start, part.range.end));
      chunks.push(plan.tail);
      const headers = copyRecord(base);
      headers["content-type"] = plan.contentType;
      headers["content-length"] = String(plan.length);
      return { status: 206, headers, body: chunksBody(chunks, plan.length) };
    }
  }
}
