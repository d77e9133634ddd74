/**
 * A directory's listing as a cached resource: the directory is read once per
 * version (names, types, visibility; stats only where needed), and each request
 * picks its view — format by Accept or `?format=`, sort, filter, page — from it.
 *
 * Caching, bounded by construction (a hostile client sends endless `?q=` values):
 * - The directory's snapshot (names and kinds of the visible entries, the stats
 *   read so far) is one resource-cache entry, weighed by its names
 *   ({@link footprintOf}), dropped when the directory changes like any listing.
 * - Each format's default view (no filter, default order, first page) is kept as a
 *   page in the contents cache, within its byte budget, with its compressed forms:
 *   at most three pages per directory, the ones browsers and mirrors ask for.
 * - Every other view is rendered per request from the snapshot and not kept: its
 *   cost is one sort of the directory at most (name order is the snapshot's own)
 *   and the stats of one page, which stay in the snapshot (at most one per entry).
 *   Not compressed: a page is at most 10,000 rows, and compressing a body nobody
 *   else will ask for costs more than it saves.
 *
 * Stats: sorting by name needs none (the kind comes from the directory), so a
 * page stats only what it shows; sorting by size or date stats every entry that
 * passes the filter, once per snapshot. Visibility needs no stat: it is decided
 * on names, and a symlink's target is resolved when the directory is read.
 */
import { dirname, join } from "node:path";
import { qrMatrix, qrSvg } from "../../core/qr.js";
import { escapeHtml, utf8Bytes } from "../../core/text.js";
import type { WharfRequest } from "../../core/types.js";
import type { DirEntry, DirNames, FileStat, FileSystem } from "../../fs/types.js";
import type { Encoding } from "../../http/negotiate.js";
import { encodePathname } from "../../path/resolve.js";
import { ENCODINGS } from "../encoders.js";
import { bytesTag, type Contents, type FileContentsCache } from "../file-contents.js";
import { bytesVariant as fileBytesVariant } from "../file-variants.js";
import type { Pins, Resource } from "../resources.js";
import type { Variant } from "../variant.js";
import { listingPolicy } from "./assets.js";
import { type PageLink, renderHtml } from "./html.js";
import { renderJson, renderText } from "./machine.js";
import { chooseFormat } from "./negotiate.js";
import {
  type Columns,
  entryAt,
  firstByName,
  type ListedEntry,
  nameFilter,
  type PageSpan,
  pageSpan,
  sortByName,
  sortIndices,
} from "./order.js";
import { type Format, isDefaultView, type ListingDefaults, parseListingQuery, searchOf, type View, viewOf } from "./query.js";
import { renderReadme } from "./readme.js";

/**
 * The replies a listing's variants were built with (their 200 and 304), so that
 * `--metrics` can count a listing as one without the hot path carrying a tag: a
 * WeakSet filled when a page is rendered, looked up only by the metrics.
 */
const LISTING_REPLIES = new WeakSet<object>();

/** Whether `reply` is a listing's 200 or 304 (for the `kind` of the request metrics). */
export function isListingReply(reply: object): boolean {
  return LISTING_REPLIES.has(reply);
}

/** {@link fileBytesVariant}, its replies remembered as a listing's. */
function bytesVariant(...args: Parameters<typeof fileBytesVariant>): Variant {
  const variant = fileBytesVariant(...args);
  LISTING_REPLIES.add(variant.ok);
  LISTING_REPLIES.add(variant.notModified);
  return variant;
}

/** A resource in one or more codings. */
export type Representations = Extract<Resource, { kind: "representations" }>;

/** The listing settings, resolved (src/handler/options.ts). */
export interface ListingSettings extends ListingDefaults {
  /** Render README.md below the table. */
  readonly readme: boolean;
  /** The base URL another device opens, for the page's QR code (`--qr`); `undefined` for none. */
  readonly qr: (() => string | undefined) | undefined;
  /** Uploads (src/features/upload): the page of a directory in an area shows the upload form. */
  readonly upload?: UploadForm | undefined;
}

/** What the listing needs to know of uploads. */
export interface UploadForm {
  /** The upload directories, as decoded URL segments (`[[]]`: everywhere). */
  readonly areas: readonly (readonly string[])[];
  /** Whether folders may be uploaded (`mkdir`). */
  readonly folders: boolean;
}

/** The form for the directory at `segments`, if it is in an upload area. */
function uploadFormAt(form: UploadForm | undefined, segments: readonly string[]): { readonly folders: boolean } | undefined {
  if (form === undefined) return undefined;
  const inside = form.areas.some((area) => area.length <= segments.length && area.every((s, i) => segments[i] === s));
  return inside ? { folders: form.folders } : undefined;
}

const CONTENT_TYPE: Readonly<Record<Format, string>> = {
  html: "text/html; charset=utf-8",
  json: "application/json",
  text: "text/plain; charset=utf-8",
};

/** Smaller bodies are not compressed: the coding's overhead eats the gain. */
const MIN_COMPRESS_BYTES = 1024;

/**
 * What a snapshot keeps per entry besides its name's characters (counted at two
 * bytes each): the name's array slot and string header (8 + 16, its characters
 * rounded up to 8 bytes), its size and date (8 + 8) and whether they were read
 * (1), and its place in name order once a view needed it (8). Measured on Node
 * 20 for 100,000 names like `f12345.txt`: 57 bytes each with the names (40 of
 * heap, 17 of typed arrays), 65 with name order; this weighs them at 84. The
 * snapshot kept an object per entry before: 96 bytes and the name.
 */
const SNAP_ENTRY_BYTES = 64;

export interface ListingContext {
  readonly fs: FileSystem;
  readonly contents: FileContentsCache;
  readonly settings: ListingSettings;
  readonly compression: boolean;
  readonly cacheControl: string;
  /**
   * Whether the entry `name` of kind `kind` may be listed: exactly the check a
   * GET of it passes (resolver.ts `isListable`). `link` is a symlink's target's
   * canonical path; `undefined` for any other entry (its path is the directory's
   * and its name).
   */
  readonly listable: (name: string, kind: FileStat["kind"] | undefined, link: string | undefined) => boolean;
  /** Download links for the page (the archive feature), if any. */
  readonly archiveLinks?: readonly PageLink[] | undefined;
}

/** The listing of the directory at the canonical `real`, reached by `segments`. */
export async function listingResource(ctx: ListingContext, real: string, segments: readonly string[], pins: Pins): Promise<Resource> {
  const { fs, contents, settings } = ctx;
  // Every entry added, removed or written shows as a change of the directory.
  pins.watch(real);
  const lazy = fs.readdirNames !== undefined && fs.statEntries !== undefined;
  // The directory is read from its own checked descriptor (FileSystem.readdir),
  // so a directory swapped for a link to the outside cannot be listed.
  const read: DirNames = lazy ? await fs.readdirNames!(real) : namesOf(await fs.readdir(real));
  // What the directory read already knows: a symlink's target's stat (or, from
  // a file system without readdirNames, every entry's). Few entries otherwise.
  const known = new Map<string, FileStat>();
  const dirNames: string[] = [];
  const fileNames: string[] = [];
  for (let i = 0; i < read.names.length; i++) {
    const name = read.names[i]!;
    const kind = read.kinds[i]!;
    if (!ctx.listable(name, kind, undefined)) continue;
    (kind === "directory" ? dirNames : fileNames).push(name);
  }
  let readmeAt: string | undefined = settings.readme && fileNames.includes("README.md") ? join(real, "README.md") : undefined;
  for (const e of read.others) {
    // A symlink by its target's canonical path (none: dangling or looping, never listed).
    if (e.symlink && e.real === undefined) continue;
    if (!ctx.listable(e.name, e.kind, e.symlink ? e.real : undefined)) continue;
    // A symlink shows its target's size and date: a change there too.
    if (e.symlink && e.real !== undefined) pins.watch(dirname(e.real), "already-read");
    if (e.stat !== undefined) known.set(e.name, e.stat);
    if (e.kind === "directory") dirNames.push(e.name);
    else {
      fileNames.push(e.name);
      if (settings.readme && e.name === "README.md") readmeAt = e.real;
    }
  }
  // Directories first, each group in the order read; name order is made on first need.
  const columns = snapshotOf(dirNames, fileNames, known);
  const nameAt = (i: number): string => columns.names[i]!;
  const indices = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, n) => from + n);
  let nameOrder: number[] | undefined;
  /** Every entry's index in name order, directories first: the order every view starts from. Sorted once. */
  const inNameOrder = (): number[] =>
    (nameOrder ??= [...sortByName(indices(0, columns.dirs), nameAt), ...sortByName(indices(columns.dirs, columns.names.length), nameAt)]);
  /**
   * The first `count` entries in name order, without sorting the rest until a
   * view needs them: the first page of 100,000 names by name costs 150,000
   * comparisons, not 1.7 million.
   */
  const firstInNameOrder = (count: number): number[] => {
    if (nameOrder !== undefined) return nameOrder.slice(0, count);
    const dirs = firstByName(indices(0, columns.dirs), nameAt, count);
    if (dirs.length >= count) return dirs;
    return dirs.concat(firstByName(indices(columns.dirs, columns.names.length), nameAt, count - dirs.length));
  };

  let readme: string | undefined;
  if (readmeAt !== undefined) {
    const stat = await fs.stat(readmeAt).catch(() => undefined);
    const held = stat?.kind === "file" ? await contents.contentsOf(readmeAt, stat) : undefined;
    if (held?.body !== undefined) {
      pins.hold(held);
      readme = await renderReadme(held.body);
    }
  }

  /** Fills in the stats of the entries `wanted` not read yet, from the directory's descriptor. */
  async function statOf(wanted: readonly number[]): Promise<void> {
    const missing = wanted.filter((i) => columns.read[i] === 0);
    if (missing.length === 0) return;
    const stats = await fs.statEntries!(
      real,
      missing.map((i) => columns.names[i]!),
    );
    missing.forEach((i, n) => {
      const s = stats[n];
      columns.sizes[i] = s?.size ?? Number.NaN;
      columns.mtimes[i] = s?.mtimeMs ?? Number.NaN;
      columns.read[i] = 1;
    });
  }

  const base = encodePathname(segments, true);
  const cacheControl = ctx.cacheControl;

  /** The page of `view`: its entries (stats read), its place among the rest. */
  async function pageOf(view: View): Promise<{ shown: ListedEntry[]; span: PageSpan }> {
    const filter = nameFilter(view.q);
    const count = columns.names.length;
    const byName = view.sort === "name" && view.order === "asc";
    // Unfiltered and by name, a page is a stretch of name order: the first one needs no full sort.
    let sorted: number[] | undefined;
    if (filter !== undefined || !byName) {
      const matching = filter === undefined ? inNameOrder() : inNameOrder().filter((i) => filter(nameAt(i)));
      if (view.sort !== "name") await statOf(matching);
      sorted = byName ? matching : sortIndices(columns, matching, view.sort, view.order);
    }
    const span = pageSpan(sorted?.length ?? count, view.offset, view.limit);
    const page =
      sorted?.slice(span.offset, span.offset + span.shown) ??
      (span.offset === 0 ? firstInNameOrder(span.shown) : inNameOrder().slice(span.offset, span.offset + span.shown));
    await statOf(page);
    return { shown: page.map((i) => entryAt(columns, i)), span };
  }

  /** The headers every variant of `view` adds: Link to its neighbours (RFC 8288), and the page's CSP. */
  function headersOf(view: View, span: PageSpan, images: boolean): Record<string, string> {
    const headers: Record<string, string> = {};
    // Relative references (RFC 8288 §3.1: resolved against the request's URL), so they hold under a mount prefix.
    const ref = (offset: number): string => {
      const search = searchOf(view, { offset }, settings);
      return search === "" ? "./" : search;
    };
    const links: string[] = [];
    if (span.prev !== undefined) links.push(`<${ref(span.prev)}>; rel="prev"`);
    if (span.next !== undefined) links.push(`<${ref(span.next)}>; rel="next"`);
    if (links.length > 0) headers["link"] = links.join(", ");
    if (view.format === "html") headers["content-security-policy"] = listingPolicy(images, upload !== undefined);
    return headers;
  }

  const varyAccept = settings.formats.length > 1 ? "accept" : undefined;
  const upload = uploadFormAt(settings.upload, segments);

  // `--qr`: this directory's address on the LAN, made once per snapshot and only
  // for an HTML page. Never from the request's Host (see server/lan.ts).
  let qr: string | undefined;
  const qrOf = (): string | undefined => {
    if (settings.qr === undefined) return undefined;
    const lan = settings.qr();
    if (lan === undefined) return undefined;
    const url = lan + base.slice(1);
    qr ??= `<figure class=qr>${qrSvg(qrMatrix(url), `QR code of ${escapeHtml(url)}`)}<figcaption>Scan to open <bdi dir=ltr>${escapeHtml(url)}</bdi></figcaption></figure>`;
    return qr;
  };

  async function build(view: View, keep: boolean): Promise<Representations> {
    const { shown, span } = await pageOf(view);
    const withReadme = view.format === "html" && readme !== undefined && view.offset === 0 && view.q === "" ? readme : undefined;
    const text =
      view.format === "json"
        ? renderJson(shown)
        : view.format === "text"
          ? renderText(shown)
          : renderHtml({
              segments,
              entries: shown,
              view,
              span,
              defaults: settings,
              readme: withReadme,
              archiveLinks: ctx.archiveLinks,
              upload,
              qr: qrOf(),
            });
    const bytes = utf8Bytes(text);
    const type = CONTENT_TYPE[view.format];
    const extra = { vary: varyAccept, headers: headersOf(view, span, withReadme !== undefined) };
    if (!keep) {
      const identity = bytesVariant(bytes, bytesTag(bytes), type, cacheControl, undefined, false, extra);
      return { kind: "representations", identity, offered: [], onDisk: [], footprint: 0, variant: () => identity };
    }
    // Kept by the contents cache, within its budget, under the canonical URL and
    // format: a hot listing is re-rendered every window, but the same page is the
    // same Contents, so it is compressed only when it changed.
    const page = contents.page(`\0listing${base}\0${view.format}`, bytes);
    const body = page.body as Uint8Array;
    // Not held (larger than the budget): not kept here either, so the budget bounds every kept page.
    if (!contents.holds(page)) {
      const identity = bytesVariant(body, page.etag, type, cacheControl, undefined, false, extra);
      const once: Representations = { kind: "representations", identity, offered: [], onDisk: [], footprint: 0, variant: () => identity };
      unkept.add(once);
      return once;
    }
    pins.hold(page);
    // A page too large for the budget is not kept, nor compressed per request.
    const offered = ctx.compression && body.length >= MIN_COMPRESS_BYTES ? ENCODINGS : [];
    const identity = bytesVariant(body, page.etag, type, cacheControl, undefined, offered.length > 0, extra);
    const made = new Map<Encoding, Variant | Promise<Variant>>();
    return {
      kind: "representations",
      identity,
      offered,
      onDisk: [],
      footprint: 0,
      variant(encoding) {
        let variant = made.get(encoding);
        if (variant === undefined) {
          const compressed = contents.encodedOf(page, encoding);
          // Not kept (the budget has no room for it): the page as it is, which says Vary.
          if (compressed === undefined) return identity;
          const pending = Promise.resolve(compressed).then((c: Contents) => {
            pins.hold(c);
            return bytesVariant(c.body as Uint8Array, c.etag, type, cacheControl, encoding, true, extra);
          });
          made.set(encoding, pending);
          // Kept once made, so the next request answers without waiting; forgotten if it failed.
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

  // The default view of each format, made on first demand and kept (settled, so the next request answers in the same tick).
  const defaults = new Map<Format, Representations | Promise<Representations>>();
  const unkept = new WeakSet<Representations>();
  return {
    kind: "listing",
    footprint: footprintOf(columns.names) + 2 * (readme?.length ?? 0),
    select(req: WharfRequest): Representations | Promise<Representations> {
      const query = parseListingQuery(req.search, settings);
      const format = chooseFormat(req.header("accept"), query.format, settings.formats);
      const view = viewOf(query, format, settings);
      if (!isDefaultView(view, settings)) return build(view, false);
      let made = defaults.get(format);
      if (made === undefined) {
        const pending = build(view, true);
        defaults.set(format, pending);
        pending.then(
          (r) => (unkept.has(r) ? defaults.delete(format) : defaults.set(format, r)),
          () => defaults.delete(format),
        );
        made = pending;
      }
      return made;
    },
  };
}

/**
 * The entries of a file system without `readdirNames`, in its shape: every entry
 * with its stat (DirEntry), so each one is in `others`, its stat known.
 */
function namesOf(entries: readonly DirEntry[]): DirNames {
  return {
    names: [],
    kinds: [],
    others: entries.map((e) => ({ name: e.name, symlink: e.symlink, kind: e.stat?.kind, stat: e.stat, real: e.real })),
  };
}

/** The snapshot's columns: directories, then files, as read; the stats known so far filled in. */
function snapshotOf(
  dirNames: string[],
  fileNames: string[],
  known: ReadonlyMap<string, FileStat>,
): Columns & { readonly read: Uint8Array } {
  const names = dirNames.concat(fileNames);
  const sizes = new Float64Array(names.length).fill(Number.NaN);
  const mtimes = new Float64Array(names.length).fill(Number.NaN);
  const read = new Uint8Array(names.length);
  if (known.size > 0) {
    for (let i = 0; i < names.length; i++) {
      const stat = known.get(names[i]!);
      if (stat === undefined) continue;
      sizes[i] = stat.size;
      mtimes[i] = stat.mtimeMs;
      read[i] = 1;
    }
  }
  return { names, dirs: dirNames.length, sizes, mtimes, read };
}

/** Bytes a snapshot of `names` keeps: the names at two bytes a character, and each entry's columns. */
export function footprintOf(names: readonly string[]): number {
  let bytes = 0;
  for (const name of names) bytes += SNAP_ENTRY_BYTES + 2 * name.length;
  return bytes;
}
