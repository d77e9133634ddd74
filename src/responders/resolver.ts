/**
 * What a request path resolves to, with I/O: the path rules (decode once,
 * contain, dotfiles, symlinks) applied in this order before any byte is read —
 *
 *   decode and normalise → dotfile policy on the URL → realpath → containment
 *   after symlinks → dotfile policy on the real path → stat → directory
 *   (redirect / index / listing) or file (with its sidecars and variants).
 *
 * The result, a {@link Resource}, depends on the path alone; static.ts caches it
 * and picks the reply for each request. Every body a resource builds on comes
 * from the contents cache and is declared through {@link Pins}, so the resource
 * cache never keeps a body the budget dropped; so is every directory whose
 * change could change the result (the URL's way from the root, the real path's,
 * a listed directory), so that the cache drops it on the next change there.
 */
import { join } from "node:path";
import { once } from "../core/once.js";
import { errorReply, MISS_404, sharedReply } from "../core/reply.js";
import type { Reason, Trace } from "../core/trace.js";
import type { Reply } from "../core/types.js";
import type { FileStat } from "../fs/types.js";
import { directoriesOf } from "../fs/watch.js";
import { isCompressible } from "../http/compressible.js";
import { contentTypeFor } from "../http/content-type.js";
import type { Encoding } from "../http/negotiate.js";
import { encodePathname, isHidden, isInside, linksBackTo, resolveRequestPath } from "../path/resolve.js";
import { directoryVisibility, type Visibility, type VisibilityRules, visibilityOf } from "../path/visibility.js";
import { archiveLinks } from "./archive/route.js";
import type { StaticFilesOptions } from "./config.js";
import { ENCODINGS, offerOf, SIDECAR_SUFFIX } from "./encoders.js";
import { statusForError } from "./errors.js";
import type { Contents, FileContentsCache } from "./file-contents.js";
import { type DiskFile, encodedVariant, identityVariant } from "./file-variants.js";
import { canonicalRules } from "./hidden-files.js";
import { listingResource } from "./listing/resource.js";
import type { Pins, Resource } from "./resources.js";
import type { Variant } from "./variant.js";

/** Smaller bodies are not compressed: the coding's overhead eats the gain. */
const MIN_COMPRESS_BYTES = 1024;

/** Where a request path leads: a file-system object, or a refusal already decided. */
type Location =
  | { readonly kind: "found"; readonly real: string; readonly stat: FileStat }
  | { readonly kind: "refused"; readonly reply: Reply; readonly why: Exclude<Visibility["kind"], "visible"> };

/** A resolution that failed for a reason that may clear up (403, 503): never cached. */
export class TransientError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`transient ${status}`);
    this.status = status;
  }
}

/** A resolver: the resource for a request path, its bodies declared through `pins`. */
export type Resolve = (pathname: string, pins: Pins) => Promise<Resource>;

/**
 * Declares `contents`'s body, if it has one, as held by the resource being built;
 * and a provisional tag, so that the resource goes once the file is hashed.
 */
function pin(pins: Pins, contents: Contents): void {
  if (contents.body !== undefined || contents.provisional === true) pins.hold(contents);
}

/** Bytes of a string, at two a character (the worst case), for a resource's footprint. */
const weigh = (text: string): number => 2 * text.length;

/** What the resolver's steps share. */
interface Context {
  readonly options: StaticFilesOptions;
  readonly contents: FileContentsCache;
  /** The root's canonical path and the hidden files', resolved once (and again only if it failed). */
  readonly visibilityRules: () => Promise<VisibilityRules>;
  /** Where the decisions are written down: only in a chain built for tracing (handler/explain.ts). */
  readonly trace: Trace | undefined;
}

/**
 * Builds the resolver. `resolve` throws {@link TransientError} for 403/503 and
 * rethrows unexpected errors (the caller reports them as 500). With `trace`,
 * every decision is written to it (and a missing path gets a bounded look for
 * the same name in other case); only a chain built for tracing passes one.
 */
export function createResolver(options: StaticFilesOptions, contents: FileContentsCache, trace?: Trace): Resolve {
  // Resolved once, again only if that failed.
  const visibilityRules = once(() => canonicalRules(options));
  const ctx: Context = { options, contents, visibilityRules, trace };
  return (pathname, pins) => resolvePath(ctx, pathname, pins);
}

const fixed = (reply: Reply): Resource => ({ kind: "reply", reply });

/** The one 400 the static handler sends for a path it cannot decode: shared, so an explanation knows it for its own. */
export const BAD_PATH_400 = sharedReply(errorReply(400));

/** The reply for a dotfile: 403 when denied, else the 404 miss. */
const hiddenReply = (options: StaticFilesOptions): Reply => (options.dotfiles === "deny" ? errorReply(403) : MISS_404);

/** The reply for a path the client may not see, by why. */
const refusal = (options: StaticFilesOptions, why: Exclude<Visibility["kind"], "visible">): Reply =>
  why === "dotfile" ? hiddenReply(options) : MISS_404;

/**
 * Where `segments` really lead, or the reply for why they lead nowhere the client
 * may go. Every way to a file comes through here (the request path after any
 * rewrite, index files, sidecars), and listings ask {@link visibilityOf} the same
 * question of each entry.
 */
async function locate(ctx: Context, segments: readonly string[], pins: Pins): Promise<Location> {
  const rules = await ctx.visibilityRules();
  const path = join(rules.root, ...segments);
  // Declared before the lookup: a path that is not there yet depends on the
  // directories on its way (the deepest one that exists sees it appear), a
  // symlink on the way on the directory that holds it.
  for (const dir of directoriesOf(rules.root, path)) pins.watch(dir);
  const real = await ctx.options.fs.realpath(path);
  const seen = visibilityOf(rules, segments, real);
  if (real !== path && ctx.trace !== undefined) {
    const where = isInside(rules.root, real)
      ? "inside the root"
      : `outside the root (${rules.symlinks === "follow" ? "followed: --follow-symlinks" : "refused"})`;
    ctx.trace.step("symlink", `${urlOf(segments)} leads through a symlink to ${where}`);
  }
  if (seen.kind !== "visible") return { kind: "refused", reply: refusal(ctx.options, seen.kind), why: seen.kind };
  // Through a symlink, also on the way to what it names (its bytes change there),
  // known only now that realpath has read it.
  if (real !== path) for (const dir of directoriesOf(rules.root, real)) pins.watch(dir, "already-read");
  // The stat walks the path again; what is read is checked on its descriptor
  // (FileSystem.open), so a swap here can only make the read fail.
  return { kind: "found", real, stat: await ctx.options.fs.stat(real) };
}

/** Up-to-date precompressed sidecars (`name.br`, ...) beside the file at `segments`. */
async function sidecarsOf(ctx: Context, segments: readonly string[], original: FileStat, pins: Pins): Promise<Map<Encoding, DiskFile>> {
  const found = new Map<Encoding, DiskFile>();
  if (!ctx.options.precompressed || segments.length === 0) return found;
  const dir = segments.slice(0, -1);
  const name = segments.at(-1) as string;
  for (const encoding of ENCODINGS) {
    const at = await locate(ctx, [...dir, name + SIDECAR_SUFFIX[encoding]], pins).catch(() => undefined);
    // Older than the original: left over from a previous build, so it would serve old content.
    if (at?.kind === "found" && at.stat.kind === "file" && at.stat.mtimeMs >= original.mtimeMs) found.set(encoding, at);
    else if (at?.kind === "found" && at.stat.kind === "file")
      ctx.trace?.step("sidecar", `${urlOf([...dir, name + SIDECAR_SUFFIX[encoding]])} is older than the file: not used`);
  }
  const names = [...found.keys()].map((e) => urlOf([...dir, name + SIDECAR_SUFFIX[e]]));
  ctx.trace?.step("sidecar", names.length === 0 ? "none" : `up to date: ${names.join(", ")}`);
  return found;
}

/** A file with its sidecars: its identity variant built now, the coded ones on first demand. */
async function fileResource(ctx: Context, real: string, stat: FileStat, segments: readonly string[], pins: Pins): Promise<Resource> {
  const { options, contents } = ctx;
  // By the name the client asked for, like nginx: a symlink `a.txt -> blob` is text.
  const contentType = contentTypeFor(segments.at(-1) ?? "");
  const compressible = isCompressible(contentType);
  ctx.trace?.step("file", `${urlOf(segments)}: ${stat.size} bytes, ${contentType}`);
  if (!compressible) ctx.trace?.step("sidecar", "not looked for: the type is not compressible");
  else if (!options.precompressed) ctx.trace?.step("sidecar", "not looked for: precompressed sidecars are off");
  const sidecars = compressible ? await sidecarsOf(ctx, segments, stat, pins) : new Map<Encoding, DiskFile>();
  const offered = offerOf((e) => sidecars.has(e) || (options.compression && compressible && stat.size >= MIN_COMPRESS_BYTES));
  const facts = { real, stat, contentType, cacheControl: options.cachePolicy(segments.join("/")), negotiable: offered.length > 0 };
  const identity = await contents.contentsOf(real, stat);
  pin(pins, identity);
  const made = new Map<Encoding, Variant | Promise<Variant>>();
  const onDisk = [...(identity.body === undefined ? [facts] : []), ...sidecars.values()];
  let footprint = weigh(real) + weigh(facts.cacheControl);
  for (const sidecar of sidecars.values()) footprint += weigh(sidecar.real);
  return {
    kind: "representations",
    identity: identityVariant(facts, identity),
    offered,
    onDisk,
    footprint,
    variant(encoding) {
      let variant = made.get(encoding);
      if (variant === undefined) {
        const pending = encodedVariant(facts, identity, encoding, sidecars.get(encoding), contents, (c) => pin(pins, c));
        made.set(encoding, pending);
        pending.then(
          (v) => made.set(encoding, v),
          () => made.delete(encoding),
        );
        variant = pending;
      }
      return variant;
    },
  };
}

/**
 * The directory's listing (listing/resource.ts: formats, sort, filter, pages);
 * each entry passes {@link isListable}, the check a GET of it passes, and the
 * page links the archives that are on (`?download=zip`).
 */
async function listingOf(ctx: Context, real: string, segments: readonly string[], pins: Pins): Promise<Resource> {
  const { options, contents } = ctx;
  const visibility = directoryVisibility(await ctx.visibilityRules(), segments, real);
  const listable = (name: string, kind: FileStat["kind"] | undefined, link: string | undefined): boolean =>
    !options.unlisted(name) && isListable(visibility, name, kind, link);
  const links = archiveLinks(options);
  return listingResource(
    {
      fs: options.fs,
      contents,
      settings: options.listingSettings,
      compression: options.compression,
      cacheControl: options.cacheControl,
      listable,
      archiveLinks: links.length > 0 ? links : undefined,
    },
    real,
    segments,
    pins,
  );
}

/**
 * An entry is listed only if a GET of its link would find it: the link resolves
 * back to this one name (not the case for a name a URL cannot carry), and the
 * entry passes the very visibility decision locate() makes, on the canonical
 * path the directory read gave (for a symlink, its target's). So a link into
 * `.git/`, a hidden configuration file or a link out of the root is never shown
 * with its target's size and date (issue 10 items 7, 8, 17).
 */
function isListable(
  visibility: ReturnType<typeof directoryVisibility>,
  name: string,
  kind: FileStat["kind"] | undefined,
  link: string | undefined,
): boolean {
  if (kind === undefined) return false; // dangling or looping
  // FIFOs, sockets and devices are never served (see resolve), so never listed.
  if (kind === "other") return false;
  if (!linksBackTo(name)) return false;
  // A symlink by its target's canonical path; any other entry is the directory's path and its name.
  return visibility(name, link).kind === "visible";
}

/** A directory: the redirect that adds its slash, its index file, its listing, or 404. */
async function directoryResource(
  ctx: Context,
  real: string,
  segments: readonly string[],
  trailingSlash: boolean,
  pins: Pins,
): Promise<Resource> {
  const { options } = ctx;
  const { trace } = ctx;
  if (!trailingSlash) {
    // Relative links in the page only resolve against `/dir/`. The Location is built
    // from normalised, re-encoded segments, so it is always a same-origin path:
    // never `//host` or `/\host` (CVE-2021-28861 in Python's server).
    const location = encodePathname(segments, true);
    trace?.step("directory", `${urlOf(segments)} is a directory: 301 to ${location}`);
    return { kind: "redirect", location };
  }
  trace?.step("directory", `${urlOf(segments, true)} is a directory`);
  for (const name of options.index) {
    const found = await locate(ctx, [...segments, name], pins).catch(() => undefined);
    if (found?.kind === "found" && found.stat.kind === "file") {
      trace?.step("index", `${urlOf([...segments, name])}: found`);
      return fileResource(ctx, found.real, found.stat, [...segments, name], pins);
    }
    trace?.step(
      "index",
      `${urlOf([...segments, name])}: ${found === undefined ? "not there" : found.kind === "refused" ? `refused (${found.why})` : "not a file"}`,
    );
  }
  if (!options.listing) {
    trace?.step("listing", "off: 404");
    trace?.reason({ kind: "no-index", path: urlOf(segments, true), index: options.index });
    return fixed(MISS_404);
  }
  trace?.step("listing", `on: the listing of ${urlOf(segments, true)}`);
  return listingOf(ctx, real, segments, pins);
}

/** Everything about `pathname` that does not depend on the rest of the request. */
async function resolvePath(ctx: Context, pathname: string, pins: Pins): Promise<Resource> {
  const { options, trace } = ctx;
  const path = resolveRequestPath(pathname);
  if (path.kind === "bad-request") {
    if (trace !== undefined) traceBadPath(trace, pathname);
    return fixed(BAD_PATH_400);
  }
  const url = urlOf(path.segments, path.trailingSlash);
  // The URL's own dot segments, before any file-system call (locate checks them again).
  if (options.dotfiles !== "allow" && isHidden(path.segments)) {
    trace?.step("dotfiles", `${url} has a dot segment: hidden (${options.dotfiles === "deny" ? "403" : "404"})`);
    trace?.reason({ kind: "dotfile", path: url });
    return fixed(hiddenReply(options));
  }
  try {
    const found = await locate(ctx, path.segments, pins);
    if (found.kind === "refused") {
      if (trace !== undefined) traceRefusal(trace, url, found.why);
      return fixed(found.reply);
    }
    trace?.step("visibility", `${url}: visible (hidden files, dotfiles, symlinks out of the root)`);
    const { real, stat } = found;
    switch (stat.kind) {
      case "directory":
        return await directoryResource(ctx, real, path.segments, path.trailingSlash, pins);
      case "file":
        // `/file.txt/` names a directory that is not there.
        if (path.trailingSlash && path.segments.length > 0) {
          const file = urlOf(path.segments);
          trace?.step("file", `${file} is a file, and ${url} names a directory: 404`);
          trace?.reason({ kind: "file-as-directory", path: url, file });
          return fixed(MISS_404);
        }
        return await fileResource(ctx, real, stat, path.segments, pins);
      case "other":
        // FIFOs, sockets and devices are never opened: a FIFO would block forever.
        trace?.step("file", `${url} is a FIFO, socket or device: never opened, 404`);
        trace?.reason({ kind: "special-file", path: url });
        return fixed(MISS_404);
    }
  } catch (error) {
    const status = statusForError(error);
    if (status === 404 && trace !== undefined) await traceMissing(ctx, trace, path.segments, path.trailingSlash);
    if (status === 404) return fixed(MISS_404);
    if (status === 500) throw error; // not remembered; the caller reports it
    // 403 and 503 are not cached either: they may clear up at any moment.
    throw new TransientError(status);
  }
}

// ---- tracing: only a chain built for tracing (handler/explain.ts) comes here ----

/** A URL path for a trace: re-encoded from segments, never a file-system path. */
const urlOf = (segments: readonly string[], trailingSlash = false): string => encodePathname(segments, trailingSlash);

/** Writes down why `pathname` is a 400: the decoder's own verdict (path/resolve.ts). */
export function traceBadPath(trace: Trace, pathname: string): void {
  const path = resolveRequestPath(pathname);
  if (path.kind !== "bad-request") return;
  trace.step("decode", `refused, 400: ${path.reason}`);
  const reason: Reason =
    path.problem === "encoding"
      ? { kind: "bad-encoding", detail: path.reason }
      : path.problem === "above-root"
        ? { kind: "above-root" }
        : { kind: "bad-path", detail: path.reason };
  trace.reason(reason);
}

/** Writes down what {@link visibilityOf} refused, and why. */
function traceRefusal(trace: Trace, url: string, why: Exclude<Visibility["kind"], "visible">): void {
  switch (why) {
    case "dotfile":
      trace.step("visibility", `${url} leads to a dotfile or dot-directory: hidden`);
      trace.reason({ kind: "dotfile", path: url });
      return;
    case "outside":
      trace.step("visibility", `${url} is a symlink out of the root: refused, 404`);
      trace.reason({ kind: "symlink-outside", path: url });
      return;
    case "hidden-file":
      trace.step("visibility", `${url} is a configuration or password file: never served, 404`);
      trace.reason({ kind: "hidden-file", path: url });
      return;
  }
}

/** How far the look for another case goes: names per directory, bytes of names per directory, directories deep. */
export const CASE_LOOK = { entries: 10_000, bytes: 1024 * 1024, depth: 32 } as const;

/** A name as compared for "did you mean": case and Unicode normalisation (NFC against macOS's NFD) ignored. */
const folded = (name: string): string => name.normalize("NFC").toLowerCase();

/** A pins that holds and watches nothing: the case look is never cached. */
const NO_PINS: Pins = { hold: () => {}, watch: () => {} };

/**
 * Nothing at `segments`: writes it down, with the path spelled in another case
 * when one exists ("no /Images/logo.png; did you mean /images/Logo.png?").
 * Each level that is missing costs one bounded read of its parent's names
 * ({@link CASE_LOOK}); the suggestion is checked with {@link locate}, so a
 * name the client may not see (a dotfile, a link out of the root) is never
 * suggested.
 */
async function traceMissing(ctx: Context, trace: Trace, segments: readonly string[], trailingSlash: boolean): Promise<void> {
  const url = urlOf(segments, trailingSlash);
  const suggestion = await otherCase(ctx, segments).catch(() => undefined);
  const shown = suggestion === undefined ? undefined : urlOf(suggestion, trailingSlash);
  trace.step("resolve", shown === undefined ? `nothing at ${url}` : `nothing at ${url}; did you mean ${shown}?`);
  trace.reason(shown === undefined ? { kind: "not-found", path: url } : { kind: "not-found", path: url, suggestion: shown });
}

/** `segments` with each missing name replaced by the one entry of its directory equal to it but for case. */
async function otherCase(ctx: Context, segments: readonly string[]): Promise<string[] | undefined> {
  const scan = ctx.options.fs.scanNames?.bind(ctx.options.fs);
  if (scan === undefined || segments.length === 0 || segments.length > CASE_LOOK.depth) return undefined;
  const found: string[] = [];
  let changed = false;
  for (const segment of segments) {
    const exact = await locate(ctx, [...found, segment], NO_PINS).catch(() => undefined);
    if (exact?.kind === "found") {
      found.push(segment);
      continue;
    }
    const dir = await locate(ctx, found, NO_PINS);
    if (dir.kind !== "found" || dir.stat.kind !== "directory") return undefined;
    const want = folded(segment);
    const names = await scan(dir.real, CASE_LOOK);
    const match = names.filter((n) => folded(n) === want).sort()[0];
    if (match === undefined) return undefined;
    found.push(match);
    changed = true;
  }
  if (!changed) return undefined;
  const target = await locate(ctx, found, NO_PINS);
  return target.kind === "found" ? found : undefined;
}
