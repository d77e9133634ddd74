/**
 * The layout of a `multipart/byteranges` body (RFC 9110 §14.6, §15.3.7.2), planned
 * before any byte is read so that Content-Length is known up front and the body can
 * be streamed as: head, file slice, head, file slice, ..., tail.
 */
import { randomBytes } from "node:crypto";
import type { ByteRange } from "./range.js";
import { formatContentRange } from "./range.js";

/** One part of the body: its header block, then the bytes of `range`. */
export interface MultipartPart {
  readonly head: Uint8Array;
  readonly range: ByteRange;
}

/** Everything needed to send a multipart/byteranges 206. */
export interface MultipartPlan {
  /** The response's Content-Type: `multipart/byteranges; boundary=...`. */
  readonly contentType: string;
  readonly parts: readonly MultipartPart[];
  /** The close-delimiter, sent after the last part. */
  readonly tail: Uint8Array;
  /** Exact body length in bytes: every head, every range, and the tail. */
  readonly length: number;
}

/**
 * A boundary is a token (so it needs no quotes in Content-Type) made only of characters
 * RFC 2046 §5.1.1 allows, 1 to 70 of them.
 */
const BOUNDARY = /^[0-9A-Za-z'+_.-]{1,70}$/;

const encoder = new TextEncoder();

/**
 * Plans the body of a 206 with several ranges:
 *
 * ```
 * --BOUNDARY CRLF
 * Content-Type: T CRLF
 * Content-Range: bytes a-b/size CRLF
 * CRLF
 * <bytes a..b> CRLF
 * --BOUNDARY CRLF ...
 * <bytes> CRLF
 * --BOUNDARY-- CRLF
 * ```
 *
 * The CRLF before each delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it is
 * the start of every head but the first, and of the tail. Each part carries the
 * Content-Type a 200 would have had (§15.3.7.2 SHOULD); pass `""` when there is none and
 * the line is left out. Callers send a plain single-part 206 for a single range: a
 * multipart answer to a single-range request is forbidden (§15.3.7.2).
 *
 * @param boundary e.g. from {@link newBoundary}.
 * @throws RangeError for a boundary that is not 1–70 token characters, or no ranges.
 */
export function planByteranges(ranges: readonly ByteRange[], size: number, partContentType: string, boundary: string): MultipartPlan {
  if (!BOUNDARY.test(boundary)) throw new RangeError(`planByteranges: invalid boundary ${JSON.stringify(boundary)}`);
  if (ranges.length === 0) throw new RangeError("planByteranges: no ranges");
  const typeLine = partContentType === "" ? "" : `Content-Type: ${partContentType}\r\n`;
  let length = 0;
  const parts = ranges.map((range, i): MultipartPart => {
    const head = encoder.encode(
      `${i === 0 ? "" : "\r\n"}--${boundary}\r\n${typeLine}Content-Range: ${formatContentRange(range, size)}\r\n\r\n`,
    );
    length += head.byteLength + (range.end - range.start);
    return { head, range };
  });
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  length += tail.byteLength;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, parts, tail, length };
}

/**
 * A fresh random boundary: 32 hex characters (128 bits), so it cannot plausibly occur
 * in the file's bytes, which RFC 2046 §5.1.1 requires of a delimiter.
 */
export function newBoundary(): string {
  return randomBytes(16).toString("hex");
}
