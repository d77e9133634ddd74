/**
 * `?download=zip|tar` on a directory URL: the directory as one archive, made
 * while it is sent. Off unless the operator lists formats in `archive`
 * (`--archive zip,tar`), since one request can make the server read a whole tree
 * (dufs 148, Caddy 4384 made theirs opt-in for that reason).
 *
 * The directory itself is found exactly as a GET finds it (the same path rules
 * and {@link visibilityOf}); anything else — a file, a hidden or missing path,
 * a format that is not on — is left to the static handler, which answers as it
 * would without the query. Every entry inside passes the walk's copy of the
 * listing's check (walk.ts).
 *
 * The response: 200, no Content-Length (chunked on HTTP/1.1), no validators
 * (the bytes are made anew each time), `Cache-Control: no-store`, and a
 * Content-Disposition naming `<dir>.zip` (RFC 6266 §4.3, with RFC 8187's
 * `filename*` for names that are not ASCII). A limit or a file changing while
 * it is read cuts the connection (source.ts), so the client sees a truncated
 * archive, never a complete-looking one. There is no 413/403 before sending: the
 * total is only known at the end of the walk, and a walk first would double the
 * work and still race with changes to the tree.
 */
import { join } from "node:path";
import { once } from "../../core/once.js";
import type { Reply, WharfRequest } from "../../core/types.js";
import type { FileStat } from "../../fs/types.js";
import { isCompressible } from "../../http/compressible.js";
import { contentTypeFor } from "../../http/content-type.js";
import { isHidden, resolveRequestPath } from "../../path/resolve.js";
import { type VisibilityRules, visibilityOf } from "../../path/visibility.js";
import type { StaticFilesOptions } from "../config.js";
import { canonicalRules } from "../hidden-files.js";
import { ByteBudget, openMember } from "./source.js";
import { tarStream } from "./tar.js";
import { walkTree } from "./walk.js";
import { zipStream } from "./zip.js";

/** The archive formats wharf writes. */
export type ArchiveFormat = "zip" | "tar";

/** Every format, in the order links show them. */
export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ["zip", "tar"];

const MEDIA_TYPE: Readonly<Record<ArchiveFormat, string>> = { zip: "application/zip", tar: "application/x-tar" };

/** Smaller files are stored: deflate's overhead eats the gain (as for responses, resolver.ts). */
const MIN_COMPRESS_BYTES = 1024;

/**
 * The archive links a listing page shows for a directory: one per format that
 * is on, relative to the page (`?download=zip`), none when archives are off.
 * The page at `/a/b/` links `?download=zip`, which resolves to `/a/b/?download=zip`.
 */
export function archiveLinks(
  options: Pick<StaticFilesOptions, "archive">,
): readonly { readonly format: ArchiveFormat; readonly href: string; readonly label: string }[] {
  return options.archive.map((format) => ({ format, href: `?download=${format}`, label: `Download .${format}` }));
}

/** The format `search` asks for, if it is one that is on. */
export function requestedFormat(search: string, enabled: readonly ArchiveFormat[]): ArchiveFormat | undefined {
  if (enabled.length === 0 || !search.includes("download=")) return undefined;
  const asked = new URLSearchParams(search).get("download");
  return enabled.find((f) => f === asked);
}

/**
 * `attachment; filename="..."` with an ASCII fallback, plus `filename*` in
 * RFC 8187's UTF-8 form when the name is not plain ASCII (RFC 6266 §4.3 and
 * appendix D: senders give both, recipients prefer `filename*`).
 */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  if (ascii === filename) return `attachment; filename="${filename}"`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** The archive's name and its top folder: the directory's name, `root` for the served root. */
export function archiveName(segments: readonly string[]): string {
  const last = segments.at(-1);
  return last === undefined || last === "" ? "root" : last;
}

/** The archive route: a reply for an archive request, or `undefined` to let the static handler answer. */
export type ArchiveRoute = (req: WharfRequest) => Promise<Reply | undefined>;

/** Builds the route, with the handler's {@link VisibilityRules} resolved once (again only if that failed). */
export function archiveRoute(options: StaticFilesOptions): ArchiveRoute {
  const { fs } = options;
  const rules = once(() => canonicalRules(options));
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") return undefined;
    const format = requestedFormat(req.search, options.archive);
    if (format === undefined) return undefined;
    const path = resolveRequestPath(req.pathname);
    if (path.kind !== "ok") return undefined;
    if (options.dotfiles !== "allow" && isHidden(path.segments)) return undefined;
    let visibility: VisibilityRules;
    let real: string;
    try {
      visibility = await rules();
      real = await fs.realpath(join(visibility.root, ...path.segments));
      if (visibilityOf(visibility, path.segments, real).kind !== "visible") return undefined;
      if ((await fs.stat(real)).kind !== "directory") return undefined;
    } catch {
      return undefined; // the static handler maps the same error to its status
    }
    const name = archiveName(path.segments);
    const open = (): AsyncIterable<Uint8Array> => {
      const budget = new ByteBudget(options.archiveMaxBytes);
      const entries = walkTree({ fs, rules: visibility, unlisted: options.unlisted, real, segments: path.segments });
      const members = {
        open: (entry: { real: string; stat: FileStat }) => openMember(fs, entry, budget),
        compress: (entry: { name: string }, size: number) => size >= MIN_COMPRESS_BYTES && isCompressible(contentTypeFor(entry.name)),
      };
      return format === "zip" ? zipStream(entries, `${name}/`, members) : tarStream(entries, `${name}/`, members);
    };
    return {
      status: 200,
      headers: {
        "content-type": MEDIA_TYPE[format],
        "content-disposition": contentDisposition(`${name}.${format}`),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
      body: { kind: "stream", open },
    };
  };
}
