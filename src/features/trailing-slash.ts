/**
 * `--trailing-slash always|never` (serve.json's `trailingSlash: true|false`): one
 * spelling for every URL, so that a page is never reachable, linked and cached
 * under two addresses.
 *
 * - `always`: `/about` → 301 `/about/`, for paths whose last segment has no
 *   extension and is not a dotfile (`/app.js` stays as it is).
 * - `never`: `/about/` → 301 `/about`; a directory is then served at its
 *   slash-less address (`/docs` answers with `docs/index.html` or the listing)
 *   instead of wharf's usual 301 to `/docs/`. Relative links in such a page
 *   resolve against the parent, so use absolute ones.
 * - unset: wharf's own rule — a directory gets its slash (301), a file has none.
 *
 * The redirect itself is decided by {@link trailingSlashTarget} inside the one
 * redirect step (src/features/redirects.ts), so that `/about.html` with clean URLs
 * and `always` goes to `/about/` in one hop, not two.
 */

import { withPath } from "../core/request.js";
import type { Trace } from "../core/trace.js";
import type { Middleware } from "../core/types.js";
import { encodePathname } from "../path/resolve.js";
import { hasExtension, matchPath } from "./patterns.js";

/** The trailing-slash policy. */
export type TrailingSlash = "always" | "never";

/** A path as decoded segments and whether it ends in `/`. */
export interface PathShape {
  /** The decoded segments (`[]` for the root). */
  readonly segments: readonly string[];
  /** Whether the path ends in `/`. */
  readonly trailingSlash: boolean;
}

/** `shape` under `policy`: the same object when it already conforms. The root always keeps its `/`. */
export function trailingSlashTarget(shape: PathShape, policy: TrailingSlash | undefined): PathShape {
  if (policy === undefined || shape.segments.length === 0) return shape;
  if (policy === "never") return shape.trailingSlash ? { segments: shape.segments, trailingSlash: false } : shape;
  if (shape.trailingSlash || hasExtension(shape.segments) || shape.segments.at(-1)!.startsWith(".")) return shape;
  return { segments: shape.segments, trailingSlash: true };
}

/**
 * With `never`: where the static handler would redirect a directory to its slashed
 * address, serve that address's answer at the slash-less one instead (else
 * `never` and the directory redirect would chase each other forever).
 */
export function directoryWithoutSlash(trace?: Trace): Middleware {
  return async (req, next) => {
    const reply = await next();
    if (reply.status !== 301 || (req.method !== "GET" && req.method !== "HEAD")) return reply;
    const path = matchPath(req.pathname);
    if (path === undefined || path.trailingSlash || path.segments.length === 0) return reply;
    const slashed = encodePathname(path.segments, true);
    if (reply.headers["location"] !== slashed + req.search) return reply;
    trace?.step("trailing-slash", `never: serving ${slashed} at ${path.path}`);
    return next(withPath(req, slashed));
  };
}
