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
import { dirname } from "node:path";
import type { WharfRequest } from "../../core/types.js";
import type { DirName, FileSystem } from "../../fs/types.js";
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
import { type ListedEntry, nameFilter, type PageSpan, pageSpan, sortByName, sortEntries } from "./order.js";
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
}

const CONTENT_TYPE: Readonly<Record<Format, string>> = {
  html: "text/html; charset=utf-8",
  json: "application/json",
  text: "text/plain; charset=utf-8",
};

/** Smaller bodies are not compressed: the coding's overhead eats the gain. */
const MIN_COMPRESS_BYTES = 1024;

/** One visible entry; `size` and `mtimeMs` are filled the first time a page shows it or a sort needs them. */
interface SnapEntry {
  readonly name: string;
  readonly kind: "file" | "directory";
  size: number | undefined;
  mtimeMs: number | undefined;
  known: boolean;
}

/** What a snapshot weighs besides its names: the entry object and its array slot, measured at about 70 bytes on Node 20. */
const SNAP_ENTRY_BYTES = 96;

export interface ListingContext {
  readonly fs: FileSystem;
  readonly contents: FileContentsCache;
  readonly settings: ListingSettings;
  readonly compression: boolean;
  readonly cacheControl: string;
  /** Whether `entry` may be listed: exactly the check a GET of it passes (resolver.ts `isListable`). */
  readonly listable: (entry: DirName) => boolean;
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
  const names: DirName[] = lazy
    ? await fs.readdirNames!(real)
    : (await fs.readdir(real)).map((e) => ({ name: e.name, symlink: e.symlink, kind: e.stat?.kind, stat: e.stat, real: e.real }));
  const found: SnapEntry[] = [];
  let readmeAt: string | undefined;
  for (const e of names) {
    if (!ctx.listable(e)) continue;
    // A symlink shows its target's size and date: a change there too.
    if (e.symlink && e.real !== undefined) pins.watch(dirname(e.real), "already-read");
    const kind = e.kind === "directory" ? "directory" : "file";
    found.push({ name: e.name, kind, size: e.stat?.size, mtimeMs: e.stat?.mtimeMs, known: e.stat !== undefined });
    if (settings.readme && kind === "file" && e.name === "README.md") readmeAt = e.real;
  }
  // Directories first, each group in name order: the order every view starts from.
  const dirs = sortByName(
    found.filter((e) => e.kind === "directory"),
    (e) => e.name,
  );
  const files = sortByName(
    found.filter((e) => e.kind !== "directory"),
    (e) => e.name,
  );
  const entries: readonly SnapEntry[] = [...dirs, ...files];

  let readme: string | undefined;
  if (readmeAt !== undefined) {
    const stat = await fs.stat(readmeAt).catch(() => undefined);
    const held = stat?.kind === "file" ? await contents.contentsOf(readmeAt, stat) : undefined;
    if (held?.body !== undefined) {
      pins.hold(held);
      readme = await renderReadme(held.body);
    }
  }

  /** Fills in the stats of `wanted` not read yet, from the directory's descriptor. */
  async function statOf(wanted: readonly SnapEntry[]): Promise<void> {
    const missing = wanted.filter((e) => !e.known);
    if (missing.length === 0) return;
    const stats = await fs.statEntries!(
      real,
      missing.map((e) => e.name),
    );
    missing.forEach((e, i) => {
      const s = stats[i];
      e.size = s?.size;
      e.mtimeMs = s?.mtimeMs;
      e.known = true;
    });
  }

  const base = encodePathname(segments, true);
  const cacheControl = ctx.cacheControl;

  /** The page of `view`: its entries (stats read), its place among the rest. */
  async function pageOf(view: View): Promise<{ shown: ListedEntry[]; span: PageSpan }> {
    const filter = nameFilter(view.q);
    const matching = filter === undefined ? entries : entries.filter((e) => filter(e.name));
    if (view.sort !== "name") await statOf(matching);
    const sorted = sortEntries(matching, view.sort, view.order);
    const span = pageSpan(sorted.length, view.offset, view.limit);
    const shown = sorted.slice(span.offset, span.offset + span.shown);
    await statOf(shown);
    return { shown, span };
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
    if (view.format === "html") headers["content-security-policy"] = listingPolicy(images);
    return headers;
  }

  const varyAccept = settings.formats.length > 1 ? "accept" : undefined;

  async function build(view: View, keep: boolean): Promise<Representations> {
    const { shown, span } = await pageOf(view);
    const withReadme = view.format === "html" && readme !== undefined && view.offset === 0 && view.q === "" ? readme : undefined;
    const text =
      view.format === "json"
        ? renderJson(shown)
        : view.format === "text"
          ? renderText(shown)
          : renderHtml({ segments, entries: shown, view, span, defaults: settings, readme: withReadme, archiveLinks: ctx.archiveLinks });
    const bytes = new TextEncoder().encode(text);
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
    footprint: footprintOf(entries) + 2 * (readme?.length ?? 0),
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

/** Bytes a snapshot of `entries` keeps: its names at two bytes a character, and each entry's objects. */
export function footprintOf(entries: readonly { readonly name: string }[]): number {
  let bytes = 0;
  for (const e of entries) bytes += SNAP_ENTRY_BYTES + 2 * e.name.length;
  return bytes;
}
