/**
 * Custom response headers (`-H "Name: value"`, `--coop-coep`, serve.json's
 * `headers`): per glob, in order, later rules overriding earlier ones for the
 * same name, and `null` removing a header wharf would send — serve's semantics.
 *
 * - Sources are globs matched against the path the static handler was asked for,
 *   after rewrites, SPA fallback and clean URLs (so a rule for `404.html` applies
 *   when the 404 page is served, as in serve). A directory address `/docs/` is
 *   matched as `/docs/index.html`.
 * - Only found resources get them (2xx and 304): a header rule for `*.png` that
 *   sets a long `Cache-Control` must not make a cache keep a 404 for hours.
 * - Framing headers (`Content-Length`, `Transfer-Encoding`, `Content-Encoding`,
 *   `Content-Range`, hop-by-hop fields) cannot be set: they describe the bytes
 *   wharf sends, and a wrong one corrupts the response.
 */

import { OptionError } from "../core/errors.js";
import { mapReply, withReplyHeaders } from "../core/reply.js";
import type { Middleware } from "../core/types.js";
import { compileGlob, matchPath, normaliseSource, type PathMatcher } from "./patterns.js";

/** One rule: these headers for paths matching `source`. */
export interface HeaderRule {
  /** A glob (`**\/*.@(jpg|png)`, `/assets/**`, `404.html`); `**` is every path, dotfiles included. */
  readonly source: string;
  /** Header name → value; `null` removes a header wharf would otherwise send. */
  readonly headers: Readonly<Record<string, string | null>>;
}

/** The headers `--coop-coep` adds: cross-origin isolation, for SharedArrayBuffer and threaded wasm. */
export const COOP_COEP: Readonly<Record<string, string>> = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};

// RFC 9110 §5.1: a field name is a token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// §5.5: no CR, LF or NUL (or other controls but HTAB) in a value.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Fields that describe the bytes on the wire or the connection, which a rule must not change. */
const FORBIDDEN = new Set([
  "content-length",
  "content-range",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "upgrade",
  "te",
  "trailer",
]);

/** Parses `-H "Name: value"`; `undefined` when it is not one. */
export function parseHeaderFlag(text: string): { name: string; value: string } | undefined {
  const colon = text.indexOf(":");
  if (colon <= 0) return undefined;
  const name = text.slice(0, colon).trim();
  const value = text.slice(colon + 1).trim();
  if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return undefined;
  return { name, value };
}

interface CompiledRule {
  readonly match: PathMatcher;
  readonly headers: readonly (readonly [string, string | null])[];
}

/** Checks and compiles rules once; throws {@link OptionError} naming the rule and header. */
export function compileHeaderRules(rules: unknown): CompiledRule[] {
  if (!Array.isArray(rules)) throw new OptionError("headers", "must be a list of { source, headers } rules");
  return rules.map((rule: unknown, i) => {
    const where = `headers[${i}]`;
    if (typeof rule !== "object" || rule === null) throw new OptionError("headers", `${where} must be { source, headers }`);
    const { source, headers } = rule as { source?: unknown; headers?: unknown };
    if (typeof source !== "string" || source === "") throw new OptionError("headers", `${where}.source must be a non-empty glob`);
    if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
      throw new OptionError("headers", `${where}.headers must be an object of header names and values`);
    }
    const entries = Object.entries(headers as Record<string, unknown>).map(([name, value]): [string, string | null] => {
      if (!TOKEN.test(name)) throw new OptionError("headers", `${where}: ${JSON.stringify(name)} is not a valid header name`);
      const lower = name.toLowerCase();
      if (FORBIDDEN.has(lower)) throw new OptionError("headers", `${where}: ${name} describes the bytes sent and cannot be set`);
      if (value !== null && (typeof value !== "string" || !FIELD_VALUE.test(value))) {
        throw new OptionError("headers", `${where}: the value of ${name} must be a string without line breaks, or null`);
      }
      return [lower, value as string | null];
    });
    const everything = normaliseSource(source) === "/**";
    return { match: everything ? () => ({}) : compileGlob(source), headers: entries };
  });
}

/** The header changes for a decoded path: name → value, or `null` to remove. */
export function headersFor(rules: readonly CompiledRule[], path: string): ReadonlyMap<string, string | null> {
  const out = new Map<string, string | null>();
  for (const rule of rules) {
    if (rule.match(path) === undefined) continue;
    for (const [name, value] of rule.headers) out.set(name, value);
  }
  return out;
}

/**
 * Custom headers as middleware. Place it right around the static handler (as
 * createHandler does) so that it sees the path actually served.
 *
 * @example
 * ```ts
 * createHandler({
 *   root: "site",
 *   headers: [{ source: "**\/*.@(jpg|png)", headers: { "Cache-Control": "max-age=7200" } }],
 *   coopCoep: true,
 * });
 * ```
 */
export function headers(rules: readonly HeaderRule[]): Middleware {
  const compiled = compileHeaderRules(rules);
  // By raw pathname: a site has few distinct paths, and a browser repeats them.
  // Weighed by its keys (a path may be 8 KiB): at most 1 MiB of them, then cleared;
  // the values are the operator's own header rules.
  // Each entry is the changes as withReplyHeaders takes them, or undefined for none.
  const memo = new Map<string, Readonly<Record<string, string | null>> | undefined>();
  let memoBytes = 0;
  const changesFor = (pathname: string): Readonly<Record<string, string | null>> | undefined => {
    let changes = memo.get(pathname);
    if (changes === undefined && !memo.has(pathname)) {
      const path = matchPath(pathname);
      const found =
        path === undefined
          ? undefined
          : headersFor(compiled, path.trailingSlash ? `${path.path === "/" ? "" : path.path}/index.html` : path.path);
      changes = found === undefined || found.size === 0 ? undefined : Object.fromEntries(found);
      if (memo.size >= 1000 || memoBytes + 2 * pathname.length > 1024 * 1024) {
        memo.clear();
        memoBytes = 0;
      }
      memo.set(pathname, changes);
      memoBytes += 2 * pathname.length;
    }
    return changes;
  };
  // Maps next() as it comes (core/reply.ts mapReply): a cached file's reply stays
  // in the same tick, so header rules cost no promise on the fast path.
  return (req, next) =>
    mapReply(next(), (reply) => {
      if (reply.miss === true || !(reply.status < 300 || reply.status === 304)) return reply;
      const changes = changesFor(req.pathname);
      return changes === undefined ? reply : withReplyHeaders(reply, changes);
    });
}
