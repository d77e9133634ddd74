/**
 * Options of the static handler, their defaults, and their validation. Options are
 * validated once, at construction, so that a mistake fails fast with a clear,
 * coded error instead of surfacing on the first request.
 */
import { resolve } from "node:path";
import { OptionError } from "../core/errors.js";
import { globMatcher } from "../core/glob.js";
import { closest } from "../core/suggest.js";
import type { Middleware } from "../core/types.js";
import { booleanOption, wholeOption } from "../core/validate.js";
import type { FeatureOptions } from "../features/index.js";
import { type UploadOptions, type UploadSettings, uploadSettings } from "../features/upload/rules.js";
import { nodeFileSystem } from "../fs/node.js";
import type { FileSystem } from "../fs/types.js";
import { type CachePolicy, type CacheRule, cachePolicy } from "../http/cache-policy.js";
import { type ClientAddressFn, clientAddressOf, proxyTrust } from "../http/forwarded.js";
import type { DotfilePolicy, SymlinkPolicy } from "../path/visibility.js";
import { ARCHIVE_FORMATS, type ArchiveFormat } from "../responders/archive/route.js";
import type { StaticFilesOptions } from "../responders/config.js";
import {
  DEFAULT_PAGE_SIZE,
  FORMATS,
  type Format,
  DEFAULTS as LISTING_DEFAULTS,
  MAX_LIMIT,
  type Order,
  type SortKey,
} from "../responders/listing/query.js";
import type { ListingSettings } from "../responders/listing/resource.js";

export type { DotfilePolicy, SymlinkPolicy };

/**
 * Options of {@link createHandler} and {@link staticFiles}; the app features
 * (SPA, clean URLs, CORS, headers, redirects, auth) are documented on
 * {@link FeatureOptions}.
 */
export interface StaticOptions extends FeatureOptions, UploadOptions {
  /**
   * The directory to serve.
   * @default process.cwd()
   */
  readonly root?: string;
  /**
   * Dotfiles and dot-directories (`.env`, `.git/`). `/.well-known/` (RFC 8615) is
   * always served.
   * @default "ignore"
   */
  readonly dotfiles?: DotfilePolicy;
  /**
   * Symlinks are resolved before the containment check; one leading out of the
   * root answers 404 unless this is `"follow"`.
   * @default "inside-root"
   */
  readonly symlinks?: SymlinkPolicy;
  /**
   * File names tried, in order, when a directory is requested.
   * @default ["index.html", "index.htm"]
   */
  readonly index?: readonly string[];
  /**
   * List a directory without an index file (HTML, JSON or text, sorted, filtered
   * and paged: docs/features.md, "Directory listings"); `true` for the defaults,
   * an object to choose; when `false` such a directory answers 404.
   * @default true
   */
  readonly listing?: boolean | ListingOptions;
  /**
   * The `Cache-Control` of every successful response. The default makes browsers
   * revalidate each time (cheap: a 304), so an edited file shows on reload.
   * @default "no-cache"
   */
  readonly cacheControl?: string;
  /**
   * Files up to this many bytes are hashed for their ETag before their first
   * answer, so the tag is the same on every machine that serves the same bytes.
   * Larger ones take it from a `FILE.sha256` sidecar (`sha256sum`'s format, not
   * older than the file) without being read, or answer with a size-and-mtime tag
   * until they are hashed once in the background. See docs/design.md, "ETag scheme".
   * @default 67108864 (64 MiB)
   */
  readonly hashLimit?: number;
  /**
   * Send `Repr-Digest: sha-256=:…:` (RFC 9530), the SHA-256 of the representation
   * sent (the file, or exactly its br, zstd or gzip bytes), on 200 and 206
   * responses whenever it is known — never delaying a response to compute it.
   * `Want-Repr-Digest` and `Want-Content-Digest` choose sha-256, sha-512 or none,
   * and a 206 gets a `Content-Digest` of its own body when asked. See
   * docs/features.md, "Digests and validators".
   * @default false
   */
  readonly digest?: boolean;
  /**
   * The longest, in milliseconds, that what a URL resolved to (file, listing,
   * redirect, 404) is trusted before it is checked again on the next request.
   * Where the file system can watch directories (the Node one can), the
   * directories it depends on are watched and an edited, added or deleted file
   * is seen by the next request; this window is the fallback where they cannot
   * be watched (more than 2,048, the system's limit) or events never come
   * (network mounts). `0` keeps nothing and checks on every request.
   * @default 500
   */
  readonly revalidateMs?: number;
  /**
   * Files up to this many bytes are kept in memory (with their ETag and headers)
   * and answered without touching the disk.
   * @default 1048576 (1 MiB)
   */
  readonly cacheFileBytes?: number;
  /**
   * The memory budget, in bytes, of all bodies kept — files, their compressed
   * forms and rendered listings — the oldest dropped first. No cached URL keeps a
   * body this budget dropped, so it bounds them all (docs/design.md, "Memory").
   * `0` keeps none.
   * @default 33554432 (32 MiB)
   */
  readonly cacheBytes?: number;
  /**
   * Compress compressible responses (text, JSON, JS, CSS, SVG, wasm, ...) of 1 KiB
   * or more with br, zstd (where Node has it) or gzip, as the client accepts. Each
   * file version is compressed once and kept within `cacheBytes`; files larger than
   * `cacheFileBytes` are compressed while sent.
   * @default true
   */
  readonly compression?: boolean;
  /**
   * Serve precompressed sidecars (`app.js.br`, `.zst`, `.gz` next to `app.js`) when
   * present and not older than the original (see `wharf precompress`).
   * @default true
   */
  readonly precompressed?: boolean;
  /**
   * Cache-Control by glob, first match wins: `[{ glob: "*.png", value: 3600 }]`
   * (seconds → `public, max-age=N`, or a whole header value). A glob without `/`
   * matches file names at any depth. Unmatched fingerprinted names
   * (`app.3f9a1c2b.js`) get `public, max-age=31536000, immutable`; the rest
   * {@link cacheControl}.
   * @default []
   */
  readonly cache?: readonly CacheRule[];
  /**
   * A Range header with more parts than this is ignored (a 200 with the whole file),
   * as nginx's `max_ranges` does against CVE-2011-3192. `0` turns ranges off: every
   * Range header is ignored.
   * @default 100
   */
  readonly maxRanges?: number;
  /**
   * Mounted as Connect/Express middleware (called with `next`), pass requests that
   * find nothing (404) or use another method (405) on to `next()` instead of answering.
   * @default true
   */
  readonly fallthrough?: boolean;
  /**
   * Custom handlers run around the static one, in order: each can answer a request
   * itself, or call `next()` and change what the rest of the chain answered.
   * @default []
   */
  readonly use?: readonly Middleware[];
  /**
   * Where files are read from. Tests pass an in-memory tree.
   * @default the Node file system
   */
  readonly fs?: FileSystem;
  /**
   * Names left out of directory listings (still served when asked for by URL),
   * as globs matched against each entry's name: `[".DS_Store", "*.map"]`.
   * serve.json's `unlisted`.
   * @default []
   */
  readonly unlisted?: readonly string[];
  /**
   * Files never served, listed or precompressed, by path (absolute, or relative
   * to `root`): a configuration or password file kept inside the served
   * directory. Matched on the canonical path after symlinks, whatever URL, rewrite
   * or sidecar leads there, case-insensitively where the file system is; their
   * `.br`/`.gz`/`.zst` sidecars are hidden too. `authFile` is always added.
   * @default []
   */
  readonly hiddenFiles?: readonly string[];
  /**
   * Archive formats offered for directories, as `?download=zip` / `?download=tar`
   * on a directory URL (and a link on its listing page). An archive holds exactly
   * what a GET would serve; symlinks are followed only with `symlinks: "follow"`.
   * Off by default: one request reads a whole tree. See docs/features.md.
   * @default []
   */
  readonly archive?: readonly ArchiveFormat[];
  /**
   * The most file bytes (uncompressed) one archive may hold; past it the
   * connection is cut, so the client sees a truncated archive. 0: no limit.
   * @default 4294967296 (4 GiB)
   */
  readonly archiveMaxBytes?: number;
  /**
   * Who is told why a path gave 404 or 400 (docs/features.md, "Why a 404"):
   * `"auto"` clients on this machine (loopback: the socket's address), `"on"`
   * (or `true`) everyone, `"off"` (or `false`) nobody. The status never
   * changes, only the body says the reason and the fix, naming URL paths only.
   * Behind a reverse proxy on the same host every client is on loopback: turn
   * it off there.
   * @default "auto"
   */
  readonly explain?: boolean | "auto" | "on" | "off";
  /**
   * The proxies whose word about the client is believed: addresses, CIDR ranges
   * (IPv4 and IPv6), `"loopback"`, `"private"` (RFC 1918 and fc00::/7). From such
   * a peer only, the client's address ({@link clientAddress}) is read from
   * `Forwarded` (RFC 7239) or `X-Forwarded-For`, walking from the right past
   * trusted addresses; from any other peer those headers are ignored. Empty: no
   * proxy is trusted, the client is the peer. See docs/operations.md.
   * @default []
   */
  readonly trustProxy?: readonly string[];
  /**
   * With {@link trustProxy}: the one header the proxies write the client in.
   * `forwarded` or `x-forwarded-for` read that list alone; any other name
   * (`x-real-ip`, `cf-connecting-ip`) holds a single address. Unset: `Forwarded`
   * or `X-Forwarded-For`, whichever the request has (neither when it has both:
   * one of them is then the client's own).
   * @default undefined (Forwarded or X-Forwarded-For)
   */
  readonly clientIpHeader?: string;
}

/** How directories are listed (the `listing` option). */
export interface ListingOptions {
  /**
   * The formats offered, in order of preference: the first is sent when Accept
   * and `?format=` choose none of them.
   * @default ["html", "json", "text"]
   */
  readonly formats?: readonly Format[];
  /** The order without `?sort=`. @default "name" */
  readonly sort?: SortKey;
  /** The direction without `?order=`. @default "asc" */
  readonly order?: Order;
  /** Entries on an HTML page without `?limit=` (1 to 10,000; JSON and text default to 10,000). @default 1000 */
  readonly pageSize?: number;
  /** Render the directory's README.md below the table (Markdown, raw HTML off, links sanitised). @default false */
  readonly readme?: boolean;
  /**
   * A QR code on HTML pages for opening the directory on another device: the
   * base URL it is reached at from there (`"http://192.168.1.20:8000/"`), each
   * page adding its directory's path. A function is asked when a page is
   * rendered, and may answer `undefined` for none: `serve({ qr: true })` passes
   * its LAN address that way, known only once it is bound.
   * @default undefined (no QR code)
   */
  readonly qr?: string | (() => string | undefined);
}

/**
 * {@link StaticOptions} with every default applied and every value checked: what
 * the responders read ({@link StaticFilesOptions}, declared in that layer so that
 * it does not import this one), and what only the Node listener reads.
 */
export interface ResolvedOptions extends StaticFilesOptions {
  readonly fallthrough: boolean;
  /** Who is told why a path gave 404 or 400. */
  readonly explain: "auto" | "on" | "off";
  /**
   * The client's address from the peer's and the request's headers, with
   * `trustProxy`; `undefined` when no proxy is trusted (the client is the peer,
   * and nothing is computed per request).
   */
  readonly clientAddress: ClientAddressFn | undefined;
  /** Uploads (src/features/upload), checked; `undefined` when off. */
  readonly uploads: UploadSettings | undefined;
}

export { OptionError };

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new OptionError(name, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
}

/** The `listing` option checked: a boolean, or an object of {@link ListingOptions}. */
function listingSettingsOf(value: unknown): ListingSettings {
  if (value === undefined || typeof value === "boolean") return { ...LISTING_DEFAULTS, readme: false, qr: undefined };
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new OptionError("listing", "must be true, false or an object");
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!["formats", "sort", "order", "pageSize", "readme", "qr"].includes(key))
      throw new OptionError(`listing.${key}`, "is not a listing option");
  }
  const formats = o["formats"] ?? FORMATS;
  if (
    !Array.isArray(formats) ||
    formats.length === 0 ||
    !formats.every((f) => (FORMATS as readonly unknown[]).includes(f)) ||
    new Set(formats).size !== formats.length
  ) {
    throw new OptionError("listing.formats", `must be a non-empty list of distinct ${FORMATS.map((f) => JSON.stringify(f)).join(", ")}`);
  }
  const pageSize = wholeOption("listing.pageSize", o["pageSize"], DEFAULT_PAGE_SIZE, 1);
  if (pageSize > MAX_LIMIT) throw new OptionError("listing.pageSize", `must be at most ${MAX_LIMIT}`);
  return {
    formats: formats as Format[],
    sort: oneOf("listing.sort", o["sort"], ["name", "size", "mtime"], "name"),
    order: oneOf("listing.order", o["order"], ["asc", "desc"], "asc"),
    pageSize,
    readme: booleanOption("listing.readme", o["readme"], false),
    qr: qrBaseOf(o["qr"]),
  };
}

/** `listing.qr` checked: a function, or an http(s) URL (kept with a trailing slash). */
function qrBaseOf(value: unknown): (() => string | undefined) | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "function") return value as () => string | undefined;
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    // not a URL: said below
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "")
    throw new OptionError("listing.qr", "must be an http:// or https:// URL without query, or a function returning one");
  const base = url.href.endsWith("/") ? url.href : `${url.href}/`;
  return () => base;
}

// A header value may not contain CR, LF or NUL (RFC 9110 §5.5).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Every option name of {@link StaticOptions}; the type makes the compiler fail when
 * an option is added to the interface and not here.
 */
const OPTION_NAMES: Readonly<Record<keyof StaticOptions, true>> = {
  single: true,
  cleanUrls: true,
  trailingSlash: true,
  cors: true,
  headers: true,
  coopCoep: true,
  live: true,
  liveIgnore: true,
  livePoll: true,
  allowedHosts: true,
  notFound: true,
  redirects: true,
  rewrites: true,
  auth: true,
  authFile: true,
  secretPath: true,
  root: true,
  dotfiles: true,
  symlinks: true,
  index: true,
  listing: true,
  cacheControl: true,
  hashLimit: true,
  digest: true,
  revalidateMs: true,
  cacheFileBytes: true,
  cacheBytes: true,
  compression: true,
  precompressed: true,
  cache: true,
  maxRanges: true,
  fallthrough: true,
  use: true,
  fs: true,
  unlisted: true,
  hiddenFiles: true,
  archive: true,
  archiveMaxBytes: true,
  explain: true,
  trustProxy: true,
  clientIpHeader: true,
  upload: true,
  mkdir: true,
  delete: true,
  onConflict: true,
  uploadMaxSize: true,
  uploadAuth: true,
  uploadAnonymous: true,
};

/**
 * Throws for an option name wharf does not know (`{ rooot: "public" }`, `{ spa: true }`),
 * naming the closest known one: silently ignoring it would serve something else than
 * what was asked. `extra` are names the caller takes itself (serve()'s).
 */
export function checkOptionNames(options: object, extra: readonly string[] = []): void {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(OPTION_NAMES, name) || extra.includes(name)) continue;
    const near = closest(name, [...Object.keys(OPTION_NAMES), ...extra]);
    throw new OptionError(name, `is not an option${near === undefined ? "" : ` (did you mean "${near}"?)`}`);
  }
}

/** `trustProxy` and `clientIpHeader` checked, as the function the adapter asks per request (none when no proxy is trusted). */
function clientAddressOption(list: unknown, header: unknown): ClientAddressFn | undefined {
  if (list !== undefined && (!Array.isArray(list) || !list.every((item) => typeof item === "string"))) {
    throw new OptionError("trustProxy", "must be a list of addresses, CIDR ranges, 'loopback' or 'private'");
  }
  if (header !== undefined && typeof header !== "string") throw new OptionError("clientIpHeader", "must be a header name");
  if (list === undefined || list.length === 0) {
    // Without a trusted proxy no header is believed: naming one would do nothing, silently.
    if (header !== undefined) throw new OptionError("clientIpHeader", "needs trustProxy: only a trusted proxy's header is read");
    return undefined;
  }
  const trust = proxyTrust(list as readonly string[], header);
  if ("problem" in trust) throw new OptionError(trust.option, trust.problem);
  return (peer, headerOf) => clientAddressOf(peer, headerOf, trust);
}

/**
 * Applies defaults and checks every option of the static handler; throws
 * {@link OptionError}. The feature options are checked where their middleware is
 * built, `buildFeatures` (src/features/index.ts). `extra` names options that a
 * caller around the handler (serve()) takes for itself.
 */
export function resolveOptions(options: StaticOptions = {}, extra: readonly string[] = []): ResolvedOptions {
  if (options === null || typeof options !== "object") {
    throw new OptionError("options", "must be an object");
  }
  checkOptionNames(options, extra);
  const root = options.root ?? process.cwd();
  if (typeof root !== "string" || root === "") throw new OptionError("root", "must be a non-empty path");
  const index = options.index ?? ["index.html", "index.htm"];
  if (!Array.isArray(index) || !index.every((n) => typeof n === "string" && n !== "" && !/[/\\]/.test(n))) {
    throw new OptionError("index", "must be a list of file names (no slashes)");
  }
  const cacheControl = options.cacheControl ?? "no-cache";
  if (typeof cacheControl !== "string" || !HEADER_VALUE.test(cacheControl)) {
    throw new OptionError("cacheControl", "must be a valid header value");
  }
  const rules = options.cache ?? [];
  if (
    !Array.isArray(rules) ||
    !rules.every((r) => typeof r?.glob === "string" && (typeof r.value === "number" || typeof r.value === "string"))
  ) {
    throw new OptionError("cache", "must be a list of { glob, value } rules");
  }
  let policy: CachePolicy;
  try {
    policy = cachePolicy(rules, cacheControl);
  } catch (error) {
    throw new OptionError("cache", (error as Error).message);
  }
  const use = options.use ?? [];
  if (!Array.isArray(use) || !use.every((m) => typeof m === "function")) {
    throw new OptionError("use", "must be a list of middleware functions");
  }
  const fs = options.fs ?? nodeFileSystem;
  if (typeof fs !== "object" || fs === null || typeof fs.open !== "function") {
    throw new OptionError("fs", "must implement the FileSystem interface");
  }
  const unlisted = options.unlisted ?? [];
  if (!Array.isArray(unlisted) || !unlisted.every((g) => typeof g === "string" && g !== "")) {
    throw new OptionError("unlisted", "must be a list of globs");
  }
  const unlistedMatchers = unlisted.map((g) => globMatcher(g, { dot: true }));
  const hiddenFiles = options.hiddenFiles ?? [];
  if (!Array.isArray(hiddenFiles) || !hiddenFiles.every((p) => typeof p === "string" && p !== "")) {
    throw new OptionError("hiddenFiles", "must be a list of file paths");
  }
  const authFile: unknown = options.authFile;
  const archive = options.archive ?? [];
  if (!Array.isArray(archive) || !archive.every((f) => (ARCHIVE_FORMATS as readonly unknown[]).includes(f))) {
    throw new OptionError("archive", `must be a list of formats: ${ARCHIVE_FORMATS.map((f) => JSON.stringify(f)).join(", ")}`);
  }
  const upload = uploadSettings(options);
  // Uploads write with node:fs beside the files they serve; another FileSystem has no such place.
  if (upload !== undefined && options.fs !== undefined) throw new OptionError("upload", "needs the Node file system (no fs option)");
  const listing = listingSettingsOf(options.listing);
  return {
    clientAddress: clientAddressOption(options.trustProxy, options.clientIpHeader),
    root: resolve(root),
    dotfiles: oneOf("dotfiles", options.dotfiles, ["ignore", "deny", "allow"], "ignore"),
    symlinks: oneOf("symlinks", options.symlinks, ["inside-root", "follow"], "inside-root"),
    index,
    listing: options.listing !== false,
    listingSettings: upload === undefined ? listing : { ...listing, upload: { areas: upload.areas, folders: upload.mkdir } },
    cacheControl,
    compression: booleanOption("compression", options.compression, true),
    precompressed: booleanOption("precompressed", options.precompressed, true),
    cachePolicy: policy,
    hashLimit: wholeOption("hashLimit", options.hashLimit, 64 * 1024 * 1024, 0),
    digest: booleanOption("digest", options.digest, false),
    // 0: ranges off, every Range header ignored (http/range.ts), as `--max-ranges 0` says.
    maxRanges: wholeOption("maxRanges", options.maxRanges, 100, 0),
    revalidateMs: wholeOption("revalidateMs", options.revalidateMs, 500, 0),
    cacheFileBytes: wholeOption("cacheFileBytes", options.cacheFileBytes, 1024 * 1024, 0),
    cacheBytes: wholeOption("cacheBytes", options.cacheBytes, 32 * 1024 * 1024, 0),
    fallthrough: booleanOption("fallthrough", options.fallthrough, true),
    use,
    fs,
    unlisted: unlistedMatchers.length === 0 ? () => false : (name) => unlistedMatchers.some((m) => m(name)),
    // The password file is never part of the site, wherever it lies.
    hiddenFiles: [...hiddenFiles, ...(typeof authFile === "string" && authFile !== "" ? [authFile] : [])].map((p) => resolve(root, p)),
    // In the order the formats are listed, each once.
    archive: ARCHIVE_FORMATS.filter((f) => archive.includes(f)),
    archiveMaxBytes: wholeOption("archiveMaxBytes", options.archiveMaxBytes, 4 * 1024 ** 3, 0),
    explain:
      options.explain === true
        ? "on"
        : options.explain === false
          ? "off"
          : oneOf("explain", options.explain, ["auto", "on", "off"], "auto"),
    uploads: upload,
  };
}
