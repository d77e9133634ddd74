/**
 * Mounted under a path: `app.use("/static", handler)` in Express or Connect.
 * The framework strips the mount path from `req.url` before calling us, so the
 * handler sees `/sub` for `GET /static/sub`: right for finding files, wrong for
 * a `Location`, which the browser resolves against the whole URL. express.static
 * (serve-static) reads `req.originalUrl` for its redirects; so do we.
 *
 * Express sets `req.baseUrl` (the mount path as matched, percent-encoded) and
 * `req.originalUrl`; Connect sets only `req.originalUrl`, so there the base is
 * what `originalUrl` has in front of `url`. A plain `node:http` server sets
 * neither, and nothing here runs.
 */

/** Where the request sits relative to a mount point. */
export type Mount =
  /** Not mounted, or rewritten in a way that hides the mount: paths are used as they are. */
  | { readonly kind: "root" }
  /** Under the mount point `base` (`/static`): a `Location` path is relative to it. */
  | { readonly kind: "under"; readonly base: string }
  /**
   * The mount point itself without its slash (`GET /static`): the handler sees `/`,
   * but relative links in the index page would resolve against the parent.
   */
  | { readonly kind: "bare"; readonly base: string };

const ROOT: Mount = { kind: "root" };

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

/**
 * The mount a Node request was routed through, from `req.url` and the
 * framework's `originalUrl` and `baseUrl` (each `unknown`: they are not ours).
 */
export function mountOf(url: string, originalUrl: unknown, baseUrl: unknown): Mount {
  if (typeof originalUrl !== "string" || originalUrl === url) return ROOT;
  const path = pathOf(url);
  const original = pathOf(originalUrl);
  let base: string;
  if (typeof baseUrl === "string") {
    // Express: the base as the router matched it, the case the client sent.
    base = baseUrl;
  } else if (path === "/" && !original.endsWith("/")) {
    // Connect, `GET /static`: it strips the route and adds the slash back.
    base = original;
  } else if (original.endsWith(path)) {
    base = original.slice(0, original.length - path.length);
  } else {
    return ROOT; // url was rewritten by someone else: no base to be sure of
  }
  // The base comes from the client's own request line, so it must stay a path on
  // this origin: one leading slash, never `//host` or `/\host` (CVE-2021-28861).
  if (!/^\/[^/\\]/.test(base) || base.endsWith("/")) return ROOT;
  if (path === "/" && original === base) return { kind: "bare", base };
  return original.startsWith(base) ? { kind: "under", base } : ROOT;
}

/**
 * A `Location` as seen from outside the mount. Every path the handler sees is
 * relative to the mount point (`req.pathname`), so a Location that is a path
 * (`/sub/`) is too and gets the base; a full URL is left alone.
 */
export function mountedLocation(location: string, base: string): string {
  return location.startsWith("/") && !location.startsWith("//") ? base + location : location;
}
