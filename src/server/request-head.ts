/**
 * Checks on an HTTP/1.x request head that Node's parser lets through, or only
 * refuses after the request has already been handed to the handler: the version,
 * `Host`, `Transfer-Encoding`, and how much body there is to read first.
 *
 * Why here and not in the handler: the handler can answer a cached file in the
 * same tick the head arrives, before the parser has read the body. A body or
 * framing error found after that (`Transfer-Encoding: xchunked`, a bad chunk size,
 * a NUL in a trailer) could then no longer be answered 400: the hot path said 200
 * where the cold path, still waiting on the disk, said 400. serve() decides
 * everything framing-related from the head, and answers a request with a body only
 * once the body has been read (and discarded), so both paths give one answer.
 * These rules belong to whoever owns the connection: serve() applies them; a
 * library user's own server (Express, node:http) keeps its own.
 */

/** What {@link checkRequestHead} looks at: a Node `IncomingMessage` fits. */
export interface RequestHead {
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** Field names and values, alternating, as received. */
  readonly rawHeaders: readonly string[];
  readonly headers: { readonly "transfer-encoding"?: string | undefined; readonly "content-length"?: string | undefined };
}

/** Where the request's body ends, when it is acceptable. */
export type BodyFraming = "none" | "chunked" | "length";

/** The decision: go on (after reading the body, if any), or refuse and close. */
export type HeadVerdict =
  | { readonly kind: "accept"; readonly body: BodyFraming }
  | { readonly kind: "refuse"; readonly status: 400 | 413 | 501 | 505; readonly reason: string };

/**
 * The most request-body bytes serve() reads and discards before answering. A static
 * server has no use for a body (POST and PUT get 405), but must read one to find
 * where the next request starts and whether the framing holds. Past this, 413 and
 * the connection is closed, like nginx's `client_max_body_size` (also 1 MiB).
 */
export const MAX_DISCARDED_BODY = 1024 * 1024;

const NO_BODY: HeadVerdict = { kind: "accept", body: "none" };
const CHUNKED: HeadVerdict = { kind: "accept", body: "chunked" };
const LENGTH: HeadVerdict = { kind: "accept", body: "length" };
const refuse = (status: 400 | 413 | 501 | 505, reason: string): HeadVerdict => ({ kind: "refuse", status, reason });

/**
 * Transfer codings this server can frame a body through (RFC 9112 §7, and the
 * `x-` aliases of §7.2). Only `chunked` decides framing; the others would merely
 * be decoded, and a discarded body need not be.
 */
const KNOWN_CODINGS = new Set(["chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress"]);

/**
 * Decides on an HTTP/1.x request head, in the order the RFC reads a message:
 * 1. the version: `HTTP/2.0` (or any major other than 1) in an HTTP/1.x request
 *    line is 505 (RFC 9110 §15.6.6); no version at all (Node reports 0.9) is 400:
 *    HTTP/0.9 has no headers, so this is a malformed HTTP/1.x request line.
 * 2. `Host`: more than one `Host` line, or none in HTTP/1.1, is 400 (RFC 9112 §3.2).
 * 3. `Transfer-Encoding` (RFC 9112 §6.1, §6.3): in HTTP/1.0 the framing is faulty;
 *    `chunked` must be the final coding and appear once; otherwise 400. A coding
 *    not understood is 501. (Node refuses `Transfer-Encoding` with
 *    `Content-Length`, and bad `Content-Length` values, before this is reached.)
 * 4. the body: chunked, a `Content-Length` above zero (above
 *    {@link MAX_DISCARDED_BODY}: 413), or none.
 */
export function checkRequestHead(head: RequestHead, maxBody = MAX_DISCARDED_BODY): HeadVerdict {
  if (head.httpVersionMajor !== 1) {
    return head.httpVersionMajor === 0
      ? refuse(400, "no HTTP version")
      : refuse(505, `HTTP/${head.httpVersionMajor}.${head.httpVersionMinor}`);
  }
  const raw = head.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === "host") hosts++;
  }
  if (hosts > 1) return refuse(400, "more than one Host");
  if (hosts === 0 && head.httpVersionMinor >= 1) return refuse(400, "no Host");

  const te = head.headers["transfer-encoding"];
  if (te !== undefined) {
    if (head.httpVersionMinor === 0) return refuse(400, "Transfer-Encoding in HTTP/1.0");
    return transferCodings(te);
  }
  const length = head.headers["content-length"];
  if (length === undefined || length === "0") return NO_BODY;
  // Node has checked it is digits (one value, or equal duplicates joined by ", ").
  const n = Number.parseInt(length, 10);
  if (!(n >= 0)) return refuse(400, "bad Content-Length");
  if (n > maxBody) return refuse(413, `Content-Length ${n} over ${maxBody}`);
  return n === 0 ? NO_BODY : LENGTH;
}

/** RFC 9112 §6.1 on a `Transfer-Encoding` value (all its lines, joined with commas). */
function transferCodings(value: string): HeadVerdict {
  let last: string | undefined;
  let chunked = 0;
  let unknown: string | undefined;
  // transfer-coding = token *( OWS ";" OWS transfer-parameter ); empty list elements are allowed (§5.6.1).
  for (const element of value.split(",")) {
    const semicolon = element.indexOf(";");
    const coding = (semicolon < 0 ? element : element.slice(0, semicolon)).trim().toLowerCase();
    if (coding === "") continue;
    if (coding === "chunked") chunked++;
    else if (!KNOWN_CODINGS.has(coding)) unknown ??= coding;
    last = coding;
  }
  // §6.3 item 4: chunked not last means the body length cannot be determined.
  if (last !== "chunked") return refuse(400, "chunked is not the final transfer coding");
  // §6.1: a sender MUST NOT apply chunked more than once.
  if (chunked > 1) return refuse(400, "chunked applied more than once");
  // §6.1: a transfer coding the server does not understand SHOULD be answered 501.
  if (unknown !== undefined) return refuse(501, `transfer coding ${unknown}`);
  return CHUNKED;
}
