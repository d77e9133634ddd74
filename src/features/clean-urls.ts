/**
 * Clean URLs (`--clean-urls`, serve.json's `cleanUrls`): `/about` serves
 * `about.html`, and `/about.html` redirects (301) to `/about`, keeping the query
 * string (serve drops it: serve-handler #178). `/docs/index.html` redirects to
 * `/docs/` and `/index.html` to `/`.
 *
 * A file or directory that exists wins: `/about` is `about.html` only when there
 * is no `about` (file or directory). Like serve, the option may be a list of
 * globs: then only matching paths are cleaned.
 */
import { withPath } from "../core/request.js";
import type { Finish, Trace } from "../core/trace.js";
import type { Middleware, Next, Reply, WharfRequest } from "../core/types.js";
import { encodePathname } from "../path/resolve.js";
import { compileGlob, found, type MatchPath, matchPath } from "./patterns.js";
import type { PathShape } from "./trailing-slash.js";

/** `true` for every path, or globs (serve.json style) naming where clean URLs apply. */
export type CleanUrls = boolean | readonly string[];

/** Compiles {@link CleanUrls} into a test on decoded paths. */
export function cleanUrlScope(option: CleanUrls): (path: string) => boolean {
  if (option === true) return () => true;
  if (option === false) return () => false;
  const matchers = option.map(compileGlob);
  return (path) => matchers.some((m) => m(path) !== undefined);
}

const HTML = ".html";

/**
 * Where a `.html` address should go: `/a/b.html` → `/a/b`, `/a/index.html` →
 * `/a/`; the same shape when nothing is to be stripped.
 */
export function cleanUrlTarget(path: PathShape): PathShape {
  const last = path.segments.at(-1);
  if (path.trailingSlash || last === undefined || !last.endsWith(HTML) || last.length === HTML.length) return path;
  const name = last.slice(0, -HTML.length);
  // `/..html` (or `/%2e.html`) would strip to a dot segment, which is not a name but a
  // step up: such a file is simply not clean-able (its request goes on to a 404).
  if (name === "." || name === "..") return path;
  const parent = path.segments.slice(0, -1);
  return name === "index" ? { segments: parent, trailingSlash: true } : { segments: [...parent, name], trailingSlash: false };
}

/** The `.html` file a clean address may stand for: `/about` and `/about/` → `/about.html`. */
export function cleanUrlCandidate(path: MatchPath): string | undefined {
  const last = path.segments.at(-1);
  if (last === undefined || last.endsWith(HTML)) return undefined;
  return encodePathname([...path.segments.slice(0, -1), last + HTML], false);
}

/**
 * Serves `name.html` for `/name` when the static handler found nothing there.
 * (The `.html` → clean redirect is part of {@link import("./redirects.js").redirects}.)
 *
 * @example
 * ```ts
 * createHandler({ root: "site", cleanUrls: true });
 * ```
 */
export function cleanUrls(option: CleanUrls = true, trace?: Trace, finish?: Finish): Middleware {
  const inScope = cleanUrlScope(option);
  const afterMiss = async (req: WharfRequest, next: Next, reply: Reply): Promise<Reply> => {
    if (req.method !== "GET" && req.method !== "HEAD") return reply;
    const path = matchPath(req.pathname);
    if (path === undefined || !inScope(path.path)) {
      if (path !== undefined) trace?.step("clean-urls", `${path.path} is outside the clean URL globs`);
      return reply;
    }
    const candidate = cleanUrlCandidate(path);
    if (candidate === undefined) {
      trace?.step("clean-urls", `${path.path} already names a .html file: nothing to add`);
      return reply;
    }
    trace?.step("clean-urls", `trying ${candidate}`);
    const page = await next(withPath(req, candidate));
    if (found(page.status)) return page;
    if (trace !== undefined) {
      // Only when tracing: a `.htm` beside it is what the person most likely meant.
      const htm = candidate.slice(0, -1);
      trace.step("clean-urls", `${candidate} answered ${page.status}; looking for ${htm}`);
      const other = await next(withPath(req, htm));
      if (found(other.status)) trace.reason({ kind: "clean-urls-htm", path: encodePathname(path.segments, path.trailingSlash), htm });
    }
    return reply;
  };
  return async (req, next) => {
    const reply = await next();
    if (reply.status !== 404 || reply.miss !== true) return reply;
    const out = await afterMiss(req, next, reply);
    return finish === undefined ? out : finish(req, out);
  };
}
