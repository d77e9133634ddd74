/**
 * Small constructors for {@link Reply} values, used by the responders and offered to
 * custom middleware so that a route can answer in one line; and the error pages:
 * small, escaped, and free of file-system paths or stack traces.
 */
import { copyRecord, copyWith } from "./copy.js";
import { reasonPhrase } from "./status.js";
import { escapeHtml, utf8Bytes } from "./text.js";
import { LINK_CSS, styleHashSource, THEME_CSS } from "./theme.js";
import type { Body, Chunk, Reply } from "./types.js";

/** The empty body (HEAD, 204, 304, bodiless redirects). */
export const EMPTY: Body = { kind: "empty" };

/** A body made of the given chunks; `length` must be their exact total. */
export function chunksBody(chunks: readonly Chunk[], length: number): Body {
  return { kind: "chunks", chunks, length };
}

/** A reply whose body is `content` (a string is sent as UTF-8). */
export function bytesReply(status: number, content: string | Uint8Array, contentType: string, headers: Record<string, string> = {}): Reply {
  const bytes = typeof content === "string" ? utf8Bytes(content) : content;
  const all = copyRecord(headers); // not a spread and two more fields: copy.ts
  all["content-type"] = contentType;
  all["content-length"] = String(bytes.length);
  return {
    status,
    headers: all,
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

const DETAILS: Readonly<Record<number, string>> = {
  400: "The request could not be understood.",
  401: "Sign in to see this.",
  403: "You do not have permission to see this.",
  404: "Nothing was found at this address.",
  405: "This method is not allowed here.",
  412: "A precondition of the request did not hold.",
  416: "The requested range is outside the file.",
  500: "The server met an unexpected error.",
  502: "The server got a bad answer from another server.",
  503: "The server is busy; try again shortly.",
  504: "Another server did not answer in time.",
};

// The listing's look (theme.ts), allowed by its hash alone: the page runs no
// script and loads nothing, and says so, so even an escaping bug here could not
// run code or pull anything in on the server's origin.
const STYLE = `${THEME_CSS}\np{color:var(--muted)}\nnav{margin-top:1.5rem}\n${LINK_CSS}`;
const HEAD =
  `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
  `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${styleHashSource(STYLE)}">\n` +
  `<meta name="viewport" content="width=device-width, initial-scale=1">\n`;
// Links relative to the request, never to a path we know: `./` is the folder the
// missing thing was asked for in (under any mount point or proxy prefix), `/` the
// top of the site. The page names no path at all, so it cannot leak the root.
const NAV = `<nav><a href="./">Up to the folder</a> · <a href="/">Back to the top</a></nav>`;

/**
 * A small HTML error page (under 2 KB) in the listing's look, light and dark.
 * `detail` is escaped; it must never carry a file-system path.
 */
export function errorReply(status: number, headers: Record<string, string> = {}, detail?: string): Reply {
  return html(status, errorPage(status, `<p>${escapeHtml(detail ?? DETAILS[status] ?? "")}</p>\n`), {
    ...headers,
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
  });
}

/**
 * The error page around `inner`, HTML the caller has escaped (paragraphs, each
 * ending in a newline): the same look, policy and links as {@link errorReply}'s.
 */
export function errorPage(status: number, inner: string): string {
  const title = escapeHtml(`${status} ${reasonPhrase(status) ?? "Error"}`);
  return `${HEAD}<title>${title}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<h1>${title}</h1>\n${inner}${NAV}\n</body>\n</html>\n`;
}

/** A reply that means "nothing here for this request": middleware may fall through. */
export function missReply(status: 404 | 405, headers: Record<string, string> = {}): Reply {
  return copyWith(errorReply(status, headers), "miss", true);
}

const FLAT = Symbol("wharf.flatHeaders");
interface Flattened {
  readonly [FLAT]?: readonly string[];
}

/**
 * Marks `reply` as built once and sent many times (a cached file's 200 and 304,
 * the shared 404) and returns it: it also keeps its headers as the flat list of
 * names and values that Node's `writeHead` walks with an index loop, where an
 * object costs it a `for...in`, an own-property check and a keyed load per field
 * (about 7 % of a cached 1 KiB file's rate under `wrk -c50`, issue 17). Not
 * enumerable, so a copy (`{ ...reply, headers }`) never carries it: the list
 * always describes the headers it was made from, which nobody changes (replies
 * are read-only).
 */
export function sharedReply<R extends Reply>(reply: R): R {
  return Object.defineProperty(reply, FLAT, { value: Object.entries(reply.headers).flat() });
}

/** The flat header list {@link sharedReply} made for `reply`, if it did. */
export function flatHeaders(reply: Reply): readonly string[] | undefined {
  return (reply as Flattened)[FLAT];
}

/** The shared 404 miss (replies are read-only: whoever wants another makes a new one). */
export const MISS_404 = sharedReply(missReply(404));

/** A reply, or a promise of one, as `next()` returns it. */
type ReplyOrPromise = Reply | Promise<Reply>;
/** The shape a helper returns for `R`: a reply for a reply, a promise for a promise. */
export type SameShape<R extends ReplyOrPromise> = R extends Promise<Reply> ? Promise<Reply> : Reply;

/**
 * `change(reply)`, in the same shape as `reply`: a reply at once, or a promise. A
 * middleware that maps `next()` this way keeps a cached reply in the same tick
 * (no promise, so the adapter writes it at once; see compose.ts).
 */
export function mapReply<R extends ReplyOrPromise>(reply: R, change: (reply: Reply) => Reply): SameShape<R> {
  return (reply instanceof Promise ? reply.then(change) : change(reply as Reply)) as SameShape<R>;
}

/**
 * Headers to set (a string) or remove (`null`) in a new reply; names are matched
 * lower-case, as a {@link Reply} holds them. The reply given is never changed:
 * replies are shared (the static handler returns one object to every request for
 * a file), so this is the way to change one.
 */
function changed(reply: Reply, headers: Readonly<Record<string, string | null>>): Reply {
  const out = copyRecord(reply.headers);
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) delete out[name.toLowerCase()];
    else out[name.toLowerCase()] = value;
  }
  return { ...reply, headers: out };
}

/**
 * A copy of `reply` with header `name` set to `value`, or removed when `value` is
 * `null`. Takes what `next()` returns, a reply or a promise, and returns the same:
 *
 * @example
 * ```ts
 * createHandler({ root: "public", use: [(req, next) => withHeader(next(), "x-frame-options", "DENY")] });
 * ```
 */
export function withHeader<R extends ReplyOrPromise>(reply: R, name: string, value: string | null): SameShape<R> {
  const key = name.toLowerCase();
  // One header set: a copy and a store, no loop (this is on the hot path of such
  // middleware; copy.ts says why not a spread). The copy has no flat header list:
  // attaching one (a sliced list and a defined property per request) measured
  // slower than Node walking the object (docs/benchmarks.md).
  if (value !== null) return mapReply(reply, (r) => ({ ...r, headers: copyWith(r.headers, key, value) }));
  return mapReply(reply, (r) => changed(r, { [key]: null }));
}

/** A copy of `reply` with several headers set (a string) or removed (`null`); see {@link withHeader}. */
export function withReplyHeaders<R extends ReplyOrPromise>(reply: R, headers: Readonly<Record<string, string | null>>): SameShape<R> {
  return mapReply(reply, (r) => changed(r, headers));
}

/** A copy of `reply` with another status (headers and body kept); see {@link withHeader}. */
export function withStatus<R extends ReplyOrPromise>(reply: R, status: number): SameShape<R> {
  return mapReply(reply, (r) => ({ ...r, status }));
}
