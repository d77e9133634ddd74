/**
 * Path patterns as serve.json writes them, compiled once: globs (`/old/**`,
 * `**\/*.@(jpg|png)`, matched with picomatch as serve matches them with minimatch)
 * and routing segments (`/projects/:id/edit`, as serve's path-to-regexp does).
 * Patterns are matched against the *decoded, normalised* request path, so `%2e%2e`
 * or `//` can never make a path dodge a rule.
 */
import picomatch from "picomatch";
import { OptionError } from "../core/option-error.js";
import { encodePathname, encodeSegment, resolveRequestPath } from "../path/resolve.js";

/** A request path as the feature rules see it. */
export interface MatchPath {
  /** Decoded and normalised, starting with `/`, without a trailing slash (`/` for the root). */
  readonly path: string;
  /** The decoded segments (`[]` for the root). */
  readonly segments: readonly string[];
  /** The request named a directory (`/docs/`). */
  readonly trailingSlash: boolean;
}

/**
 * The decoded form of a request's `pathname`, or `undefined` when it is malformed
 * (such a request goes on to the static handler, which answers 400).
 */
export function matchPath(pathname: string): MatchPath | undefined {
  const outcome = resolveRequestPath(pathname);
  if (outcome.kind !== "ok") return undefined;
  return { path: `/${outcome.segments.join("/")}`, segments: outcome.segments, trailingSlash: outcome.trailingSlash };
}

/** The parameters a pattern captured: `{ id: "123" }` for `/projects/:id` and `/projects/123`. */
export type Params = Readonly<Record<string, string>>;

/** A compiled pattern: the captured parameters when `path` matches, else `undefined`. */
export type PathMatcher = (path: string) => Params | undefined;

/** serve's "slasher": a leading `/`, and `.`, `..` and `//` resolved as in a path. */
export function normaliseSource(source: string): string {
  const parts: string[] = [];
  for (const part of source.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** `:name` in a source or destination: a letter or `_` first, so `https:` and `:8080` are not parameters. */
const PARAM = /:([A-Za-z_]\w*)/g;

/** The names of the `:name` parameters in `pattern`, in order. */
export function paramNames(pattern: string): string[] {
  return [...pattern.matchAll(PARAM)].map((m) => m[1]!);
}

const EMPTY: Params = Object.freeze({});

/**
 * A glob (`/assets/**`, `**\/*.png`, `404.html`): matched against the whole path
 * from the root, like minimatch against serve's slashed path. `**` at the start
 * may match nothing (`**\/*.png` matches `/a.png`), and `/app/**` matches `/app`.
 * Dotfiles are not matched by `*` or `**` (minimatch's default).
 */
export function compileGlob(source: string): PathMatcher {
  const glob = normaliseSource(source).slice(1);
  // picomatch wants a relative path and a non-empty glob; the root is "" here.
  if (glob === "") return (path) => (path === "/" ? EMPTY : undefined);
  const test = picomatch(glob);
  const matchesRoot = /^(\*\*\/?)+$/.test(glob);
  return (path) => {
    const relative = path.slice(1);
    if (relative === "") return matchesRoot ? EMPTY : undefined;
    return test(relative) ? EMPTY : undefined;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A source with routing segments (`/projects/:id/edit`): `:name` matches one
 * non-empty segment and captures it; `**` matches anything (slashes included),
 * `*` anything within a segment; everything else is literal. Without `:name` the
 * source is a glob ({@link compileGlob}).
 */
export function compileSource(source: string): PathMatcher {
  const normal = normaliseSource(source);
  const names = paramNames(normal);
  if (names.length === 0) return compileGlob(source);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new RangeError(`parameter :${name} appears twice in "${source}"`);
    seen.add(name);
  }
  let pattern = "";
  // Split on parameters and stars, keeping them, and translate piece by piece.
  for (const piece of normal.split(/(:[A-Za-z_]\w*|\*\*|\*)/)) {
    if (piece === "**") pattern += ".*";
    else if (piece === "*") pattern += "[^/]*";
    else if (piece.startsWith(":") && piece.length > 1) pattern += `(?<${piece.slice(1)}>[^/]+)`;
    else pattern += escapeRegExp(piece);
  }
  const regex = new RegExp(`^${pattern}$`);
  return (path) => {
    const groups = regex.exec(path)?.groups;
    return groups === undefined ? undefined : { ...groups };
  };
}

/** Whether a destination leaves this server (`https://...`). */
export function isExternal(destination: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(destination);
}

/**
 * A local destination with `params` filled in, as decoded segments plus whether it
 * ends in `/`; `undefined` if it climbs above the root. Query strings are the
 * caller's business.
 */
export function localDestination(destination: string, params: Params): { segments: string[]; trailingSlash: boolean } | undefined {
  const filled = destination.replace(PARAM, (whole, name: string) => params[name] ?? whole);
  const segments: string[] = [];
  for (const part of filled.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (segments.pop() === undefined) return undefined;
    } else {
      segments.push(part);
    }
  }
  return { segments, trailingSlash: filled.endsWith("/") };
}

/** An external destination with `params` filled in, each percent-encoded as a path segment. */
export function externalDestination(destination: string, params: Params): string {
  return destination.replace(PARAM, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : encodeSegment(value);
  });
}

/** Whether the last segment has a file extension: a dot in it, like connect-history-api-fallback's "dot rule". */
export function hasExtension(segments: readonly string[]): boolean {
  const last = segments.at(-1);
  return last !== undefined && last.includes(".");
}

/** Checks a file option (`single`, `notFound`): a relative path inside the root. Returns it encoded. */
export function rootFile(option: string, file: unknown): string {
  if (typeof file !== "string" || file.trim() === "") throw new OptionError(option, "must be a file name relative to the root");
  const segments = file.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.length === 0 || segments.some((s) => s === ".." || s.includes("\\") || /[\x00-\x1f\x7f]/.test(s))) {
    throw new OptionError(option, `must name a file inside the root, not ${JSON.stringify(file)}`);
  }
  return encodePathname(segments, false);
}

/**
 * Whether a reply to a re-dispatched request (a fallback page, a `.html` candidate,
 * a rewrite) found the resource: a 200 or 206, or the resource's own answer to
 * the client's validators (304, 412) and ranges (416). Anything else — 404, a
 * directory's 301, a 403 for a hidden file — means it is not there to serve.
 */
export function found(status: number): boolean {
  return status === 200 || status === 206 || status === 304 || status === 412 || status === 416;
}
