/**
 * The static handler: maps a request path to a file or directory under the root
 * and decides what to answer. Path rules (decode once, contain, dotfiles, symlinks)
 * are applied here, in this order, before any byte is read:
 *
 *   method → decode and normalise → dotfile policy on the URL → realpath →
 *   containment after symlinks → dotfile policy on the real path → stat →
 *   directory (redirect / index / listing) or file.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { empty } from "../core/reply.js";
import type { Middleware, Reply, WharfRequest } from "../core/types.js";
import type { DirEntry, FileStat } from "../fs/types.js";
import { contentTypeFor } from "../http/content-type.js";
import type { ResolvedOptions } from "../options.js";
import { encodePathname, isHidden, isInside, relativeSegments, resolveRequestPath } from "../path/resolve.js";
import { ContentTags, bytesTag } from "./content-tag.js";
import { errorReply, statusForError } from "./errors.js";
import { type ListingEntry, renderListing } from "./listing.js";
import { representationReply } from "./representation.js";

/** The methods a static resource supports (RFC 9110 §9.3). */
export const ALLOW = "GET, HEAD, OPTIONS";

const LISTING_TYPE = "text/html; charset=utf-8";

/** Where a request path leads: a file-system object, or a refusal already decided. */
type Location =
  | { readonly kind: "found"; readonly real: string; readonly stat: FileStat }
  | { readonly kind: "refused"; readonly reply: Reply };

/** Called with errors that are not the client's fault (a 500), for logging. */
export type ErrorReporter = (error: unknown, req: WharfRequest) => void;

/** Builds the static handler from resolved options. */
export function staticFiles(options: ResolvedOptions, report: ErrorReporter): Middleware {
  const { fs, root } = options;
  const tags = new ContentTags(fs, options.hashLimit);
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
  const hidden = (): Reply => (options.dotfiles === "deny" ? errorReply(403) : miss(404));

  /** Where `segments` really lead, or the reply for why they lead nowhere the client may go. */
  async function locate(segments: readonly string[]): Promise<Location> {
    const base = await canonicalRoot();
    const real = await fs.realpath(join(base, ...segments));
    if (!isInside(base, real)) {
      if (options.symlinks !== "follow") return { kind: "refused", reply: miss(404) };
    } else if (options.dotfiles !== "allow" && isHidden(relativeSegments(base, real))) {
      // A symlink inside the root that points into `.git/` is as hidden as `.git/` itself.
      return { kind: "refused", reply: hidden() };
    }
    return { kind: "found", real, stat: await fs.stat(real) };
  }

  async function serveFile(req: WharfRequest, real: string, stat: FileStat, name: string): Promise<Reply> {
    const etag = await tags.tagFor(real, stat);
    const identity = { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
    return representationReply(
      req,
      {
        size: stat.size,
        // By the name the client asked for, like nginx: a symlink `a.txt -> blob` is text.
        contentType: contentTypeFor(name),
        etag,
        lastModifiedMs: stat.mtimeMs,
        cacheControl: options.cacheControl,
        slice: (start, end) => ({ kind: "file", path: real, start, end, identity }),
      },
      options.maxRanges,
    );
  }

  async function listDirectory(req: WharfRequest, real: string, segments: readonly string[]): Promise<Reply> {
    const base = await canonicalRoot();
    const entries: ListingEntry[] = [];
    for (const entry of await fs.readdir(real)) {
      if (options.dotfiles !== "allow" && entry.name.startsWith(".")) continue;
      if (!(await listable(base, real, entry))) continue;
      entries.push({
        name: entry.name,
        kind: entry.stat?.kind ?? "other",
        size: entry.stat?.size,
        mtimeMs: entry.stat?.mtimeMs,
      });
    }
    const bytes = new TextEncoder().encode(renderListing({ segments, entries }));
    return representationReply(
      req,
      {
        size: bytes.length,
        contentType: LISTING_TYPE,
        etag: bytesTag(createHash("sha256").update(bytes).digest()),
        lastModifiedMs: undefined,
        cacheControl: options.cacheControl,
        slice: (start, end) => bytes.subarray(start, end),
      },
      options.maxRanges,
    );
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

  async function serveDirectory(req: WharfRequest, real: string, segments: readonly string[], trailingSlash: boolean): Promise<Reply> {
    if (!trailingSlash) {
      // Relative links in the page only resolve against `/dir/`. The Location is built
      // from normalised, re-encoded segments, so it is always a same-origin path:
      // never `//host` or `/\host` (CVE-2021-28861 in Python's server).
      return empty(301, { location: encodePathname(segments, true) + req.search, "content-length": "0" });
    }
    for (const name of options.index) {
      const found = await locate([...segments, name]).catch(() => undefined);
      if (found?.kind === "found" && found.stat.kind === "file") {
        return serveFile(req, found.real, found.stat, name);
      }
    }
    if (!options.listing) return miss(404);
    return listDirectory(req, real, segments);
  }

  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      // RFC 9110 §9.3.7: OPTIONS answers what the resource allows, with no body.
      if (req.method === "OPTIONS") return empty(204, { allow: ALLOW });
      // §15.5.6: a 405 must say what is allowed. Nothing is ever written to disk.
      return miss(405, { allow: ALLOW });
    }
    const path = resolveRequestPath(req.pathname);
    if (path.kind === "bad-request") return errorReply(400);
    if (options.dotfiles !== "allow" && isHidden(path.segments)) return hidden();
    try {
      const found = await locate(path.segments);
      if (found.kind === "refused") return found.reply;
      const { real, stat } = found;
      switch (stat.kind) {
        case "directory":
          return await serveDirectory(req, real, path.segments, path.trailingSlash);
        case "file":
          // `/file.txt/` names a directory that is not there.
          if (path.trailingSlash && path.segments.length > 0) return miss(404);
          return await serveFile(req, real, stat, path.segments.at(-1) ?? "");
        case "other":
          // FIFOs, sockets and devices are never opened: a FIFO would block forever.
          return miss(404);
      }
    } catch (error) {
      const status = statusForError(error);
      if (status === 500) report(error, req);
      if (status === 404) return miss(404);
      return errorReply(status, status === 503 ? { "retry-after": "1" } : {});
    }
  };
}
