/**
 * The features for serving real apps, assembled once from the options into two
 * lists of middleware around the user's own (`use`) and the static handler:
 *
 *     secret path → allowed hosts → live → [uploads] → cors → auth → redirects → 404 page → [use]
 *          → spa → rewrites → clean URLs → directory without slash → headers → static
 *
 * (Uploads, src/features/upload, are added by createHandler right after the gates:
 * the secret path, the Host allow-list and the live routes.)
 *
 * Why this order:
 * - The secret path first: a path without it is a 404 before anything else can
 *   answer (a 401 or a CORS preflight would tell that something is there).
 * - CORS first: a preflight carries no credentials, so it must be answered before
 *   authentication; and every reply, a 401 or a 404 included, needs the CORS
 *   headers or the page cannot read it.
 * - Auth before anything that reveals what exists (redirects, 404 pages, files).
 *   The live routes come before CORS (they never carry its headers) but pass
 *   the same authentication: they call it themselves (live/middleware.ts).
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
import type { Finish, Trace } from "../core/trace.js";
import type { Middleware } from "../core/types.js";
import { booleanOption, listOption } from "../core/validate.js";
import { type AuthOptions, basicAuth } from "./auth.js";
import { type CleanUrls, cleanUrls } from "./clean-urls.js";
import { type CorsOptions, cors } from "./cors.js";
import { errorPages } from "./error-pages.js";
import { COOP_COEP, type HeaderRule, headers } from "./headers.js";
import { buildLive, type Live, type LiveSite } from "./live/index.js";
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
  /**
   * Live reload (`--live`): pages served get a small same-origin script that
   * reloads them, or swaps their stylesheets, when a file under the root changes
   * (docs/features.md). Turns on {@link allowedHosts}' check. Build tools can push
   * changes with the handler's `notify(paths)`; `close()` stops watching.
   * @default false
   */
  readonly live?: boolean;
  /**
   * Globs (relative to the root) of paths live reload does not watch
   * (`--live-ignore GLOB`, repeatable), beside dotfiles (unless served) and
   * `node_modules`.
   * @default []
   */
  readonly liveIgnore?: readonly string[];
  /**
   * Poll the tree every this many milliseconds (50 or more) instead of watching
   * it (`--live-poll MS`): for network and WSL drives, where change events never
   * come. `0` watches.
   * @default 0
   */
  readonly livePoll?: number;
  /**
   * The host names this server answers to (`--allowed-hosts LIST`); any other
   * `Host` gets 403, a malformed one 400 (against DNS rebinding). Always allowed:
   * `localhost`, `*.localhost`, IP addresses, this machine's name and, with
   * `serve()`, the names of its certificate. `*.example.com` allows subdomains,
   * `"all"` turns the check off. Unset, the check is on only with {@link live}.
   * @default undefined
   */
  readonly allowedHosts?: readonly string[];
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
  /**
   * How many of {@link outer} come first, before anything else may answer: the
   * secret path, the Host allow-list and the live routes. Uploads go right after them.
   */
  readonly gates: number;
  /**
   * The same features built again to write their decisions to `trace`
   * (handler/explain.ts), without the secret path, CORS and authentication:
   * they decide who may ask, not what a path leads to.
   */
  traced(trace: Trace): Features;
  /**
   * Has `finish` called with what the outermost step that may replace a miss
   * (SPA, rewrites, clean URLs) answers after a miss, and says whether there is
   * such a step (without one, the static handler's miss is the last). Set once,
   * when the handler is built (explanations, handler/explain.ts).
   */
  finishMisses(finish: Finish): boolean;
  /** Live reload (src/features/live): its controls; inert when off. */
  readonly live: Live;
}

/**
 * Checks the feature options and builds their middleware; throws {@link OptionError}.
 * With `trace`, each feature writes its decisions there: only a chain built for
 * tracing (handler/explain.ts) passes one. `site` (the resolved root, file
 * system, dotfile policy) is needed by live reload only.
 */
export function buildFeatures(o: FeatureOptions, trace?: Trace, site?: LiveSite): Features {
  const outer: Middleware[] = [];
  const inner: Middleware[] = [];
  const active: string[] = [];
  // The last miss goes to `finish` (set by finishMisses) from the outermost step
  // that may replace one: the only one whose miss nothing else replaces.
  let finish: Finish | undefined;
  let finishing = false;
  const lastStep = (): Finish | undefined => {
    if (trace !== undefined || finishing) return undefined;
    finishing = true;
    return (req, reply) => (finish === undefined ? reply : finish(req, reply));
  };

  const secret = secretPathOf(o.secretPath);
  if (secret !== undefined) {
    outer.push(secretPath(secret));
    active.push("secret path");
  }

  // Built first: the live routes are answered before CORS, but behind authentication too.
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
  }

  // Outermost: the Host allow-list, then the live routes, before CORS so that
  // they never carry its headers (a page of another origin must not read them).
  if (o.live !== undefined && o.live !== false && site === undefined) throw new OptionError("live", "needs the handler's root");
  // The event stream names changed stylesheets, and its script lives at
  // /__wharf/: under a secret path it would tell anyone what is shared.
  if (o.live === true && secret !== undefined)
    throw new OptionError("live", "cannot be combined with secretPath (wharf share): live reload is for the machine you edit on");
  const live = buildLive(o, site ?? { root: ".", fs: undefined as never, dotfiles: "ignore", compression: false }, authGate);
  outer.push(...live.middleware);
  if (live.middleware.length > 0 && !live.on) active.push("allowed hosts");
  if (live.on) active.push("live reload");
  const gates = outer.length;

  if (o.cors !== undefined && o.cors !== false) {
    outer.push(cors(o.cors));
    active.push("cors");
  }

  if (authGate !== undefined) {
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
    outer.push(redirects({ rules: redirectRules, cleanUrls: clean, trailingSlash }, trace));
    if (redirectRules.length > 0) active.push("redirects");
  }

  if (o.notFound !== undefined && o.notFound !== false) {
    outer.push(errorPages({ notFound: o.notFound }, trace));
    active.push("404 page");
  }

  const single = o.single ?? false;
  if (typeof single !== "boolean" && typeof single !== "string") throw new OptionError("single", "must be true, false or a file name");
  if (single !== false) {
    inner.push(spa({ file: single === true ? "index.html" : single }, trace, lastStep()));
    active.push("spa");
  }
  const rewriteRules = listOption<RewriteRule>("rewrites", o.rewrites);
  if (rewriteRules.length > 0) {
    inner.push(rewrites(rewriteRules, trace, lastStep()));
    active.push("rewrites");
  }
  if (clean !== false) {
    inner.push(cleanUrls(clean, trace, lastStep()));
    active.push("clean URLs");
  }
  if (trailingSlash !== undefined) active.push(`trailing slash ${trailingSlash}`);
  if (trailingSlash === "never") inner.push(directoryWithoutSlash(trace));

  const headerRules = [...listOption<HeaderRule>("headers", o.headers)];
  if (headerRules.length > 0) active.push("headers");
  if (booleanOption("coopCoep", o.coopCoep, false)) {
    headerRules.push({ source: "**", headers: COOP_COEP });
    active.push("cross-origin isolation");
  }
  if (headerRules.length > 0) inner.push(headers(headerRules));

  // Who may ask (the secret path, CORS, authentication) is not what a path leads
  // to, and the traced chain serves one request: no live reload (no second watcher).
  const {
    cors: _cors,
    auth: _auth,
    authFile: _authFile,
    secretPath: _secret,
    live: _live,
    liveIgnore: _liveIgnore,
    livePoll: _livePoll,
    allowedHosts: _allowedHosts,
    ...paths
  } = o;
  return {
    outer,
    inner,
    active,
    auth: active.includes("auth"),
    authGate,
    secretPath: secret,
    live,
    gates,
    traced: (sink) => buildFeatures(paths, sink),
    finishMisses(hook) {
      finish = hook;
      return finishing;
    },
  };
}
