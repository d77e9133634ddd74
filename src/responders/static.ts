/**
 * The static handler: resolves the request path (resolver.ts, cached by
 * resources.ts until a watched directory changes or `revalidateMs` passes, so a
 * hot URL is a map lookup), picks the coding
 * (RFC 9110 §12.5.3) and answers from the chosen variant, whose replies were
 * built once — only `If-*` and `Range` requests are evaluated per request.
 */

import { sameFile } from "../core/identity.js";
import { empty, errorReply, MISS_404, missReply } from "../core/reply.js";
import type { Trace } from "../core/trace.js";
import type { Middleware, Reply, WharfRequest } from "../core/types.js";
import type { FileSystem } from "../fs/types.js";
import { DirectoryWatcher } from "../fs/watch.js";
import { type Encoding, type EncodingChoice, negotiateEncoding } from "../http/negotiate.js";
import { canonicalPathname } from "../path/resolve.js";
import { archiveRoute } from "./archive/route.js";
import type { StaticFilesOptions } from "./config.js";
import { withDigests } from "./digest-reply.js";
import { statusForError } from "./errors.js";
import { type Contents, FileContentsCache } from "./file-contents.js";
import type { DiskFile } from "./file-variants.js";
import { BAD_PATH_400, createResolver, TransientError, traceBadPath } from "./resolver.js";
import { type CacheCounts, CountingResourceCache, type Resource, ResourceCache } from "./resources.js";
import type { Variant } from "./variant.js";
import { variantReply } from "./variant-reply.js";

/** The methods a static resource supports (RFC 9110 §9.3). */
export const ALLOW = "GET, HEAD, OPTIONS";

/** Called with errors that are not the client's fault (a 500), for logging. */
export type ErrorReporter = (error: unknown, req: WharfRequest) => void;

/** The request fields besides If-None-Match that make a reply conditional or partial. */
const OTHER_CONDITIONAL = ["if-match", "if-modified-since", "if-unmodified-since", "range"] as const;

/**
 * Negotiation outcomes by offer, then by Accept-Encoding value: a browser sends the
 * same header on every request, so it is parsed once, not per request. Offers are
 * the arrays the resources hold, so the lookup builds no key; there are at most
 * 2^3 of them (encoders.ts `offerOf`).
 *
 * Bounded in bytes: only values up to {@link MEMO_HEADER_LENGTH} characters are
 * keys (a browser's is under 40), at most 100 per offer, so the memo stays under
 * 8 × 100 × 512 bytes = 400 KiB. A longer value is a probe, not a browser: it is
 * parsed each time, which the parser bounds (32 elements).
 */
const choices = new WeakMap<readonly Encoding[], Map<string, EncodingChoice>>();
const MEMO_HEADER_LENGTH = 256;
const IDENTITY: EncodingChoice = { kind: "identity" };
function choose(header: string | undefined, offered: readonly Encoding[]): EncodingChoice {
  if (header === undefined) return IDENTITY;
  if (header.length > MEMO_HEADER_LENGTH) return negotiateEncoding(header, offered);
  let byHeader = choices.get(offered);
  if (byHeader === undefined) choices.set(offered, (byHeader = new Map()));
  let choice = byHeader.get(header);
  if (choice === undefined) {
    choice = negotiateEncoding(header, offered);
    if (byHeader.size >= 100) byHeader.clear(); // arbitrary headers cannot grow it without bound
    byHeader.set(header, choice);
  }
  return choice;
}

/**
 * Turns the static handler's own 404 miss or 400 into one that says why, for a
 * client that gets explanations (handler/explain.ts); `undefined` leaves the
 * reply as it is. Called only with those replies, never on the way to a 200.
 */
export type Explain = (req: WharfRequest, reply: Reply) => Promise<Reply> | undefined;

/** What a handler built for tracing, or explaining, adds to the static handler. */
export interface StaticHooks {
  /** Every decision is written here (a chain built for tracing, handler/explain.ts). */
  readonly trace?: Trace;
  /** Explains this handler's own 400s, and its 404s with {@link explainMisses}. */
  readonly explain?: Explain;
  /** Whether this handler's 404 is the last miss (no feature may still replace it). */
  readonly explainMisses?: boolean;
  /** `--metrics`: the caches count their lookups and are handed here, once. */
  readonly caches?: ((c: HandlerCaches) => void) | undefined;
}

/** The variant of the negotiated coding (RFC 9110 §12.5.3), else identity; maybe still being made. */
function codedVariant(req: WharfRequest, resource: Resource & { kind: "representations" }): Variant | Promise<Variant> {
  if (resource.offered.length === 0) return resource.identity;
  const choice = choose(req.header("accept-encoding"), resource.offered);
  return choice.kind === "encoded" ? resource.variant(choice.encoding) : resource.identity;
}

// Ranges are served against the representation sent; a stream compressed on the
// fly has no known length, so a Range request gets the identity.
const rangeable = (req: WharfRequest, resource: Resource & { kind: "representations" }, variant: Variant): Variant =>
  variant.size !== undefined || req.header("range") === undefined ? variant : resource.identity;

// Files not held in memory will be read from disk: check on every request that they
// are still what the cached headers describe (a stat is cheap next to the bytes).
async function unchanged(fs: FileSystem, files: readonly DiskFile[]): Promise<boolean> {
  for (const { real, stat } of files) {
    const now = await fs.stat(real).catch(() => undefined);
    if (now === undefined || !sameFile(now, stat)) return false;
  }
  return true;
}

/** The handler's two caches, for `--metrics`: what they weigh now and how their lookups went. */
export interface HandlerCaches {
  /** Resolved URLs (resources.ts). */
  readonly resources: { readonly bytes: number } & CacheCounts;
  /** File tags and bodies (file-contents.ts). */
  readonly contents: { readonly bytes: number; readonly metadataBytes: number } & CacheCounts;
}

/**
 * Builds the static handler from resolved options. With `hooks.caches`, its caches
 * count their lookups and are handed to it (decided here, once: without it nothing counts).
 */
export function staticFiles(options: StaticFilesOptions, report: ErrorReporter, hooks: StaticHooks = {}): Middleware {
  const { fs } = options;
  const { trace } = hooks;
  // Decided once: which of this handler's refusals to explain (the 400 always, the 404 unless a feature still may replace it).
  const ask = hooks.explain;
  const explainMisses = hooks.explainMisses === true;
  const explain: Explain | undefined =
    ask === undefined ? undefined : (req, reply) => (reply === BAD_PATH_400 || explainMisses ? ask(req, reply) : undefined);
  // Two budgets (docs/design.md, "Memory"): bodies within cacheBytes, owned by the
  // contents cache; resolved URLs within RESOLVED_BYTES, which hold a body only
  // while the contents cache does (a dropped body drops the entries built on it).
  // Watches only where the file system has them and entries are kept at all.
  const watch = fs.watch?.bind(fs);
  const watcher = watch !== undefined && options.revalidateMs > 0 ? new DirectoryWatcher(watch) : undefined;
  const cacheOptions = { isHeld: (owner: object) => contents.holds(owner as Contents), watcher };
  const resources =
    hooks.caches === undefined
      ? new ResourceCache(options.revalidateMs, cacheOptions)
      : new CountingResourceCache(options.revalidateMs, cacheOptions);
  const contents = new FileContentsCache(
    fs,
    { hashLimit: options.hashLimit, maxFileBytes: options.cacheFileBytes, maxBytes: options.cacheBytes, digests: options.digest },
    (dropped) => resources.release(dropped),
  );
  if (hooks.caches !== undefined) hooks.caches({ resources: resources as CountingResourceCache, contents });
  const resolve = createResolver(options, contents, trace);

  /**
   * The reply for a resource that does not depend on the coding. Only 404s,
   * 400s, 403s and redirects come here, never a file: with `explain`, the
   * 404 miss and the 400 may be explained; without, nothing changes.
   */
  const fixedReply =
    explain === undefined
      ? (req: WharfRequest, resource: Resource & { kind: "reply" | "redirect" }): Reply => {
          if (resource.kind === "reply") return resource.reply;
          return empty(301, { location: resource.location + req.search, "content-length": "0" });
        }
      : (req: WharfRequest, resource: Resource & { kind: "reply" | "redirect" }): Reply | Promise<Reply> => {
          if (resource.kind === "reply") return explain(req, resource.reply) ?? resource.reply;
          return empty(301, { location: resource.location + req.search, "content-length": "0" });
        };
  /** A 404 or 400 decided here outside the resolver, explained like the resolver's. */
  const refused = (req: WharfRequest, reply: Reply): Reply | Promise<Reply> =>
    explain === undefined ? reply : (explain(req, reply) ?? reply);
  // Cached replies are returned as they are, to every request: a Reply is
  // read-only (core/types.ts), so middleware that changes one makes a new one.

  /** The reply to `req` from a variant: the one place request headers matter. */
  function replyFrom(req: WharfRequest, variant: Variant): Reply {
    // The common cases, decided without parsing anything: the 200 built once, and
    // the 304 for a browser revalidating with exactly our ETag (If-None-Match alone,
    // so no other precondition or Range applies). A loop rather than `some` with
    // a closure: this runs for every cached request.
    for (let i = 0; i < OTHER_CONDITIONAL.length; i++) {
      if (req.header(OTHER_CONDITIONAL[i]!) !== undefined) return variantReply(req, variant, options.maxRanges);
    }
    const ifNoneMatch = req.header("if-none-match");
    if (ifNoneMatch === undefined) return variant.ok;
    if (ifNoneMatch === variant.notModified.headers["etag"]) return variant.notModified;
    return variantReply(req, variant, options.maxRanges);
  }

  // Decided once: with `digest` off, a reply is exactly replyFrom's; on, the
  // Want-* fields adjust it (digest-reply.ts).
  const answer = options.digest
    ? (req: WharfRequest, variant: Variant): Reply => withDigests(req, variant, replyFrom(req, variant))
    : replyFrom;

  /**
   * The reply from a fresh cached resource without any await, or `undefined` when
   * something must be waited for (a stat for a file read from disk, a variant
   * still being compressed). Most requests end here, in the same tick.
   */
  function quickReply(req: WharfRequest, cached: Resource): Reply | Promise<Reply> | undefined {
    const resource = cached.kind === "listing" ? cached.select(req) : cached;
    if (resource instanceof Promise) return undefined;
    if (resource.kind !== "representations") return fixedReply(req, resource);
    if (resource.onDisk.length > 0) return undefined;
    const variant = codedVariant(req, resource);
    return variant instanceof Promise ? undefined : answer(req, rangeable(req, resource, variant));
  }

  async function replyFor(req: WharfRequest, found: Resource): Promise<Reply> {
    const resource = found.kind === "listing" ? await found.select(req) : found;
    if (resource.kind !== "representations") return fixedReply(req, resource);
    return answer(req, rangeable(req, resource, await codedVariant(req, resource)));
  }

  const slow = async (req: WharfRequest): Promise<Reply> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      // RFC 9110 §9.3.7: OPTIONS answers what the resource allows, with no body.
      if (req.method === "OPTIONS") return empty(204, { allow: ALLOW });
      // §15.5.6: a 405 must say what is allowed. Nothing is ever written to disk.
      return missReply(405, { allow: ALLOW });
    }
    // Keyed by what the path means: every spelling of one file is one entry.
    const key = canonicalPathname(req.pathname);
    if (key === undefined) {
      if (trace !== undefined) traceBadPath(trace, req.pathname);
      return refused(req, BAD_PATH_400);
    }
    if (key !== req.pathname) resources.alias(req.pathname, key);
    trace?.step("decode", key === req.pathname ? key : `${req.pathname} -> ${key}`);
    try {
      let resource = await resources.get(key, (pins) => resolve(key, pins));
      if (resource.kind === "representations" && resource.onDisk.length > 0 && !(await unchanged(fs, resource.onDisk))) {
        resources.invalidate(key);
        resource = await resources.get(key, (pins) => resolve(key, pins));
      }
      return await replyFor(req, resource);
    } catch (error) {
      const status = error instanceof TransientError ? error.status : statusForError(error);
      if (status === 500) report(error, req);
      if (status === 404) return refused(req, MISS_404);
      return errorReply(status, status === 503 ? { "retry-after": "1" } : {});
    }
  };

  // `?download=zip|tar` on a directory, when archives are on (./archive/); anything
  // else it declines is answered below as if the query were not there.
  const archive = options.archive.length > 0 ? archiveRoute(options) : undefined;

  return (req) => {
    if (archive !== undefined && req.search.includes("download=")) return archive(req).then((reply) => reply ?? slow(req));
    if (req.method === "GET" || req.method === "HEAD") {
      const cached = resources.peek(req.pathname);
      const quick = cached === undefined ? undefined : quickReply(req, cached);
      if (quick !== undefined) return quick;
    }
    return slow(req);
  };
}
