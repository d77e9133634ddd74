/**
 * Conditional requests (RFC 9110 §13): the four preconditions evaluated in the order
 * of §13.2.2, and If-Range (§13.1.5), as pure decisions over the request's headers and
 * the current representation's validators.
 *
 * Every check is phrased as "does the condition hold", exactly as the RFC words it, and
 * the outcome is a named decision. Deno's `ifNoneMatch()` returned `true` when the tag
 * did NOT match, an inverted boolean that is easy to misuse; a union cannot be inverted.
 */
import { parseHttpDate, toWholeSecond } from "./dates.js";
import type { EntityTag } from "./etag.js";
import { parseEntityTag, parseEntityTagList, strongMatch, trimOws, weakMatch } from "./etag.js";

/** What the server knows about the current representation of an existing resource. */
export interface Validators {
  /** The ETag that a 200 response would carry, if any. */
  readonly etag: EntityTag | undefined;
  /** The modification time (ms since the epoch) behind Last-Modified, if any. */
  readonly lastModifiedMs: number | undefined;
  /**
   * A strong tag the same bytes were sent with before, which still stands for
   * them: a large file's size-and-mtime tag, given until its content hash was
   * known. A download begun under it resumes (If-Range) and revalidates as the
   * same representation, as long as the file's size and mtime are unchanged
   * (RFC 9110 §8.8.3: how tags are compared is the origin's to define, as long as
   * a strong match means the same bytes).
   */
  readonly formerEtag?: EntityTag | undefined;
}

/** Whether `test` (strongly or weakly, by `match`) matches the current tag or the former one. */
function matchesCurrent(tag: EntityTag, v: Validators, match: (a: EntityTag, b: EntityTag) => boolean): boolean {
  return (v.etag !== undefined && match(tag, v.etag)) || (v.formerEtag !== undefined && match(tag, v.formerEtag));
}

/** What to do after evaluating the preconditions of §13.2.2 steps 1–4. */
export type PreconditionOutcome =
  /** Go on: evaluate Range (step 5) and send the representation. */
  | { readonly kind: "proceed" }
  /** 304 Not Modified (RFC 9110 §15.4.5). */
  | { readonly kind: "not-modified" }
  /** 412 Precondition Failed (RFC 9110 §15.5.13). */
  | { readonly kind: "precondition-failed" };

/** Whether a Range header is honoured, after If-Range (RFC 9110 §13.1.5). */
export type IfRangeOutcome =
  /** No If-Range, or it matched: evaluate Range. */
  | { readonly kind: "apply-range" }
  /** If-Range did not match (or could not be understood): ignore Range, send 200. */
  | { readonly kind: "send-full" };

const PROCEED: PreconditionOutcome = { kind: "proceed" };
const NOT_MODIFIED: PreconditionOutcome = { kind: "not-modified" };
const PRECONDITION_FAILED: PreconditionOutcome = { kind: "precondition-failed" };
const APPLY_RANGE: IfRangeOutcome = { kind: "apply-range" };
const SEND_FULL: IfRangeOutcome = { kind: "send-full" };

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since for a
 * request on an existing resource, following RFC 9110 §13.2.2 step by step.
 *
 * A list header (If-Match, If-None-Match) whose value is empty or only whitespace is
 * treated as absent, as Go's net/http does: an empty list is technically present, but
 * it is what broken proxies and clients send, and it should not turn a GET into a 412.
 *
 * @param method the request method, case-sensitive (RFC 9110 §9.1).
 * @param header a request header by lower-case name, `undefined` when absent.
 */
export function evaluatePreconditions(
  method: string,
  header: (lowerCaseName: string) => string | undefined,
  validators: Validators,
): PreconditionOutcome {
  const ifMatch = nonEmpty(header("if-match"));
  const ifNoneMatch = nonEmpty(header("if-none-match"));

  // Step 1: If-Match present -> evaluate it; false -> 412.
  // Step 2: only when If-Match is absent, If-Unmodified-Since; false -> 412.
  if (ifMatch !== undefined) {
    if (!ifMatchHolds(ifMatch, validators)) return PRECONDITION_FAILED;
  } else if (ifUnmodifiedSinceHolds(header("if-unmodified-since"), validators) === false) {
    return PRECONDITION_FAILED;
  }

  // Step 3: If-None-Match present -> evaluate it; false -> 304 for GET/HEAD, else 412.
  // Step 4: only for GET/HEAD and only when If-None-Match is absent, If-Modified-Since;
  // false -> 304. (If-None-Match takes precedence because entity tags are the more
  // accurate validator, §13.1.3.)
  const isGetOrHead = method === "GET" || method === "HEAD";
  if (ifNoneMatch !== undefined) {
    if (!ifNoneMatchHolds(ifNoneMatch, validators)) return isGetOrHead ? NOT_MODIFIED : PRECONDITION_FAILED;
  } else if (isGetOrHead && ifModifiedSinceHolds(header("if-modified-since"), validators) === false) {
    return NOT_MODIFIED;
  }

  // Step 5 (Range and If-Range) is the caller's, through evaluateIfRange and range.ts.
  return PROCEED;
}

/**
 * RFC 9110 §13.1.1: `*` holds when a current representation exists, which it always
 * does here; otherwise the condition holds if any listed tag matches the current ETag
 * by STRONG comparison (a weak ETag can never satisfy If-Match).
 */
function ifMatchHolds(value: string, v: Validators): boolean {
  const list = parseEntityTagList(value);
  if (list.kind === "any") return true;
  return v.etag !== undefined && list.tags.some((tag) => matchesCurrent(tag, v, strongMatch));
}

/**
 * RFC 9110 §13.1.2: `*` is false when a current representation exists (always, here);
 * otherwise false if any listed tag matches the current ETag by WEAK comparison.
 */
function ifNoneMatchHolds(value: string, v: Validators): boolean {
  const list = parseEntityTagList(value);
  if (list.kind === "any") return false;
  return v.etag === undefined || !list.tags.some((tag) => matchesCurrent(tag, v, weakMatch));
}

/**
 * RFC 9110 §13.1.4: holds when the representation was not modified after the date.
 * `undefined` ("ignore the field") when absent, not a valid HTTP-date, or when there is
 * no modification date to compare with.
 */
function ifUnmodifiedSinceHolds(value: string | undefined, v: Validators): boolean | undefined {
  const date = value === undefined ? undefined : parseHttpDate(value);
  if (date === undefined || v.lastModifiedMs === undefined) return undefined;
  return toWholeSecond(v.lastModifiedMs) <= date;
}

/**
 * RFC 9110 §13.1.3: holds when the representation was modified after the date.
 * `undefined` ("ignore the field") when absent, not a valid HTTP-date (which includes a
 * field sent twice and joined with a comma: "more than one member"), or when there is
 * no modification date. Last-Modified is compared at whole seconds, the resolution it
 * was sent with, or a file modified at 12:00:00.7 would never be 304 again.
 */
function ifModifiedSinceHolds(value: string | undefined, v: Validators): boolean | undefined {
  const date = value === undefined ? undefined : parseHttpDate(value);
  if (date === undefined || v.lastModifiedMs === undefined) return undefined;
  return toWholeSecond(v.lastModifiedMs) > date;
}

/**
 * Evaluates If-Range (RFC 9110 §13.1.5) against the current validators. Call it only
 * when the request is a GET with a Range header; otherwise If-Range is ignored.
 *
 * - absent: apply the range.
 * - an entity-tag: apply only if it strongly matches a strong current ETag. A weak tag
 *   never matches: a client must not send one, and a weak validator cannot promise the
 *   bytes are identical, which splicing ranges together needs.
 * - an HTTP-date: apply only if it exactly equals Last-Modified (at whole seconds).
 * - anything else, including an empty value: send the whole representation, which is
 *   always a correct answer.
 */
export function evaluateIfRange(ifRange: string | undefined, validators: Validators): IfRangeOutcome {
  if (ifRange === undefined) return APPLY_RANGE;
  const value = trimOws(ifRange);
  // An entity-tag starts with DQUOTE or W/; an HTTP-date starts with a day name.
  if (value.startsWith('"') || value.startsWith("W/")) {
    const tag = parseEntityTag(value);
    return tag !== undefined && matchesCurrent(tag, validators, strongMatch) ? APPLY_RANGE : SEND_FULL;
  }
  const date = parseHttpDate(value);
  const last = validators.lastModifiedMs;
  return date !== undefined && last !== undefined && toWholeSecond(last) === date ? APPLY_RANGE : SEND_FULL;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || trimOws(value) === "" ? undefined : value;
}
