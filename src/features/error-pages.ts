/**
 * A custom 404 page (`--404 FILE`; the command line uses `404.html` at the root
 * when there is one, like serve, http-server, GitHub Pages and Netlify): where the
 * static handler found nothing for a GET or HEAD, the page is sent with status 404.
 *
 * - The page is fetched through the rest of the chain like any file (so its
 *   compression and custom headers apply), without the client's `Range` and
 *   conditional headers, which were about another URL.
 * - It keeps its `Cache-Control` (wharf's `no-cache` by default, so a file added
 *   later shows at once) and loses what would make a cache or a client treat it
 *   as the resource: `ETag`, `Last-Modified`, `Accept-Ranges`.
 * - It is still a miss: mounted as Express middleware, the request still falls
 *   through to the next route.
 * - Replies that are not the static handler's misses — a custom route's own 404
 *   JSON, say — are left alone.
 */
import { withHeaders, withPath } from "../core/request.js";
import type { Trace } from "../core/trace.js";
import type { Middleware, Reply } from "../core/types.js";
import { rootFile } from "./patterns.js";

/** Options of {@link errorPages}. */
export interface ErrorPageOptions {
  /** The page for 404, relative to the root. */
  readonly notFound: string;
}

/** Request headers that would turn the page into a 304, 206 or 412 meant for another URL. */
const NOT_FOR_THE_PAGE = {
  range: undefined,
  "if-range": undefined,
  "if-match": undefined,
  "if-none-match": undefined,
  "if-modified-since": undefined,
  "if-unmodified-since": undefined,
} as const;

/** Response fields that describe the page as a resource of its own. */
const RESOURCE_FIELDS = ["etag", "last-modified", "accept-ranges", "content-location"];

/** The page's reply turned into the 404 for the URL asked for. */
export function asErrorPage(page: Reply, status: number): Reply {
  const headers = { ...page.headers };
  for (const name of RESOURCE_FIELDS) delete headers[name];
  return { status, headers, body: page.body, miss: true };
}

/**
 * The 404 page as middleware.
 *
 * @example
 * ```ts
 * createHandler({ root: "site", notFound: "404.html" });
 * ```
 */
export function errorPages(options: ErrorPageOptions, trace?: Trace): Middleware {
  const page = rootFile("notFound", options.notFound);
  return async (req, next) => {
    const reply = await next();
    if (reply.status !== 404 || reply.miss !== true || (req.method !== "GET" && req.method !== "HEAD")) return reply;
    trace?.step("404 page", `fetching ${page}`);
    const custom = await next(withHeaders(withPath(req, page), NOT_FOR_THE_PAGE));
    trace?.step("404 page", custom.status === 200 ? `${page} sent with status 404` : `${page} answered ${custom.status}: the plain 404`);
    return custom.status === 200 ? asErrorPage(custom, 404) : reply;
  };
}
