/**
 * The static handler: maps a request path to a file or directory under the root
 * and decides what to answer. Path rules (decode once, contain, dotfiles, symlinks)
 * are applied in this order, before any byte is read:
 *
 *   method → decode and normalise → dotfile policy on the URL → realpath →
 *   containment after symlinks → dotfile policy on the real path → stat →
 *   directory (redirect / index / listing) or file.
 *
 * What a path resolves to is a {@link Resource}, cached for `revalidateMs` (see
 * resources.ts): a hot URL is a map lookup and a reply whose headers were built once.
 */
import { join } from "node:path";
import { EMPTY, chunksBody, empty } from "../core/reply.js";
import type { Body, FileSlice, Middleware, Reply, WharfRequest } from "../core/types.js";
import type { DirEntry, FileStat } from "../fs/types.js";
import { contentTypeFor } from "../http/content-type.js";
import { formatHttpDate } from "../http/dates.js";
import { formatEntityTag } from "../http/etag.js";
import type { ResolvedOptions } from "../options.js";
import { encodePathname, isHidden, isInside, relativeSegments, resolveRequestPath } from "../path/resolve.js";
import { errorReply, statusForError } from "./errors.js";
import { FileContentsCache, bytesTag } from "./file-contents.js";
import { type ListingEntry, renderListing } from "./listing.js";
import { representationReply } from "./representation.js";
import { type Resource, ResourceCache } from "./resources.js";

/** The methods a static resource supports (RFC 9110 §9.3). */
export const ALLOW = "GET, HEAD, OPTIONS";

const LISTING_TYPE = "text/html; charset=utf-8";

/** Called with errors that are not the client's fault (a 500), for logging. */
export type ErrorReporter = (error: unknown, req: WharfRequest) => void;

/** Where a request path leads: a file-system object, or a refusal already decided. */
type Location =
  | { readonly kind: "found"; readonly real: string; readonly stat: FileStat }
  | { readonly kind: "refused"; readonly reply: Reply };

/** Request headers that make a reply depend on more than the path. */
const CONDITIONAL = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range"] as const;

/** Builds the static handler from resolved options. */
export function staticFiles(options: ResolvedOptions, report: ErrorReporter): Middleware {
  const { fs, root } = options;
  const contents = new FileContentsCache(fs, {
    hashLimit: options.hashLimit,
    maxFileBytes: options.cacheFileBytes,
    maxBytes: options.cacheBytes,
  });
  const resources = new ResourceCache(options.revalidateMs);
  // With middleware around us a reply may be changed after we return it, so cached
  // replies are copied; without, they are shared. Decided once, here.
  const own = options.use.length === 0 ? (r: Reply): Reply => r : (r: Reply): Reply => ({ ...r, headers: { ...r.headers } });

  let rootReal: Promise<string> | undefined;
  // The root's canonical path, resolved once (and again only if it failed).
  const canonicalRoot = (): Promise<string> => {
    rootReal ??= fs.realpath(root).catch((error: unknown) => {
      rootReal = undefined;
      throw error;
    });
    return rootReal;
  };

  const miss = (status: 404 | 405, headers: Record<string, string> = {}): Reply => ({ ...errorReply(status, headers), miss: true });
  const MISS_404 = miss(404);
  const hidden = (): Reply => (options.dotfiles === "deny" ? errorReply(403) : MISS_404);
  const fixed = (reply: Reply): Resource => ({ kind: "reply", reply });
  const sliceOf = (path: string, stat: FileStat, start: number, end: number): FileSlice => ({
    kind: "file",
    path,
    start,
    end,
    identity: { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs },
  });
  // RFC 9110 §15.4.5: a 304 carries the fields a 200 would send for caches (ETag,
  // Cache-Control; Node adds Date) and nothing else. The same as representation.ts
  // builds, prebuilt for the revalidation every browser sends on reload.
  const notModified = (headers: Record<string, string>): Reply => ({
    status: 304,
    headers: { etag: headers.etag ?? "", "cache-control": options.cacheControl },
    body: EMPTY,
  });
  /** A whole body: bytes in memory, or the file read at send time. */
  const bodyOf = (source: Uint8Array | { path: string; stat: FileStat }): Body => {
    if (source instanceof Uint8Array) return source.length === 0 ? EMPTY : chunksBody([source], source.length);
    return source.stat.size === 0 ? EMPTY : chunksBody([sliceOf(source.path, source.stat, 0, source.stat.size)], source.stat.size);
  };

  /** Where `segments` really lead, or the reply for why they lead nowhere the client may go. */
  async function locate(segments: readonly string[]): Promise<Location> {
    const base = await canonicalRoot();
    const real = await fs.realpath(join(base, ...segments));
    if (!isInside(base, real)) {
      if (options.symlinks !== "follow") return { kind: "refused", reply: MISS_404 };
    } else if (options.dotfiles !== "allow" && isHidden(relativeSegments(base, real))) {
      // A symlink inside the root that points into `.git/` is as hidden as `.git/` itself.
      return { kind: "refused", reply: hidden() };
    }
    return { kind: "found", real, stat: await fs.stat(real) };
  }

  async function fileResource(real: string, stat: FileStat, name: string): Promise<Resource> {
    const { etag, body } = await contents.contentsOf(real, stat);
    // By the name the client asked for, like nginx: a symlink `a.txt -> blob` is text.
    const contentType = contentTypeFor(name);
    const headers = {
      etag: formatEntityTag(etag),
      "cache-control": options.cacheControl,
      // RFC 9110 §8.8.2.1: never later than the response's Date.
      "last-modified": formatHttpDate(Math.min(stat.mtimeMs, Date.now())),
      "accept-ranges": "bytes",
      "x-content-type-options": "nosniff",
      "content-type": contentType,
      "content-length": String(stat.size),
    };
    const ok: Reply = { status: 200, headers, body: bodyOf(body ?? { path: real, stat }) };
    return { kind: "file", real, stat, etag, contentType, body, ok, notModified: notModified(headers) };
  }

  async function listingResource(real: string, segments: readonly string[]): Promise<Resource> {
    const base = await canonicalRoot();
    const entries: ListingEntry[] = [];
    for (const entry of await fs.readdir(real)) {
      if (options.dotfiles !== "allow" && entry.name.startsWith(".")) continue;
      if (!(await listable(base, real, entry))) continue;
      entries.push({ name: entry.name, kind: entry.stat?.kind ?? "other", size: entry.stat?.size, mtimeMs: entry.stat?.mtimeMs });
    }
    const body = new TextEncoder().encode(renderListing({ segments, entries }));
    const etag = bytesTag(body);
    const headers = {
      etag: formatEntityTag(etag),
      "cache-control": options.cacheControl,
      "accept-ranges": "bytes",
      "x-content-type-options": "nosniff",
      "content-type": LISTING_TYPE,
      "content-length": String(body.length),
    };
    const ok: Reply = { status: 200, headers, body: bodyOf(body) };
    return { kind: "generated", body, etag, contentType: LISTING_TYPE, ok, notModified: notModified(headers) };
  }

  // A symlink is listed only if following it is allowed, so a listing never shows
  // the size or date of something outside the root.
  async function listable(base: string, dir: string, entry: DirEntry): Promise<boolean> {
    if (!entry.symlink || options.symlinks === "follow") return true;
    try {
      return isInside(base, await fs.realpath(join(dir, entry.name)));
    } catch {
      return false; // dangling or looping: it names nothing the client could fetch
    }
  }

  async function directoryResource(real: string, segments: readonly string[], trailingSlash: boolean): Promise<Resource> {
    if (!trailingSlash) {
      // Relative links in the page only resolve against `/dir/`. The Location is built
      // from normalised, re-encoded segments, so it is always a same-origin path:
      // never `//host` or `/\host` (CVE-2021-28861 in Python's server).
      return { kind: "redirect", location: encodePathname(segments, true) };
    }
    for (const name of options.index) {
      const found = await locate([...segments, name]).catch(() => undefined);
      if (found?.kind === "found" && found.stat.kind === "file") return fileResource(found.real, found.stat, name);
    }
    if (!options.listing) return fixed(MISS_404);
    return listingResource(real, segments);
  }

  /** Everything about `pathname` that does not depend on the rest of the request. */
  async function resolve(pathname: string): Promise<Resource> {
    const path = resolveRequestPath(pathname);
    if (path.kind === "bad-request") return fixed(errorReply(400));
    if (options.dotfiles !== "allow" && isHidden(path.segments)) return fixed(hidden());
    try {
      const found = await locate(path.segments);
      if (found.kind === "refused") return fixed(found.reply);
      const { real, stat } = found;
      switch (stat.kind) {
        case "directory":
          return await directoryResource(real, path.segments, path.trailingSlash);
        case "file":
          // `/file.txt/` names a directory that is not there.
          if (path.trailingSlash && path.segments.length > 0) return fixed(MISS_404);
          return await fileResource(real, stat, path.segments.at(-1) ?? "");
        case "other":
          // FIFOs, sockets and devices are never opened: a FIFO would block forever.
          return fixed(MISS_404);
      }
    } catch (error) {
      const status = statusForError(error);
      if (status === 404) return fixed(MISS_404);
      if (status === 500) throw error; // not remembered; the caller reports it
      // 403 and 503 are not cached either: they may clear up at any moment.
      throw Object.assign(new Error("transient"), { status });
    }
  }

  /** The reply to `req` from a resolved resource: the one place request headers matter. */
  function replyFor(req: WharfRequest, resource: Resource): Reply {
    switch (resource.kind) {
      case "reply":
        return own(resource.reply);
      case "redirect":
        return empty(301, { location: resource.location + req.search, "content-length": "0" });
      case "file":
      case "generated": {
        // The common cases, decided without parsing anything: the 200 built once, and
        // the 304 for a browser revalidating with exactly our ETag (If-None-Match
        // alone, so no other precondition or Range can apply).
        const ifNoneMatch = req.header("if-none-match");
        if (!CONDITIONAL.some((name) => req.header(name) !== undefined)) return own(resource.ok);
        if (ifNoneMatch === resource.ok.headers.etag && CONDITIONAL.every((n) => n === "if-none-match" || req.header(n) === undefined)) {
          return own(resource.notModified);
        }
        const bytes = resource.body;
        const file = resource.kind === "file" ? resource : undefined;
        return representationReply(
          req,
          {
            size: bytes?.length ?? file?.stat.size ?? 0,
            contentType: resource.contentType,
            etag: resource.etag,
            lastModifiedMs: file?.stat.mtimeMs,
            cacheControl: options.cacheControl,
            slice: (start, end) =>
              bytes !== undefined || file === undefined ? (bytes ?? new Uint8Array()).subarray(start, end) : sliceOf(file.real, file.stat, start, end),
          },
          options.maxRanges,
        );
      }
    }
  }

  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      // RFC 9110 §9.3.7: OPTIONS answers what the resource allows, with no body.
      if (req.method === "OPTIONS") return empty(204, { allow: ALLOW });
      // §15.5.6: a 405 must say what is allowed. Nothing is ever written to disk.
      return miss(405, { allow: ALLOW });
    }
    const key = req.pathname;
    try {
      let resource = await resources.get(key, () => resolve(key));
      if (resource.kind === "file" && resource.body === undefined) {
        // Not held in memory: its bytes will be read from disk, so check now that it
        // is still the file the cached headers describe.
        const now = await fs.stat(resource.real).catch(() => undefined);
        const then = resource.stat;
        if (now === undefined || now.ino !== then.ino || now.size !== then.size || now.mtimeMs !== then.mtimeMs) {
          resources.invalidate(key);
          resource = await resources.get(key, () => resolve(key));
        }
      }
      return replyFor(req, resource);
    } catch (error) {
      const status = (error as { status?: number }).status ?? statusForError(error);
      if (status === 500) report(error, req);
      if (status === 404) return own(MISS_404);
      return errorReply(status, status === 503 ? { "retry-after": "1" } : {});
    }
  };
}
