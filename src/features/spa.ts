/**
 * Single-page apps (`-s/--single [FILE]`): a browser that opens or reloads a deep
 * link such as `/settings/profile` gets the app's `index.html`, which then routes
 * on `location.pathname` (History API). Only what is clearly a page navigation
 * falls back; everything else keeps its honest 404:
 *
 * - GET or HEAD;
 * - the static handler found nothing (a 404 miss) — files, directories and
 *   listings win, and so do custom routes;
 * - the last segment has no dot (`/app.js`, `/logo.png`, `/missing.css` are
 *   assets, whose 404 must not become HTML: a `<script>` given an HTML page fails
 *   with a confusing syntax error instead of a clear 404);
 * - the client accepts HTML: `text/html` (or `text/*`, or
 *   `application/xhtml+xml`) with q > 0, or `*\/*` on a browser navigation
 *   (`Sec-Fetch-Mode: navigate`). `fetch()` and curl send `*\/*` without it, and
 *   `Accept: application/json` never gets a page where it wanted data.
 *
 * The fallback file goes through the static handler like any request, so
 * traversal, dotfile and symlink rules are unchanged, and it is served with its
 * own ETag, compression and `Cache-Control` (plus `Vary: Accept`, since the same
 * URL answers differently by Accept).
 */

import { copyWith } from "../core/copy.js";
import { addVary, withPath } from "../core/request.js";
import type { Finish, Trace } from "../core/trace.js";
import type { Middleware, Next, Reply, WharfRequest } from "../core/types.js";
import { encodePathname } from "../path/resolve.js";
import { found, hasExtension, matchPath, rootFile } from "./patterns.js";

/** Options of {@link spa}. */
export interface SpaOptions {
  /**
   * The page every navigation falls back to, relative to the root.
   * @default "index.html"
   */
  readonly file?: string;
}

/** Whether a media range list prefers a page: see the module comment. */
export function wantsHtml(accept: string | undefined, secFetchMode?: string, secFetchDest?: string): boolean {
  if (accept === undefined) return false;
  // The most specific range that covers text/html decides (RFC 9110 §12.5.1):
  // `text/html;q=0, */*` refuses HTML.
  let html: number | undefined;
  let textAny: number | undefined;
  let any: number | undefined;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.split(";");
    const type = range.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split("=");
      if (k?.trim().toLowerCase() === "q") {
        const n = Number(v?.trim());
        q = Number.isFinite(n) ? n : 0;
      }
    }
    if (type === "text/html" || type === "application/xhtml+xml") html = Math.max(html ?? 0, q);
    else if (type === "text/*") textAny = Math.max(textAny ?? 0, q);
    else if (type === "*/*") any = Math.max(any ?? 0, q);
  }
  if (html !== undefined) return html > 0;
  if (textAny !== undefined) return textAny > 0;
  if (any === undefined || any <= 0) return false;
  // `*/*` alone: a page only when a browser says this is a navigation.
  const mode = secFetchMode?.toLowerCase();
  const dest = secFetchDest?.toLowerCase();
  return mode === "navigate" || dest === "document" || dest === "iframe" || dest === "frame";
}

/** What the SPA rule decides for one request whose static answer was `reply`. */
export type SpaDecision =
  | { readonly kind: "fallback" }
  | { readonly kind: "keep"; readonly reason: "method" | "found" | "asset" | "not-html" };

/** The SPA rule as a pure function (see the module comment). */
export function spaDecision(
  method: string,
  segments: readonly string[],
  reply: Pick<Reply, "status" | "miss">,
  accept: string | undefined,
  secFetchMode?: string,
  secFetchDest?: string,
): SpaDecision {
  if (method !== "GET" && method !== "HEAD") return { kind: "keep", reason: "method" };
  if (reply.status !== 404 || reply.miss !== true) return { kind: "keep", reason: "found" };
  if (hasExtension(segments)) return { kind: "keep", reason: "asset" };
  if (!wantsHtml(accept, secFetchMode, secFetchDest)) return { kind: "keep", reason: "not-html" };
  return { kind: "fallback" };
}

/**
 * The SPA fallback as middleware.
 *
 * @example
 * ```ts
 * createHandler({ root: "dist", use: [spa({ file: "index.html" })] });
 * // or simply: createHandler({ root: "dist", single: true })
 * ```
 */
export function spa(options: SpaOptions = {}, trace?: Trace, finish?: Finish): Middleware {
  const target = rootFile("single", options.file ?? "index.html");
  const afterMiss = async (req: WharfRequest, next: Next, reply: Reply): Promise<Reply> => {
    const path = matchPath(req.pathname);
    if (path === undefined) return reply;
    const decision = spaDecision(
      req.method,
      path.segments,
      reply,
      req.header("accept"),
      req.header("sec-fetch-mode"),
      req.header("sec-fetch-dest"),
    );
    if (trace !== undefined) traceSpa(trace, path.segments, decision, target);
    if (decision.kind === "keep") {
      return decision.reason === "not-html"
        ? { ...reply, headers: copyWith(reply.headers, "vary", addVary(reply.headers["vary"], "Accept")) }
        : reply;
    }
    const page = await next(withPath(req, target));
    // No index.html (or it is hidden, or a directory): the honest 404. A 304, 206,
    // 412 or 416 is the page's own answer to the client's validators and ranges.
    if (!found(page.status)) {
      trace?.step("spa", `the fallback page ${target} answered ${page.status}: the 404 stays`);
      trace?.reason({ kind: "spa-page-missing", path: encodePathname(path.segments, path.trailingSlash), page: target });
      return reply;
    }
    trace?.step("spa", `served ${target} for ${encodePathname(path.segments, path.trailingSlash)}`);
    // A field the page's headers may not have: not a spread (core/copy.ts).
    return { ...page, headers: copyWith(page.headers, "vary", addVary(page.headers["vary"], "Accept")) };
  };
  return async (req, next) => {
    const reply = await next();
    if (reply.status !== 404 || reply.miss !== true) return reply; // the common case, decided at once
    const out = await afterMiss(req, next, reply);
    return finish === undefined ? out : finish(req, out);
  };
}

/** Writes down what the SPA rule decided for a miss (only in a chain built for tracing). */
function traceSpa(trace: Trace, segments: readonly string[], decision: SpaDecision, target: string): void {
  const url = encodePathname(segments, false);
  if (decision.kind === "fallback") {
    trace.step("spa", `a page navigation to a path without an extension: falling back to ${target}`);
    return;
  }
  switch (decision.reason) {
    case "method":
      trace.step("spa", "not GET or HEAD: no fallback");
      return;
    case "found":
      return;
    case "asset":
      trace.step("spa", `${url} has an extension: an asset, no fallback`);
      trace.reason({ kind: "spa-asset", path: url });
      return;
    case "not-html":
      trace.step("spa", "the request does not accept text/html (Accept): no fallback");
      trace.reason({ kind: "spa-not-html", path: url });
      return;
  }
}
