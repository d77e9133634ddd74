/**
 * Redirects and rewrites with serve.json's semantics: `source` is a glob
 * (`/old-pages/**`) or has routing segments (`/old-docs/:id`), `destination` may
 * use the segments (`/new-docs/:id`), redirects default to 301 and may say
 * `type: 302` (or 303, 307, 308) and may go to another site
 * (`https://example.com/:id`). Rules are tried in order; the first match wins.
 *
 * Where wharf differs from serve, on purpose:
 * - a redirect keeps the request's query string unless the destination has one
 *   of its own (serve drops it);
 * - a rewrite applies only where the static handler found nothing, so a real file
 *   or directory always wins (serve rewrites extension-less paths even when they
 *   exist); a rewritten path goes through the static handler's normal rules
 *   (decoding, traversal, dotfiles);
 * - `:name` matches one segment; `*` any part of a segment, `**` anything.
 *
 * The redirect step also applies clean URLs (`/about.html` → `/about`) and the
 * trailing-slash policy, together, so that a request is redirected once.
 */

import { OptionError } from "../core/errors.js";
import { empty } from "../core/reply.js";
import { withPath } from "../core/request.js";
import type { Finish, Trace } from "../core/trace.js";
import type { Middleware, Next, Reply, WharfRequest } from "../core/types.js";
import { encodePathname } from "../path/resolve.js";
import { type CleanUrls, cleanUrlScope, cleanUrlTarget } from "./clean-urls.js";
import {
  compileSource,
  externalDestination,
  isExternal,
  localDestination,
  type MatchPath,
  matchPath,
  type Params,
  type PathMatcher,
  paramNames,
} from "./patterns.js";
import { type PathShape, type TrailingSlash, trailingSlashTarget } from "./trailing-slash.js";

/** The statuses a redirect may use. */
export type RedirectStatus = 301 | 302 | 303 | 307 | 308;
const STATUSES: readonly number[] = [301, 302, 303, 307, 308];

/** A redirect rule, as in serve.json. */
export interface RedirectRule {
  /** A glob or a path with `:name` segments, matched against the decoded path. */
  readonly source: string;
  /** A path on this site or an absolute `http(s)://` URL; may use the source's `:name`s. */
  readonly destination: string;
  /**
   * The status.
   * @default 301
   */
  readonly type?: RedirectStatus;
}

/** A rewrite rule, as in serve.json: serve `destination` (a path on this site) where `source` found nothing. */
export interface RewriteRule {
  /** A glob or a path with `:name` segments, matched against the decoded path. */
  readonly source: string;
  /** A path on this site; may use the source's `:name`s. */
  readonly destination: string;
}

/** Options of {@link redirects}. */
export interface RedirectOptions {
  /** @default [] */
  readonly rules?: readonly RedirectRule[];
  /** Strip `.html` (see src/features/clean-urls.ts). @default false */
  readonly cleanUrls?: CleanUrls;
  /** @default undefined (wharf's own rule) */
  readonly trailingSlash?: TrailingSlash | undefined;
}

interface CompiledRule {
  readonly match: PathMatcher;
  readonly destination: string;
  readonly status: RedirectStatus;
}

function checkRule(
  option: string,
  index: number,
  rule: unknown,
  redirect: boolean,
): { source: string; destination: string; type: RedirectStatus } {
  const where = `${option}[${index}]`;
  if (typeof rule !== "object" || rule === null)
    throw new OptionError(option, `${where} must be { source, destination${redirect ? ", type" : ""} }`);
  const { source, destination, type } = rule as { source?: unknown; destination?: unknown; type?: unknown };
  if (typeof source !== "string" || source === "") throw new OptionError(option, `${where}.source must be a non-empty string`);
  if (typeof destination !== "string" || destination === "")
    throw new OptionError(option, `${where}.destination must be a non-empty string`);
  if (/[\x00-\x1f\x7f\\]/.test(destination))
    throw new OptionError(option, `${where}.destination must not contain control characters or backslashes`);
  if (redirect && type !== undefined && !STATUSES.includes(type as number)) {
    throw new OptionError(option, `${where}.type must be one of ${STATUSES.join(", ")}`);
  }
  const external = isExternal(destination);
  if (!external && !destination.startsWith("/"))
    throw new OptionError(option, `${where}.destination must start with "/" or be an http(s):// URL`);
  if (external && (!redirect || !/^https?:\/\//i.test(destination))) {
    throw new OptionError(
      option,
      `${where}.destination ${redirect ? "must be an http(s):// URL or a path" : "must be a path on this site"}`,
    );
  }
  const known = new Set(paramNames(source));
  const unknown = paramNames(destination).find((n) => !known.has(n));
  if (unknown !== undefined && !external)
    throw new OptionError(option, `${where}.destination uses :${unknown}, which the source does not capture`);
  if (!external && localDestination(destination.split("?")[0]!, {}) === undefined) {
    throw new OptionError(option, `${where}.destination climbs above the root`);
  }
  return { source, destination, type: (type as RedirectStatus | undefined) ?? 301 };
}

function compileRules(option: string, rules: unknown, redirect: boolean): CompiledRule[] {
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) throw new OptionError(option, "must be a list of { source, destination } rules");
  return rules.map((rule, i) => {
    const checked = checkRule(option, i, rule, redirect);
    try {
      return { match: compileSource(checked.source), destination: checked.destination, status: checked.type };
    } catch (error) {
      throw new OptionError(option, `${option}[${i}].source: ${(error as Error).message}`);
    }
  });
}

/** Where a matched local or external destination points, with the request's query applied. */
function location(destination: string, params: Params, search: string): string | undefined {
  const q = destination.indexOf("?");
  const pathPart = q < 0 ? destination : destination.slice(0, q);
  const query =
    q < 0
      ? search
      : destination
          .slice(q)
          .replace(/:([A-Za-z_]\w*)/g, (whole, name: string) => (params[name] === undefined ? whole : encodeURIComponent(params[name])));
  if (isExternal(destination)) return externalDestination(pathPart, params) + query;
  const local = localDestination(pathPart, params);
  if (local === undefined) return undefined;
  // Re-encoded from segments: never `//host`, whatever the parameters held.
  return encodePathname(local.segments, local.trailingSlash) + query;
}

/** What the redirect step decides for one request. */
export type RedirectDecision =
  | { readonly kind: "redirect"; readonly status: RedirectStatus; readonly location: string }
  | { readonly kind: "none" };

const NONE: RedirectDecision = { kind: "none" };

/**
 * Compiles the redirect step into a pure decision: rules first (in order), then
 * clean URLs and the trailing-slash policy together (GET and HEAD only).
 */
export function redirectDecider(options: RedirectOptions): (method: string, path: MatchPath, search: string) => RedirectDecision {
  const rules = compileRules("redirects", options.rules, true);
  const clean = options.cleanUrls === undefined || options.cleanUrls === false ? undefined : cleanUrlScope(options.cleanUrls);
  const slash = options.trailingSlash;
  return (method, path, search) => {
    for (const rule of rules) {
      const params = rule.match(path.path);
      if (params === undefined) continue;
      const to = location(rule.destination, params, search);
      if (to !== undefined) return { kind: "redirect", status: rule.status, location: to };
    }
    if (method !== "GET" && method !== "HEAD") return NONE;
    let shape: PathShape = path;
    if (clean?.(path.path)) shape = cleanUrlTarget(shape);
    shape = trailingSlashTarget(shape, slash);
    if (shape === path) return NONE;
    return { kind: "redirect", status: 301, location: encodePathname(shape.segments, shape.trailingSlash) + search };
  };
}

/**
 * The redirect step as middleware: redirect rules, then clean URLs and the
 * trailing-slash policy, as one 301 (or the rule's status).
 *
 * @example
 * ```ts
 * createHandler({
 *   root: "site",
 *   redirects: [{ source: "/old-docs/:id", destination: "/docs/:id" }, { source: "/old", destination: "/new", type: 302 }],
 * });
 * ```
 */
export function redirects(options: RedirectOptions, trace?: Trace): Middleware {
  const decide = redirectDecider(options);
  return (req, next) => {
    const path = matchPath(req.pathname);
    if (path === undefined) return next();
    const decision = decide(req.method, path, req.search);
    if (decision.kind === "none") return next();
    trace?.step("redirect", `${decision.status} to ${decision.location} (redirect rules, clean URLs, trailing slash)`);
    return empty(decision.status, { location: decision.location, "content-length": "0" });
  };
}

/**
 * Rewrites as middleware: where the static handler found nothing (a 404 miss), the
 * first rule whose source matches is asked for instead.
 *
 * @example
 * ```ts
 * createHandler({ root: "site", rewrites: [{ source: "/projects/:id/edit", destination: "/edit-project-:id.html" }] });
 * ```
 */
export function rewrites(rules: readonly RewriteRule[], trace?: Trace, finish?: Finish): Middleware {
  const compiled = compileRules("rewrites", rules, false);
  const afterMiss = async (req: WharfRequest, next: Next, reply: Reply): Promise<Reply> => {
    const path = matchPath(req.pathname);
    if (path === undefined) return reply;
    for (const rule of compiled) {
      const params = rule.match(path.path);
      if (params === undefined) continue;
      const local = localDestination(rule.destination.split("?")[0]!, params);
      if (local === undefined) {
        trace?.step("rewrite", `${path.path} matched ${rule.destination}, which names no local path`);
        return reply;
      }
      const destination = encodePathname(local.segments, local.trailingSlash);
      trace?.step("rewrite", `${path.path} matched a rule: trying ${destination}`);
      const rewritten = await next(withPath(req, destination));
      // A destination that is missing too keeps the original 404 (and its headers).
      if (rewritten.status === 404) {
        trace?.reason({ kind: "rewrite-missing", path: encodePathname(path.segments, path.trailingSlash), destination });
        return reply;
      }
      return rewritten;
    }
    trace?.step("rewrite", `no rule matches ${path.path}`);
    return reply;
  };
  return async (req, next) => {
    const reply: Reply = await next();
    if (reply.status !== 404 || reply.miss !== true) return reply;
    const out = await afterMiss(req, next, reply);
    return finish === undefined ? out : finish(req, out);
  };
}
