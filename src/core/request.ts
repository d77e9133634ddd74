/**
 * Views of a {@link WharfRequest} with one thing changed, for middleware that asks
 * the rest of the chain about another path (SPA fallback, clean URLs, rewrites,
 * error pages). Requests are never mutated: the original is still what the access
 * log and the outer middleware see.
 */
import type { WharfRequest } from "./types.js";

/**
 * The same request for another path: `pathname` must be percent-encoded and start
 * with `/` (as {@link WharfRequest.pathname} is); the query is kept. The static
 * handler resolves it with its usual rules (decoding, traversal, dotfiles), so a
 * rewrite can never reach what a request could not.
 *
 * @example
 * ```ts
 * const spa: Middleware = async (req, next) => {
 *   const reply = await next();
 *   return reply.status === 404 ? next(withPath(req, "/index.html")) : reply;
 * };
 * ```
 */
export function withPath(req: WharfRequest, pathname: string): WharfRequest {
  return withPathAndBase(req, pathname, req.base);
}

/**
 * {@link withPath} with {@link WharfRequest.base} set as well (internal: the secret
 * path takes its prefix off the path and puts it in `base`), in one view.
 */
export function withPathAndBase(req: WharfRequest, pathname: string, base: string | undefined): WharfRequest {
  if (!pathname.startsWith("/")) throw new TypeError(`wharf: withPath needs a path starting with "/", got ${JSON.stringify(pathname)}`);
  return {
    method: req.method,
    target: pathname + req.search,
    pathname,
    search: req.search,
    header: (name) => req.header(name),
    remoteAddress: req.remoteAddress,
    clientAddress: req.clientAddress,
    base,
    ...(req.body === undefined ? {} : { body: () => req.body!() }),
  };
}

/**
 * The same request with some headers replaced (a string) or removed (`undefined`);
 * names are lower-case. An error page, for one, is fetched without the client's
 * `Range` and conditional headers, which were meant for another resource.
 */
export function withHeaders(req: WharfRequest, headers: Readonly<Record<string, string | undefined>>): WharfRequest {
  return {
    method: req.method,
    target: req.target,
    pathname: req.pathname,
    search: req.search,
    header: (name) => (Object.hasOwn(headers, name) ? headers[name] : req.header(name)),
    remoteAddress: req.remoteAddress,
    clientAddress: req.clientAddress,
    base: req.base,
    ...(req.body === undefined ? {} : { body: () => req.body!() }),
  };
}

/**
 * The address of the client that sent `req`: the one a trusted proxy forwarded
 * (the handler's `trustProxy`), else the peer's; `undefined` when the transport
 * does not know it (a Fetch `Request`).
 *
 * @example
 * ```ts
 * const onlyHere: Middleware = (req, next) =>
 *   clientAddress(req) === "127.0.0.1" ? next() : errorReply(403);
 * ```
 */
export function clientAddress(req: WharfRequest): string | undefined {
  return req.clientAddress ?? req.remoteAddress;
}

/**
 * Adds field names to a `Vary` value (RFC 9110 §12.5.5), once each, ignoring case;
 * `*` already varies on everything.
 */
export function addVary(current: string | undefined, ...names: readonly string[]): string {
  if (current === undefined || current.trim() === "") return names.join(", ");
  if (current.trim() === "*") return "*";
  const have = new Set(current.split(",").map((n) => n.trim().toLowerCase()));
  const added = names.filter((n) => !have.has(n.toLowerCase()));
  return added.length === 0 ? current : `${current}, ${added.join(", ")}`;
}
