/**
 * Path patterns as serve.json writes them, compiled once: globs (`/old/**`,
 * `**\/*.@(jpg|png)`, matched with picomatch as serve matches them with minimatch)
 * and routing segments (`/projects/:id/edit`, as serve's path-to-regexp does).
 * Patterns are matched against the *decoded, normalised* request path, so `%2e%2e`
 * or `//` can never make a path dodge a rule.
 */
import { OptionError } from "../core/errors.js";
import { globMatcher } from "../core/glob.js";
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
  const test = globMatcher(glob);
  const matchesRoot = /^(\*\*\/?)+$/.test(glob);
  return (path) => {
    const relative = path.slice(1);
    if (relative === "") return matchesRoot ? EMPTY : undefined;
    return test(relative) ? EMPTY : undefined;
  };
}

/** One segment of a routing source. */
type SegmentPattern =
  /** `**`: any number of whole segments, none included. */
  | { readonly kind: "any-segments" }
  /** `prefix:name suffix`: one parameter with literal text around it, e.g. `:id`, `doc-:id.html`. */
  | { readonly kind: "param"; readonly name: string; readonly prefix: string; readonly suffix: string }
  /** Literal text with `*` wildcards (never crossing `/`). */
  | { readonly kind: "wildcard"; readonly parts: readonly string[] };

/**
 * Whether `text` matches `parts` joined by `*`, in O(text × parts): each literal
 * part is found at its leftmost position after the previous one (leftmost is
 * always safe for `*`-only patterns), and the last part must end the text.
 */
function wildcardMatch(parts: readonly string[], text: string): boolean {
  const first = parts[0] ?? "";
  if (parts.length === 1) return text === first;
  if (!text.startsWith(first)) return false;
  const last = parts[parts.length - 1] ?? "";
  const end = text.length - last.length;
  if (end < first.length || !text.endsWith(last)) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = text.indexOf(parts[i] as string, at);
    if (found < 0 || found + (parts[i] as string).length > end) return false;
    at = found + (parts[i] as string).length;
  }
  return true;
}

function compileSegment(segment: string, source: string): SegmentPattern {
  if (segment === "**") return { kind: "any-segments" };
  const params = paramNames(segment);
  if (params.length === 0) return { kind: "wildcard", parts: segment.replace(/\*+/g, "*").split("*") };
  // One parameter per segment, with literal text around it: enough for every routing
  // example serve documents, and matchable without any backtracking.
  const match = /^([^:*]*):([A-Za-z_]\w*)([^:*]*)$/.exec(segment);
  if (params.length > 1 || match === null) {
    throw new RangeError(`"${source}": a segment may hold one :parameter with literal text around it, not ${JSON.stringify(segment)}`);
  }
  return { kind: "param", name: match[2] as string, prefix: match[1] as string, suffix: match[3] as string };
}

/**
 * A source with routing segments (`/projects/:id/edit`): `:name` matches within
 * one segment and captures it; `**` as a whole segment matches any number of
 * segments, `*` anything within a segment; everything else is literal. Without
 * `:name` the source is a glob ({@link compileGlob}).
 *
 * No regular expression is built from the operator's source: a source like
 * `/:x/ ** /a/ ** /b` (spaces added) as a regex backtracks polynomially on a long
 * hostile path. Segments are matched one by one instead, and `**` by a search over
 * (pattern segment, path segment) pairs that remembers its failures, so a match
 * costs at most pattern segments × path segments steps (each pair is tried once).
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
  const patterns = normal
    .split("/")
    .slice(1)
    .map((segment) => compileSegment(segment, source));
  return (path) => {
    const segments = path === "/" ? [] : path.slice(1).split("/");
    const failed = new Set<number>();
    const params: Record<string, string> = {};
    const width = segments.length + 1;
    const match = (p: number, s: number): boolean => {
      if (p === patterns.length) return s === segments.length;
      if (failed.has(p * width + s)) return false;
      const pattern = patterns[p] as SegmentPattern;
      let ok = false;
      if (pattern.kind === "any-segments") {
        // `**` ends here, or swallows one more segment.
        ok = match(p + 1, s) || (s < segments.length && match(p, s + 1));
      } else if (s < segments.length) {
        const segment = segments[s] as string;
        if (pattern.kind === "wildcard") {
          ok = wildcardMatch(pattern.parts, segment) && match(p + 1, s + 1);
        } else {
          const { prefix, suffix, name } = pattern;
          const inner = segment.length - prefix.length - suffix.length;
          if (inner > 0 && segment.startsWith(prefix) && segment.endsWith(suffix)) {
            params[name] = segment.slice(prefix.length, segment.length - suffix.length);
            ok = match(p + 1, s + 1);
          }
        }
      }
      if (!ok) failed.add(p * width + s);
      return ok;
    };
    return match(0, 0) ? { ...params } : undefined;
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
  return segments.at(-1)?.includes(".") === true;
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
