/**
 * Small constructors for {@link Reply} values, used by the handlers and offered to
 * custom middleware so that a route can answer in one line.
 */
import type { Body, Chunk, Reply } from "./types.js";

const encoder = new TextEncoder();

/** The empty body (HEAD, 204, 304, bodiless redirects). */
export const EMPTY: Body = { kind: "empty" };

/** A body made of the given chunks; `length` must be their exact total. */
export function chunksBody(chunks: readonly Chunk[], length: number): Body {
  return { kind: "chunks", chunks, length };
}

/** A reply whose body is `content` (a string is sent as UTF-8). */
export function bytesReply(
  status: number,
  content: string | Uint8Array,
  contentType: string,
  headers: Record<string, string> = {},
): Reply {
  const bytes = typeof content === "string" ? encoder.encode(content) : content;
  return {
    status,
    headers: { ...headers, "content-type": contentType, "content-length": String(bytes.length) },
    body: bytes.length === 0 ? EMPTY : chunksBody([bytes], bytes.length),
  };
}

/** `text/plain; charset=utf-8`. */
export function text(status: number, content: string, headers?: Record<string, string>): Reply {
  return bytesReply(status, content, "text/plain; charset=utf-8", headers);
}

/** `text/html; charset=utf-8`. */
export function html(status: number, content: string, headers?: Record<string, string>): Reply {
  return bytesReply(status, content, "text/html; charset=utf-8", headers);
}

/** `application/json; charset=utf-8`, from any JSON-serialisable value. */
export function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return bytesReply(status, JSON.stringify(value), "application/json; charset=utf-8", headers);
}

/** A reply with no body. */
export function empty(status: number, headers: Record<string, string> = {}): Reply {
  return { status, headers: { ...headers }, body: EMPTY };
}
