/**
 * The features for serving real apps, assembled once from the options into two
 * lists of middleware around the user's own (`use`) and the static handler:
 *
 *     secret path → [uploads] → cors → auth → redirects → 404 page → [use] → spa → rewrites
 *          → clean URLs → directory without slash → headers → static
 *
 * (Uploads, src/features/upload, are added by createHandler right after the secret path.)
 *
 * Why this order:
 * - The secret path first: a path without it is a 404 before anything else can
 *   answer (a 401 or a CORS preflight would tell that something is there).
 * - CORS first: a preflight carries no credentials, so it must be answered before
 *   authentication; and every reply, a 401 or a 404 included, needs the CORS
 *   headers or the page cannot read it.
 * - Auth before anything that reveals what exists (redirects, 404 pages, files).
 * - Redirects look at the address as the client sent it, before any rewriting.
 * - The 404 page wraps the user's routes too, but only replaces the static
 *   handler's misses.
 * - Innermost, the rewriting steps, from the last resort (SPA) to the most
 *   specific: each asks the rest of the chain for another path only after the
 *   static handler found nothing, so a real file always wins.
 * - Headers right around the static handler: they match the path actually served.
 *
 * With no feature configured both lists are empty and the chain is exactly what it
 * was: the hot path does not change.
 */

import { OptionError } from "../core/errors.js";
import type { Middleware } from "../core/types.js";
import { booleanOption, listOption } from "../core/validate.js";
import { type AuthOptions, basicAuth } from "./auth.js";
import { type CleanUrls, cleanUrls } from "./clean-urls.js";
import { type CorsOptions, cors } from "./cors.js";
import { errorPages } from "./error-pages.js";
import { COOP_COEP, type HeaderRule, headers } from "./headers.js";
import { type RedirectRule, type RewriteRule, redirects, rewrites } from "./redirects.js";
import { secretPath, secretPathOf } from "./secret-path.js";
import { spa } from "./spa.js";
import { directoryWithoutSlash, type TrailingSlash } from "./trailing-slash.js";

/**
 * The app features' options, part of {@link import("../handler/options.js").StaticOptions}
 * (docs/features.md). None is on by default, and with none of them the chain is
 * the static handler (and `use`) alone.
 */
export interface FeatureOptions {
  /**
   * Single-page app fallback (`-s/--single [FILE]`): a GET or HEAD navigation
   * (Accept: text/html) to a path with no file and no extension answers FILE with
   * 200. `true` means `"index.html"`. Assets (`/app.js`) and `Accept:
   * application/json` requests keep their 404.
   * @default false
   */
  readonly single?: boolean | string;
  /**
   * Clean URLs (`--clean-urls`): `/about` serves `about.html`, `/about.html`
   * redirects to `/about` (keeping the query). A list of globs limits it to
   * matching paths, as in serve.json.
   * @default false
   */
  readonly cleanUrls?: CleanUrls;
  /**
   * `"always"`: `/about` → 301 `/about/`; `"never"`: `/about/` → 301 `/about`, and
   * directories are served without their slash. Unset: directories get a slash,
   * files do not.
   * @default undefined
   */
  readonly trailingSlash?: TrailingSlash;
  /**
   * CORS (`--cors [ORIGINS]`): `true` or `"*"` for any origin (never with
   * credentials), a list of origins (echoed, with `Vary: Origin` and credentials),
   * or {@link CorsOptions}. Preflights are answered with 204.
   * @default false
   */
  readonly cors?: boolean | string | readonly string[] | CorsOptions;
  /**
   * Custom headers by glob, serve.json style (`-H "Name: value"` is a rule for
   * `**`): `[{ source: "**\/*.wasm", headers: { "Cache-Control": "max-age=3600" } }]`.
   * Later rules override earlier ones; `null` removes a header. Only on found
   * resources (2xx, 304).
   * @default []
   */
  readonly headers?: readonly HeaderRule[];
  /**
   * Cross-origin isolation (`--coop-coep`): `Cross-Origin-Opener-Policy:
   * same-origin` and `Cross-Origin-Embedder-Policy: require-corp` on every found
   * resource, for SharedArrayBuffer and threaded wasm.
   * @default false
   */
  readonly coopCoep?: boolean;
  /**
   * A page (relative to the root) sent with status 404 where nothing was found
   * (`--404 FILE`). The command line defaults to `"404.html"`, used when present.
   * @default false
   */
  readonly notFound?: string | false;
  /**
   * Redirects, serve.json style: `[{ source: "/old/:id", destination: "/new/:id", type: 301 }]`.
   * @default []
   */
  readonly redirects?: readonly RedirectRule[];
  /**
   * Rewrites, serve.json style, applied where nothing was found:
   * `[{ source: "/app/**", destination: "/app/index.html" }]`.
   * @default []
   */
  readonly rewrites?: readonly RewriteRule[];
  /**
   * HTTP Basic authentication (`--auth user:password`): `"user:password"`, a list
   * of them, or {@link AuthOptions} (`{ users, file, realm }`).
   * @default undefined (no authentication)
   */
  readonly auth?: string | readonly string[] | AuthOptions;
  /**
   * An htpasswd file (`--auth-file FILE`; bcrypt, `$apr1$` or `{SHA}`), read once
   * when the handler is built.
   * @default undefined
   */
  readonly authFile?: string;
  /**
   * Serve everything under `/<secretPath>/` only (`--secret-path`); every other
   * path answers the 404 of a missing file. 22 to 128 base64url characters:
   * `crypto.randomBytes(16).toString("base64url")`. `serve()` also takes `true`
   * and makes one (read it back from `RunningServer.secretPath`). Replies carry
   * `Referrer-Policy: no-referrer`; see docs/features.md, "Sharing".
   * @default undefined (served at `/`)
   */
  readonly secretPath?: string | boolean;
}

/** The middleware the features add, outside and inside the user's. */
export interface Features {
  /** Outermost first: CORS, auth, redirects, 404 page. */
  readonly outer: readonly Middleware[];
  /** Between the user's middleware and the static handler: SPA, rewrites, clean URLs, headers. */
  readonly inner: readonly Middleware[];
  /** What is on, for the banner: `["spa", "cors"]`. */
  readonly active: readonly string[];
  /** Whether authentication is on (serve() refuses it without TLS off loopback). */
  readonly auth: boolean;
  /** The authentication middleware itself, when on: uploads check writes with it (src/features/upload). */
  readonly authGate?: Middleware | undefined;
  /** The secret path prefix (without slashes), when on. */
  readonly secretPath: string | undefined;
}

/** Checks the feature options and builds their middleware; throws {@link OptionError}. */
export function buildFeatures(o: FeatureOptions): Features {
  const outer: Middleware[] = [];
  const inner: Middleware[] = [];
  const active: string[] = [];

  const secret = secretPathOf(o.secretPath);
  if (secret !== undefined) {
    outer.push(secretPath(secret));
    active.push("secret path");
  }

  if (o.cors !== undefined && o.cors !== false) {
    outer.push(cors(o.cors));
    active.push("cors");
  }

  let authGate: Middleware | undefined;
  const authOption = o.auth;
  if (authOption !== undefined || o.authFile !== undefined) {
    if (o.authFile !== undefined && (typeof o.authFile !== "string" || o.authFile === ""))
      throw new OptionError("authFile", "must be the path of an htpasswd file");
    let options: AuthOptions;
    if (authOption === undefined) options = {};
    else if (typeof authOption === "string") options = { users: [authOption] };
    else if (Array.isArray(authOption)) options = { users: authOption as readonly string[] };
    else if (typeof authOption === "object" && authOption !== null) options = authOption as AuthOptions;
    else throw new OptionError("auth", 'must be "user:password", a list of them, or { users, file, realm }');
    const file = o.authFile ?? options.file;
    authGate = basicAuth({ ...options, ...(file === undefined ? {} : { file }) });
    outer.push(authGate);
    active.push("auth");
  }

  const trailingSlash = o.trailingSlash;
  if (trailingSlash !== undefined && trailingSlash !== "always" && trailingSlash !== "never") {
    throw new OptionError("trailingSlash", 'must be "always" or "never"');
  }
  const clean = o.cleanUrls ?? false;
  if (typeof clean !== "boolean" && !(Array.isArray(clean) && clean.every((g) => typeof g === "string" && g !== ""))) {
    throw new OptionError("cleanUrls", "must be true, false or a list of globs");
  }
  const redirectRules = listOption<RedirectRule>("redirects", o.redirects);
  if (redirectRules.length > 0 || clean !== false || trailingSlash !== undefined) {
    outer.push(redirects({ rules: redirectRules, cleanUrls: clean, trailingSlash }));
    if (redirectRules.length > 0) active.push("redirects");
  }

  if (o.notFound !== undefined && o.notFound !== false) {
    outer.push(errorPages({ notFound: o.notFound }));
    active.push("404 page");
  }

  const single = o.single ?? false;
  if (typeof single !== "boolean" && typeof single !== "string") throw new OptionError("single", "must be true, false or a file name");
  if (single !== false) {
    inner.push(spa({ file: single === true ? "index.html" : single }));
    active.push("spa");
  }
  const rewriteRules = listOption<RewriteRule>("rewrites", o.rewrites);
  if (rewriteRules.length > 0) {
    inner.push(rewrites(rewriteRules));
    active.push("rewrites");
  }
  if (clean !== false) {
    inner.push(cleanUrls(clean));
    active.push("clean URLs");
  }
  if (trailingSlash !== undefined) active.push(`trailing slash ${trailingSlash}`);
  if (trailingSlash === "never") inner.push(directoryWithoutSlash());

  const headerRules = [...listOption<HeaderRule>("headers", o.headers)];
  if (headerRules.length > 0) active.push("headers");
  if (booleanOption("coopCoep", o.coopCoep, false)) {
    headerRules.push({ source: "**", headers: COOP_COEP });
    active.push("cross-origin isolation");
  }
  if (headerRules.length > 0) inner.push(headers(headerRules));

  return { outer, inner, active, auth: active.includes("auth"), authGate, secretPath: secret };
}
