/**
 * CORS (`--cors [ORIGINS]`), done the way browsers check it (Fetch standard §3.2):
 *
 * - Any origin (`*`): `Access-Control-Allow-Origin: *` on every response, which
 *   every cache may share; never with credentials — a browser rejects `*` on a
 *   credentialed request, which is exactly the mistake serve's `--cors` makes.
 * - A list of origins: the request's `Origin` is echoed when listed, with
 *   `Vary: Origin` on every response (listed or not, so no cache hands one
 *   origin's answer to another), and `Access-Control-Allow-Credentials: true`
 *   unless turned off: naming origins is the decision to trust them.
 * - Preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered here
 *   with 204, before authentication — browsers never send credentials on a
 *   preflight, so a 401 there would fail every credentialed request. They allow
 *   GET, HEAD and OPTIONS (the methods a static server has), the request headers
 *   the browser asked for (`Range`, `If-None-Match`, `Authorization`, ...), cache
 *   for `maxAge`, and answer Chrome's Private Network Access question.
 * - Responses expose `Content-Range`, `Accept-Ranges`, `ETag`, `Content-Length`
 *   and `Content-Encoding`, so a page can read ranges and validators.
 *
 * {@link corsDecision} is the whole policy as a pure function.
 */

import { copyRecord } from "../core/copy.js";
import { OptionError } from "../core/errors.js";
import { empty } from "../core/reply.js";
import { addVary } from "../core/request.js";
import type { Middleware, Reply } from "../core/types.js";

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * `"*"` for any origin, or the origins allowed (`"https://app.example.com"`,
   * `"http://localhost:5173"`): scheme, host and port, as browsers send `Origin`.
   * @default "*"
   */
  readonly origins?: "*" | readonly string[];
  /**
   * Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). Only with a
   * list of origins.
   * @default true with a list of origins, false with "*"
   */
  readonly credentials?: boolean;
  /**
   * Methods allowed in preflights.
   * @default ["GET", "HEAD", "OPTIONS"]
   */
  readonly methods?: readonly string[];
  /**
   * Response headers a page may read beyond the CORS-safelisted ones.
   * @default ["Accept-Ranges", "Content-Encoding", "Content-Length", "Content-Range", "ETag"]
   */
  readonly exposeHeaders?: readonly string[];
  /**
   * How long, in seconds, a browser may cache a preflight (Chromium caps at 7200).
   * @default 600
   */
  readonly maxAge?: number;
}

/** {@link CorsOptions} checked, with defaults applied. */
export interface CorsPolicy {
  /** Any origin, or the exact origins allowed (`scheme://host[:port]`). */
  readonly origins: "*" | ReadonlySet<string>;
  /** Whether `Access-Control-Allow-Credentials: true` is sent (never with `*`). */
  readonly credentials: boolean;
  /** The `Access-Control-Allow-Methods` value, joined. */
  readonly methods: string;
  /** The `Access-Control-Expose-Headers` value, joined. */
  readonly exposeHeaders: string;
  /** The `Access-Control-Max-Age` value, in seconds. */
  readonly maxAge: string;
}

/** What {@link corsDecision} decides. */
export type CorsDecision =
  /** A preflight from an allowed origin: answer 204 now with these headers. */
  | { readonly kind: "preflight"; readonly headers: Readonly<Record<string, string>> }
  /** A preflight from an origin not allowed: answer 204 without permission (the browser fails it). */
  | { readonly kind: "preflight-refused"; readonly headers: Readonly<Record<string, string>> }
  /** Any other request: let the chain answer, then add these headers (perhaps only `Vary`). */
  | { readonly kind: "response"; readonly allowed: boolean; readonly headers: Readonly<Record<string, string>> };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 6454 §7: scheme "://" host [":" port], or the opaque "null".
const ORIGIN = /^(?:null|[a-z][a-z0-9+.-]*:\/\/(?:\[[0-9a-f:.]+\]|[^\s/?#:@[\]]+)(?::\d{1,5})?)$/i;

/** Lower-cases scheme and host, drops a default port: how browsers serialise an origin. */
export function normaliseOrigin(origin: string): string {
  const lower = origin.toLowerCase();
  return lower.replace(/^http:\/\/(.*):80$/, "http://$1").replace(/^https:\/\/(.*):443$/, "https://$1");
}

/** Checks {@link CorsOptions} (or `true`, or a list of origins); throws {@link OptionError}. */
export function corsPolicy(option: boolean | string | readonly string[] | CorsOptions): CorsPolicy {
  const o: CorsOptions =
    option === true
      ? {}
      : typeof option === "string"
        ? { origins: option === "*" ? "*" : [option] }
        : Array.isArray(option)
          ? { origins: option as readonly string[] }
          : (option as CorsOptions);
  if (typeof o !== "object" || o === null) throw new OptionError("cors", "must be true, an origin, a list of origins or { origins, ... }");
  const origins = o.origins ?? "*";
  let allowed: "*" | Set<string>;
  if (origins === "*") {
    allowed = "*";
  } else {
    if (!Array.isArray(origins) || origins.length === 0)
      throw new OptionError("cors", 'origins must be "*" or a non-empty list of origins');
    allowed = new Set();
    for (const origin of origins) {
      if (typeof origin !== "string" || !ORIGIN.test(origin) || origin.endsWith("/")) {
        throw new OptionError(
          "cors",
          `origin ${JSON.stringify(origin)} is not an origin like "https://example.com" or "http://localhost:5173" (no path, no trailing slash)`,
        );
      }
      if (origin === "*") throw new OptionError("cors", 'use "*" alone, not in a list');
      allowed.add(normaliseOrigin(origin));
    }
  }
  const credentials = o.credentials ?? allowed !== "*";
  if (typeof credentials !== "boolean") throw new OptionError("cors", "credentials must be true or false");
  if (credentials && allowed === "*") {
    throw new OptionError("cors", 'credentials need a list of origins: browsers reject "*" on credentialed requests');
  }
  const methods = o.methods ?? ["GET", "HEAD", "OPTIONS"];
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === "string" && TOKEN.test(m))) {
    throw new OptionError("cors", "methods must be a non-empty list of method names");
  }
  const expose = o.exposeHeaders ?? ["Accept-Ranges", "Content-Encoding", "Content-Length", "Content-Range", "ETag"];
  if (!Array.isArray(expose) || !expose.every((h) => typeof h === "string" && TOKEN.test(h))) {
    throw new OptionError("cors", "exposeHeaders must be a list of header names");
  }
  const maxAge = o.maxAge ?? 600;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0) throw new OptionError("cors", "maxAge must be a whole number of seconds");
  return { origins: allowed, credentials, methods: methods.join(", "), exposeHeaders: expose.join(", "), maxAge: String(maxAge) };
}

/**
 * The CORS policy for one request. `requestHeaders` is the preflight's
 * `Access-Control-Request-Headers`; `privateNetwork` its
 * `Access-Control-Request-Private-Network`.
 */
export function corsDecision(
  policy: CorsPolicy,
  origin: string | undefined,
  method: string,
  requestMethod: string | undefined,
  requestHeaders: string | undefined,
  privateNetwork?: string,
): CorsDecision {
  const any = policy.origins === "*";
  const allowed = origin !== undefined && (any || (policy.origins as ReadonlySet<string>).has(normaliseOrigin(origin)));
  const vary: Record<string, string> = any ? {} : { vary: "Origin" };
  const preflight = method === "OPTIONS" && origin !== undefined && requestMethod !== undefined;
  if (preflight) {
    const varyPreflight = addVary(vary["vary"], "Access-Control-Request-Method", "Access-Control-Request-Headers");
    if (!allowed) return { kind: "preflight-refused", headers: { vary: varyPreflight } };
    const headers: Record<string, string> = {
      "access-control-allow-origin": any ? "*" : origin,
      "access-control-allow-methods": policy.methods,
      "access-control-max-age": policy.maxAge,
      vary: varyPreflight,
    };
    // Echo what the browser asked for (each a valid field name): Range, If-None-Match,
    // Authorization... A static server gives no header a dangerous meaning.
    const asked = (requestHeaders ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter((h) => TOKEN.test(h));
    if (asked.length > 0) headers["access-control-allow-headers"] = asked.join(", ");
    if (policy.credentials) headers["access-control-allow-credentials"] = "true";
    if (privateNetwork?.toLowerCase() === "true") headers["access-control-allow-private-network"] = "true";
    return { kind: "preflight", headers };
  }
  if (any) {
    // `*` is the same for every requester, so it is sent even without Origin and
    // a shared cache may hand it to anyone.
    return {
      kind: "response",
      allowed: true,
      headers: { "access-control-allow-origin": "*", "access-control-expose-headers": policy.exposeHeaders },
    };
  }
  if (!allowed) return { kind: "response", allowed: false, headers: vary };
  const headers: Record<string, string> = {
    ...vary,
    "access-control-allow-origin": origin,
    "access-control-expose-headers": policy.exposeHeaders,
  };
  if (policy.credentials) headers["access-control-allow-credentials"] = "true";
  return { kind: "response", allowed: true, headers };
}

function withCorsHeaders(reply: Reply, add: Readonly<Record<string, string>>): Reply {
  const headers = copyRecord(reply.headers); // fields added: not a spread (core/copy.ts)
  for (const [name, value] of Object.entries(add)) {
    headers[name] = name === "vary" ? addVary(headers["vary"], ...value.split(", ")) : value;
  }
  return { ...reply, headers };
}

/**
 * CORS as middleware. Put it outermost (createHandler does): preflights must be
 * answered before authentication, and error replies need the headers too, or a
 * page cannot even read that it got a 404.
 *
 * @example
 * ```ts
 * createHandler({ root: "public", cors: true });                                  // any origin
 * createHandler({ root: "public", cors: ["https://app.example.com"] });           // one, with credentials
 * createHandler({ root: "public", cors: { origins: ["http://localhost:5173"], maxAge: 60 } });
 * ```
 */
export function cors(option: boolean | string | readonly string[] | CorsOptions = true): Middleware {
  const policy = corsPolicy(option);
  return async (req, next) => {
    const decision = corsDecision(
      policy,
      req.header("origin"),
      req.method,
      req.header("access-control-request-method"),
      req.header("access-control-request-headers"),
      req.header("access-control-request-private-network"),
    );
    // RFC 9110 §8.6: no Content-Length on a 204.
    if (decision.kind !== "response") return empty(204, decision.headers);
    return withCorsHeaders(await next(), decision.headers);
  };
}
