/**
 * A configuration or password file that lies inside the served directory (the
 * default: `wharf.json` in the working directory, which is also what is served) is
 * answered 404 and left out of listings, as if it were not there: it may hold
 * credentials, and it is never part of the site.
 */
import { errorReply } from "../handlers/errors.js";
import type { Middleware } from "../core/types.js";
import { matchPath } from "../features/patterns.js";

/** Answers 404 (a miss) for exactly these decoded paths (`/wharf.json`). */
export function hidePaths(paths: readonly string[]): Middleware {
  const hidden = new Set(paths);
  const notFound = { ...errorReply(404), miss: true as const };
  return (req, next) => (hidden.has(matchPath(req.pathname)?.path ?? "") ? { ...notFound, headers: { ...notFound.headers } } : next());
}
