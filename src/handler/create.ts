/**
 * The public handler: the static file handler wrapped by the user's middleware,
 * offered as a Node listener, as Connect/Express middleware and as a Fetch handler.
 */

import { type Stats, statSync } from "node:fs";
import { bodyInMemory, prepare } from "../adapters/body.js";
import { fetchResponse } from "../adapters/fetch.js";
import { mountedLocation, mountOf } from "../adapters/mount.js";
import { answerFailure, fromNodeRequest, type NodeRequest, type NodeResponse, writeReady, writeReply } from "../adapters/node.js";
import { closeWithConnection } from "../adapters/queued.js";
import { compose } from "../core/compose.js";
import { copyWith } from "../core/copy.js";
import { empty, errorReply } from "../core/reply.js";
import { escapeLogField } from "../core/text.js";
import type { Reply, WharfRequest } from "../core/types.js";
import { authMiddleware, verifier } from "../features/auth.js";
import { buildFeatures, type Features } from "../features/index.js";
import type { LiveSite } from "../features/live/index.js";
import { uploads } from "../features/upload/index.js";
import type { FileSystem } from "../fs/types.js";
import type { ClientAddressFn } from "../http/forwarded.js";
import { canonicalRules } from "../responders/hidden-files.js";
import { type ErrorReporter, type HandlerCaches, staticFiles } from "../responders/static.js";
import { explainer } from "./explain.js";
import { OptionError, type ResolvedOptions, resolveOptions, type StaticOptions } from "./options.js";

/** A Connect/Express `next`. */
export type NextFunction = (error?: unknown) => void;

/** The static handler in every shape a Node or web server wants. */
export interface WharfHandler {
  /**
   * A Node `(req, res)` request listener for `node:http`, `node:https` and
   * `node:http2` (its compatibility API), and Connect/Express middleware when
   * called with `next` (misses then fall through to `next()`; see `fallthrough`).
   */
  (req: NodeRequest, res: NodeResponse, next?: NextFunction): void;
  /** A web-standard handler: `Request` in, `Response` out. */
  fetch(request: Request): Promise<Response>;
  /** The runtime-neutral core: a {@link WharfRequest} in, a {@link Reply} out. */
  handle(req: WharfRequest): Promise<Reply>;
  /**
   * The Node listener again. Connect takes any middleware with a `handle` method
   * for a sub-app and calls `handle(req, res, next)`; called with a response,
   * `handle` is the listener, so the handler works in `connect().use()` too.
   */
  handle(req: NodeRequest, res: NodeResponse, next?: NextFunction): void;
  /**
   * With `live`: tells open pages that these files changed (paths absolute or
   * relative to the root, or URL paths), as the watcher does; for build tools
   * that know before the file system says. Batched like the watcher's changes.
   * Without `live`, does nothing.
   */
  notify(paths: readonly string[]): void;
  /**
   * Stops what the handler runs besides answering: with `live`, the watcher, and
   * every event stream gets a last event and ends. Without `live`, does nothing.
   */
  close(): void;
  /**
   * With `live`: settles once the whole tree is watched (or polled once), with how
   * and how many directories; changes made before may be missed. Without `live`,
   * `undefined` at once.
   */
  readonly watching: Promise<{ readonly mode: "watch" | "poll"; readonly directories: number } | undefined>;
}

/** Throws {@link OptionError} when `root` is not a directory on disk (checked once, at construction). */
function checkRootDirectory(root: string): void {
  let stat: Stats;
  try {
    stat = statSync(root);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new OptionError("root", code === "ENOENT" ? `directory not found: ${root}` : `directory not readable: ${root}`);
  }
  if (!stat.isDirectory()) throw new OptionError("root", `not a directory: ${root}`);
}

/** Logs an unexpected error as one line on stderr, without leaking it to the client. */
export const defaultReporter: ErrorReporter = (error, req) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `wharf: internal error on ${escapeLogField(req.method)} ${escapeLogField(req.target)}: ${escapeLogField(message)}\n`,
  );
};

/**
 * Builds the static handler. Options are validated here, once; a bad option
 * throws an {@link import("./options.js").OptionError}.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createHandler } from "wharf-server";
 * createServer(createHandler({ root: "public" })).listen(8000);
 * // or HTTP/2: http2.createSecureServer({ cert, key, allowHTTP1: true }, createHandler(...))
 * ```
 */
export function createHandler(options: StaticOptions = {}, report: ErrorReporter = defaultReporter): WharfHandler {
  const resolved = resolveOptions(options);
  const features = buildFeatures(options, undefined, liveSite(resolved));
  // As serve() does: a root that is not there fails now, not as a 404 on every request.
  if (options?.fs === undefined) checkRootDirectory(resolved.root);
  return createHandlerFromResolved(resolved, features, report).handler;
}

/** What live reload needs of the resolved options (internal; serve() adds the certificate's names). */
export function liveSite(resolved: ResolvedOptions, certificateNames: readonly string[] = []): LiveSite {
  return { root: resolved.root, fs: resolved.fs, dotfiles: resolved.dotfiles, compression: resolved.compression, certificateNames };
}

/** What {@link createHandlerFromResolved} built: the handler, and the features it serves with. */
export interface BuiltHandler {
  readonly handler: WharfHandler;
  /** The features of this very handler, for serve()'s banner and its auth-without-TLS check. */
  readonly features: Features;
  /** Settles once no upload is in progress (features/upload `settled`); at once without uploads. */
  readonly uploadsSettled: () => Promise<void>;
}

/**
 * The handler from options already resolved and features already built (internal:
 * serve() resolves and builds once, so the htpasswd file is read once and the
 * banner describes the handler that answers). The root is not checked here; the
 * caller has.
 */
export function createHandlerFromResolved(
  resolved: ResolvedOptions,
  features: Features,
  report: ErrorReporter = defaultReporter,
  caches?: (c: HandlerCaches) => void,
): BuiltHandler {
  // The features' middleware (src/features/index.ts explains the order) around the
  // user's, built once; with no feature on, this is `use` and the static handler alone.
  const { outer, inner } = features;
  // Explanations (./explain.ts) where the last miss is known, off the way to a
  // 200: from the outermost feature that may still replace a miss (the SPA
  // fallback, rewrites, clean URLs) as it gives up; with none of them, from the
  // static handler's own 404. Its 400 no feature replaces: explained there.
  const explain = explainer(resolved, features, resolved.explain);
  const byFeatures = explain !== undefined && features.finishMisses((req, reply) => explain(req, reply) ?? reply);
  // Uploads, when on, outside every feature but the gates (the secret path, the
  // Host allow-list, the live routes; features/upload/index.ts says why): a write
  // must know the secret as a read must, a rebound page's Host is refused for
  // writes too, and a write sees the path without the secret.
  const uploading = resolved.uploads === undefined ? undefined : uploadMiddleware(resolved, features);
  const upload = uploading === undefined ? [] : [uploading];
  const gates = features.gates;
  const middleware = [...outer.slice(0, gates), ...upload, ...outer.slice(gates), ...resolved.use, ...inner];
  const files = staticFiles(resolved, report, { caches, ...(explain === undefined ? {} : { explain, explainMisses: !byFeatures }) });
  const chain = compose(middleware, files);
  const { fs, fallthrough } = resolved;

  // The chain answers in the same tick when every step does (compose.ts): a
  // request the static handler can answer from memory, through middleware that
  // returns or maps `next()`, is written with no promise at all. Middleware that
  // awaits makes it a promise; nothing else does.
  // No error escapes: an exception in a handler is logged and answered with 500.
  const start = (req: WharfRequest): Reply | Promise<Reply> => {
    try {
      const reply = chain(req);
      return reply instanceof Promise ? reply.catch((error: unknown) => failed(error, req)) : reply;
    } catch (error) {
      return failed(error, req);
    }
  };
  const failed = (error: unknown, req: WharfRequest): Reply => {
    report(error, req);
    return errorReply(500);
  };
  const handle = async (req: WharfRequest): Promise<Reply> => start(req);

  const listener = chainListener(start, handle, fs, fallthrough, report, resolved.uploads !== undefined, resolved.clientAddress);
  function both(req: WharfRequest): Promise<Reply>;
  function both(req: NodeRequest, res: NodeResponse, next?: NextFunction): void;
  function both(req: WharfRequest | NodeRequest, res?: NodeResponse, next?: NextFunction): Promise<Reply> | undefined {
    // Only the listener is ever given a response: Connect's sub-app call.
    if (res !== undefined) {
      listener(req as NodeRequest, res, next);
      return undefined;
    }
    return handle(req as WharfRequest);
  }
  const handler = Object.assign(listener, {
    fetch: (request: Request) => fetchResponse(handle, fs, request),
    handle: both,
    notify: (paths: readonly string[]) => features.live.notify(paths),
    close: () => features.live.close(),
    watching: features.live.ready,
  });
  return { handler, features, uploadsSettled: () => uploading?.settled() ?? Promise.resolve() };
}

/**
 * The upload middleware of `resolved` (which has uploads on). Writes are checked
 * with the `uploadAuth` accounts when there are any (reads stay as they are),
 * else with the handler's authentication, if on.
 */
function uploadMiddleware(resolved: ResolvedOptions, features: Features) {
  const settings = resolved.uploads!;
  const gate = settings.accounts.length > 0 ? authMiddleware(verifier(settings.accounts, new Map()), "wharf uploads") : features.authGate;
  let rules: ReturnType<typeof canonicalRules> | undefined;
  return uploads(settings, {
    rules: () =>
      (rules ??= canonicalRules({
        root: resolved.root,
        fs: resolved.fs,
        dotfiles: resolved.dotfiles,
        symlinks: resolved.symlinks,
        hiddenFiles: resolved.hiddenFiles,
      })),
    hashLimit: resolved.hashLimit,
    gate,
    hosts: features.live.hosts,
  });
}

/**
 * The Node `(req, res[, next])` listener around the chain: a reply ready in memory
 * is written in the same tick; anything else is prepared (files opened and
 * checked, adapters/body.ts) and written, or, mounted with `next` and
 * `fallthrough`, a miss goes on to `next()`.
 */
function chainListener(
  start: (req: WharfRequest) => Reply | Promise<Reply>,
  handle: (req: WharfRequest) => Promise<Reply>,
  fs: FileSystem,
  fallthrough: boolean,
  report: ErrorReporter,
  withBody: boolean,
  client: ClientAddressFn | undefined,
): (req: NodeRequest, res: NodeResponse, next?: NextFunction) => void {
  return (req, res, next) => {
    let request = fromNodeRequest(req, withBody, client);
    // A pipelined request whose connection closes before its turn: see queued.ts.
    closeWithConnection(res);
    // Express and Connect mount points (mount.ts); a plain server has no originalUrl.
    const originalUrl = (req as { originalUrl?: unknown }).originalUrl;
    let base: string | undefined;
    if (originalUrl !== undefined) {
      const mount = mountOf(req.url ?? "/", originalUrl, (req as { baseUrl?: unknown }).baseUrl);
      if (mount.kind === "bare" && (request.method === "GET" || request.method === "HEAD")) {
        // `GET /static` answered with the index would resolve its relative links
        // against `/`; like express.static, send the browser to `/static/` first.
        writeReady(res, empty(301, { location: `${mount.base}/${request.search}`, "content-length": "0" }), undefined);
        return;
      }
      if (mount.kind !== "root") {
        base = mount.base;
        // For URLs a reply writes into its body (an upload's); Location is rebased below.
        request = copyWith(request, "base", base);
      }
    }
    const first = start(request);
    if (!(first instanceof Promise) && !(next !== undefined && fallthrough && first.miss === true)) {
      const body = bodyInMemory(first, request);
      if (body !== false) {
        try {
          writeReady(res, base === undefined ? first : rebased(first, base), body);
        } catch (error) {
          report(error, request);
          res.destroy();
        }
        return;
      }
    }
    prepare(handle, request, fs, first)
      .then(async (prepared) => {
        if (next !== undefined && fallthrough && prepared.reply.miss === true) {
          if (prepared.body !== undefined && !(prepared.body instanceof Uint8Array)) await prepared.body.close();
          next();
          return;
        }
        await writeReply(res, base === undefined ? prepared : { ...prepared, reply: rebased(prepared.reply, base) });
      })
      // Only opening a file can fail here (the chain itself never throws).
      .catch((error: unknown) => answerFailure(res, error, request, fs, report));
  };
}

/**
 * A Location as seen from outside the mount point `base` (mount.ts): a redirect's,
 * and an upload's 201 (RFC 9110 §10.2.2: the new resource); other replies as they are.
 */
function rebased(reply: Reply, base: string): Reply {
  const location = reply.headers["location"];
  if (location === undefined) return reply;
  // Replies may be shared (cached): copy, never change them.
  return { ...reply, headers: { ...reply.headers, location: mountedLocation(location, base) } };
}
