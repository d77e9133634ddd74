/**
 * The currency every layer above the pure HTTP rules trades in: a runtime-neutral
 * request, a reply that describes (not performs) what to send, and the middleware
 * signature used to compose custom handlers around the static one.
 *
 * Adapters (src/adapters) turn a Node `IncomingMessage` or a web `Request` into a
 * {@link WharfRequest}, run the chain, and write the {@link Reply} out.
 */

/** A request as the handlers see it, independent of Node or the Fetch API. */
export interface WharfRequest {
  /** The request method, upper-case as received (`GET`, `HEAD`, ...). */
  readonly method: string;
  /**
   * The request-target exactly as received, still percent-encoded: origin-form
   * (`/a%20b?x=1`), or `*` for `OPTIONS *`. Absolute-form targets are reduced to
   * their path and query by the adapter.
   */
  readonly target: string;
  /** The path part of {@link target}, still percent-encoded. */
  readonly pathname: string;
  /** The query part of {@link target} including the leading `?`, or `""`. */
  readonly search: string;
  /**
   * A request header by lower-case name; repeated fields are joined with `", "`
   * (RFC 9110 §5.3). `undefined` when absent.
   */
  header(name: string): string | undefined;
  /** The peer's address, when the transport knows it. */
  readonly remoteAddress: string | undefined;
  /**
   * The client's address when the handler's `trustProxy` names the peer as a
   * trusted proxy: the address that proxy forwarded (src/http/forwarded.ts).
   * Absent means the peer is the client; read it with `clientAddress(req)`,
   * which falls back to {@link remoteAddress}.
   */
  readonly clientAddress?: string | undefined;
  /**
   * The path prefix the request came in under that {@link pathname} no longer
   * has: a secret path (src/features/secret-path.ts), an Express or Connect mount
   * point. A URL a reply puts in its body starts with it; a `Location` is given
   * it on the way out. Absent (or `""`) when nothing was taken off.
   */
  readonly base?: string | undefined;
  /**
   * The request body, read once, as it arrives (a web `Request`'s stream; a
   * Node request's, when the handler takes uploads). Only uploads
   * (src/features/upload) read it; everything else answers from the head.
   * Absent where the adapter gives no body.
   */
  body?(): AsyncIterable<Uint8Array>;
}

/** A slice of a file on the handler's file system (src/fs/types.ts `FileSystem`), read at send time. */
export interface FileSlice {
  readonly kind: "file";
  /** Absolute path on the file system that produced the reply. */
  readonly path: string;
  /** First byte offset, inclusive. */
  readonly start: number;
  /** Last byte offset, exclusive. */
  readonly end: number;
  /**
   * What the file looked like when the headers were decided. The adapter opens the
   * file, checks this identity on the open descriptor, and re-runs the request once
   * if the file was replaced in between, so headers and bytes always agree.
   */
  readonly identity: FileIdentity;
}

/** Enough of a file's metadata to notice that it changed. */
export interface FileIdentity {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** One piece of a body: bytes held in memory, or a slice of a file. */
export type Chunk = Uint8Array | FileSlice;

/** What a reply sends after its headers. */
export type Body =
  /** No body at all: HEAD, 204, 304, or a redirect with no content. */
  | { readonly kind: "empty" }
  /** The concatenation of `chunks`, exactly `length` bytes. */
  | { readonly kind: "chunks"; readonly chunks: readonly Chunk[]; readonly length: number }
  /**
   * A file compressed while it is sent (too large to keep compressed in memory):
   * its length is not known in advance, so it goes without Content-Length.
   */
  | { readonly kind: "encoded"; readonly encoding: "br" | "zstd" | "gzip"; readonly source: FileSlice }
  /**
   * Bytes made while they are sent (an archive of a directory): length unknown,
   * so no Content-Length. `open` is called once, only when the body is sent (never
   * for HEAD); the iterable releases what it holds when it ends, throws or is
   * returned early. A throw cuts the connection: a body that ended early must
   * not look complete.
   */
  | { readonly kind: "stream"; open(): AsyncIterable<Uint8Array> };

/**
 * A decided response. Header names are lower-case; values are final strings.
 * `content-length` is set by whoever builds the reply whenever the length is known.
 * Handlers always describe the GET response: for HEAD the adapter sends the same
 * status and headers and no body (RFC 9110 §9.3.2), so the two can never differ.
 *
 * Read-only, because replies are shared: the static handler builds a file's 200
 * and 304 once and returns the same object to every request. A middleware that
 * wants another header or status makes a new reply (`withHeader`, `withHeaders`,
 * `withStatus` in reply.ts), so nothing is copied unless something changes.
 */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Body;
  /**
   * Set by the static handler on a reply that means "nothing here for this request"
   * (404, 405). Mounted as Connect/Express middleware with `fallthrough`, such a reply
   * is not sent: `next()` is called instead.
   */
  readonly miss?: true;
  /**
   * The user this request was authenticated as, set by the middleware that
   * authenticated it (`basicAuth`, src/features/auth.ts, does on every reply it
   * lets through). The access log of `serve()` shows it; a name a client
   * merely sent in `Authorization` is never logged.
   */
  readonly user?: string;
}

/**
 * Calls the rest of the chain and returns its reply. Given a request (a view made
 * with {@link import("./request.js").withPath} or `withHeaders`), the rest of the
 * chain answers that one instead: how a rewrite or a fallback asks the static
 * handler for another path. `next()` without a request may be called once; calls
 * that name a request may be repeated (try a path, then another).
 *
 * The reply comes back as it was made: a {@link Reply} when the rest of the chain
 * answered in the same tick (a cached file), a promise otherwise. `await next()`
 * takes both; a middleware that returns `next()` as it came, or maps it with
 * `withHeader(next(), ...)`, keeps a cached file's reply in the same tick.
 */
export type Next = (req?: WharfRequest) => Reply | Promise<Reply>;

/**
 * A handler in the chain: answer the request itself, or call `next()` and return,
 * change or replace what the rest of the chain answered. The static file handler is
 * one of these; custom routes, headers and error pages are others.
 */
export type Middleware = (req: WharfRequest, next: Next) => Reply | Promise<Reply>;
