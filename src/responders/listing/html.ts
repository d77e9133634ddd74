/**
 * The listing as an HTML page. Pure: the caller has read the directory, kept only
 * what a GET would serve, sorted and sliced it; this renders one page.
 *
 * Complete without JavaScript: sorting is links in the column headers, filtering
 * a GET form, paging links; the optional inline script only filters as you type.
 * Every link is relative, so the page works under any mount point or proxy prefix,
 * and the page loads nothing else (one inline sprite, style and script, each
 * allowed by hash in its CSP: see assets.ts).
 */
import { escapeHtml, humanSize } from "../../core/text.js";
import { encodeSegment, linksBackTo } from "../../path/resolve.js";
import { FILTER_SCRIPT, ICON, LISTING_CSS, listingPolicy, SPRITE, UPLOAD_SCRIPT } from "./assets.js";
import { compareEntries, type ListedEntry, type PageSpan, pageSpan } from "./order.js";

export type { ListedEntry } from "./order.js";

import { DEFAULTS, type ListingDefaults, type SortKey, searchOf, type View, viewOf } from "./query.js";

/** A link the page shows above the table, e.g. an archive of the directory (`?download=zip`). */
export interface PageLink {
  /** Visible text. */
  readonly label: string;
  /** A relative URL reference, e.g. `?download=zip`; escaped here. */
  readonly href: string;
}

export interface HtmlPageInput {
  /** The directory's decoded URL segments (the page is served at `/a/b/`). */
  readonly segments: readonly string[];
  /** This page's entries, in order. */
  readonly entries: readonly ListedEntry[];
  readonly view: View;
  readonly span: PageSpan;
  readonly defaults?: ListingDefaults;
  /** README.md rendered and sanitised (readme.ts), shown below the table. */
  readonly readme?: string | undefined;
  /**
   * Extra download links shown above the table (the archive feature's
   * `?download=zip|tar`): the hook for features that add links to the page.
   */
  readonly archiveLinks?: readonly PageLink[] | undefined;
  /** A QR code of the directory's LAN address (`--qr`): a `<figure>` with inline SVG, trusted markup (core/qr.ts). */
  readonly qr?: string | undefined;
  /** The directory takes uploads (src/features/upload): show the form; `folders` when directories may be made. */
  readonly upload?: { readonly folders: boolean } | undefined;
}

/**
 * The upload form: a plain multipart POST to this directory, complete without
 * JavaScript (the server answers 303 back to this page); the script adds drag
 * and drop, folders, progress and the credentials check (assets.ts).
 */
function uploadForm(folders: boolean): string {
  const folder = folders ? `<button type=button data-folder hidden>Upload a folder…</button>` : "";
  return `<form class=upload method=post action="./" enctype="multipart/form-data" data-upload${folders ? " data-folders" : ""}><label for=upload-files>Upload files</label><input id=upload-files name=file type=file multiple required><button>Upload</button>${folder}<output aria-live=polite></output><ul></ul></form>`;
}

/**
 * The name as shown: C0 controls and DEL (allowed in POSIX names, reachable as
 * `%09` and so on) become their Unicode control pictures (U+2400-U+2421), so a
 * tab or a newline is visible in the page instead of vanishing into whitespace,
 * and nothing invisible can make two names look alike.
 */
export function visibleName(name: string): string {
  return /[\u0000-\u001f\u007f]/.test(name)
    ? name.replace(/[\u0000-\u001f\u007f]/g, (c) => String.fromCharCode(c === "\u007f" ? 0x2421 : 0x2400 + c.charCodeAt(0)))
    : name;
}

/**
 * Whether the link to `name` leads back to it ({@link linksBackTo}: the
 * resolver refuses some characters, NUL anywhere, on Windows `\\` and
 * controls, so linking such a name would only produce a 400). The resolver
 * leaves those names out of a listing; here they are shown without a link, as a
 * second line of defence.
 */
const isLinkable = (name: string): boolean => linksBackTo(name);

/** Thousands separators for the exact size in a title: `toLocaleString("en")`, with one formatter for every row. */
const BYTES = new Intl.NumberFormat("en");

// Past ±8.64e15 ms a Date is invalid and toISOString throws; a corrupt mtime must
// not take the listing down.
const MAX_DATE_MS = 8.64e15;

const icon = (id: string): string => `<svg class=icon aria-hidden="true" focusable="false"><use href="#${id}"/></svg>`;

function sizeCell(entry: ListedEntry): string {
  if (entry.kind === "directory" || entry.size === undefined || !Number.isFinite(entry.size)) {
    return "<td class=size>—</td>";
  }
  return `<td class=size title="${BYTES.format(entry.size)} ${entry.size === 1 ? "byte" : "bytes"}">${humanSize(entry.size)}</td>`;
}

function modifiedCell(mtimeMs: number | undefined): string {
  if (mtimeMs === undefined || !Number.isFinite(mtimeMs) || Math.abs(mtimeMs) > MAX_DATE_MS) {
    return "<td class=mtime></td>";
  }
  const iso = new Date(mtimeMs).toISOString(); // 2026-11-26T10:00:00.000Z
  // Minutes are enough to read; the exact instant is in the datetime attribute.
  // The time of day is dropped on a narrow screen (.hm), the date stays.
  return `<td class=mtime><time datetime="${iso}">${iso.slice(0, 10)}<span class=hm> ${iso.slice(11, 16)}</span></time></td>`;
}

function row(entry: ListedEntry): string {
  const dir = entry.kind === "directory";
  const shown = escapeHtml(visibleName(entry.name)) + (dir ? "/" : "");
  // `<bdi>` isolates each name, so a right-to-left override inside one name
  // cannot reorder the rest of the row. Its base direction is left to right: a
  // bare `<bdi>` (like dir="auto") takes it from the first strong character, and
  // `مرحبا.txt` then reads `txt.مرحبا`; file managers and Python's listing keep
  // the extension on the right (UAX #9: the isolate's paragraph level is LTR).
  let name: string;
  if (isLinkable(entry.name)) {
    // Relative (so the listing works under any mount point or proxy prefix) and
    // prefixed with `./`, so `javascript:x` or `a:b` is a path, never a scheme
    // (RFC 3986 §4.2: a colon in the first segment reads as a scheme).
    const href = `./${encodeSegment(entry.name)}${dir ? "/" : ""}`;
    name = `<a href="${escapeHtml(href)}"><bdi dir=ltr>${shown}</bdi></a>`;
  } else {
    name = `<bdi dir=ltr>${shown}</bdi>`;
  }
  return `<tr data-entry><td class=name>${icon(dir ? ICON.directory : ICON.file)}${name}</td>${sizeCell(entry)}${modifiedCell(entry.mtimeMs)}</tr>`;
}

/** `./` or `?...`: a link to this directory with `search`. */
const here = (search: string): string => escapeHtml(search === "" ? "./" : search);

const LABEL: Readonly<Record<SortKey, string>> = { name: "Name", size: "Size", mtime: "Modified (UTC)" };

/**
 * A column header: a plain link that sorts by its column and keeps the filter
 * and page size (the offset is reset: page 3 of another order means nothing).
 * Clicking the sorted column reverses it. `aria-sort` only on the sorted one
 * (WAI-ARIA 1.2: at most one header per table carries it).
 */
function header(key: SortKey, view: View, defaults: ListingDefaults): string {
  const sorted = view.sort === key;
  const order = sorted ? (view.order === "asc" ? "desc" : "asc") : key === "name" ? "asc" : "desc";
  const href = here(searchOf(view, { sort: key, order, offset: 0 }, defaults));
  const aria = sorted ? ` aria-sort="${view.order === "asc" ? "ascending" : "descending"}"` : "";
  const arrow = sorted ? (view.order === "asc" ? " ▲" : " ▼") : "";
  const cls = key === "name" ? "" : ` class=${key}`;
  return `<th scope=col${cls}${aria}><a href="${href}">${LABEL[key]}<span aria-hidden="true">${arrow}</span></a></th>`;
}

/** Breadcrumbs: each ancestor a relative link, the directory itself marked `aria-current="page"`. */
function breadcrumbs(segments: readonly string[]): string {
  const crumbs: string[] = [];
  const names = ["/", ...segments];
  names.forEach((name, i) => {
    const up = segments.length - i;
    const href = up === 0 ? "./" : "../".repeat(up);
    const label = i === 0 ? `<span class=visually-hidden>root </span>/` : `<bdi dir=ltr>${escapeHtml(visibleName(name))}</bdi>`;
    crumbs.push(`<li><a href="${href}"${up === 0 ? ' aria-current="page"' : ""}>${label}</a></li>`);
  });
  return `<nav class=crumbs aria-label="Breadcrumb"><ol>${crumbs.join("")}</ol></nav>`;
}

/** `1–1,000 of 23,456`, or what is missing. */
export function spanText(span: PageSpan, q: string): string {
  const of = `${span.total.toLocaleString("en")} ${span.total === 1 ? "entry" : "entries"}`;
  const matching = q === "" ? "" : ` matching “${escapeHtml(visibleName(q))}”`;
  if (span.shown === 0) return span.total === 0 ? `No entries${matching}` : `None past ${of}${matching}`;
  return `${(span.offset + 1).toLocaleString("en")}–${(span.offset + span.shown).toLocaleString("en")} of ${of}${matching}`;
}

/** The filter: a GET form to this directory that keeps the sort and page size; `data-live` when the script may filter as you type. */
function filterForm(view: View, span: PageSpan, defaults: ListingDefaults): string {
  const keep = new URLSearchParams(searchOf(view, { q: "", offset: 0 }, defaults).slice(1));
  const hidden = [...keep].map(([k, v]) => `<input type=hidden name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("");
  const live = span.next === undefined && span.prev === undefined ? " data-live" : "";
  return `<form role=search method=get action="./"${live}><label for=q>Filter</label><input id=q name=q type=search value="${escapeHtml(view.q)}" maxlength=256 autocomplete=off placeholder="part of a name">${hidden}<button>Filter</button>${view.q === "" ? "" : `<a href="${here(searchOf(view, { q: "", offset: 0 }, defaults))}">Clear</a>`}</form>`;
}

function pager(view: View, span: PageSpan, defaults: ListingDefaults): string {
  const link = (offset: number | undefined, rel: string, text: string): string =>
    offset === undefined
      ? `<span aria-hidden="true"></span>`
      : `<a rel=${rel} href="${here(searchOf(view, { offset }, defaults))}">${text}</a>`;
  return `<nav class=pages aria-label="Pages">${link(span.prev, "prev", "← Previous")}<span>${spanText(span, view.q)}</span>${link(span.next, "next", "Next →")}</nav>`;
}

/**
 * Renders one page of the listing of the directory at `segments`. It must be
 * served at the directory's URL with its trailing slash (`/a/b/`), since every
 * link is relative to it; the caller redirects `/a/b` there first.
 */
export function renderHtml(input: HtmlPageInput): string {
  const defaults = input.defaults ?? DEFAULTS;
  const { segments, view, span } = input;
  const path = escapeHtml(visibleName(segments.length === 0 ? "/" : `/${segments.join("/")}/`));
  const rows: string[] = [];
  if (segments.length > 0) {
    rows.push(`<tr><td class=name>${icon(ICON.parent)}<a href="../">../</a></td><td class=size>—</td><td class=mtime></td></tr>`);
  }
  for (const entry of input.entries) rows.push(row(entry));
  const paged = span.next !== undefined || span.prev !== undefined;
  const downloads = (input.archiveLinks ?? []).map((l) => `<a href="${escapeHtml(l.href)}" download>${escapeHtml(l.label)}</a>`).join(" ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${listingPolicy(input.readme !== undefined, input.upload !== undefined)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Index of ${path}</title>
<style>${LISTING_CSS}</style>
</head>
<body>
${SPRITE}
<header>
${breadcrumbs(segments)}
<h1>Index of <bdi dir=ltr>${path}</bdi></h1>
${filterForm(view, span, defaults)}${downloads === "" ? "" : `\n<p class=downloads>Download: ${downloads}</p>`}${input.qr === undefined ? "" : `\n${input.qr}`}${input.upload === undefined ? "" : `\n${uploadForm(input.upload.folders)}`}
</header>
<main>
<table>
<caption>${spanText(span, view.q)}</caption>
<thead><tr>${header("name", view, defaults)}${header("size", view, defaults)}${header("mtime", view, defaults)}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
${paged ? pager(view, span, defaults) : ""}
${input.readme === undefined ? "" : `<article class=readme aria-label="README.md">\n${input.readme}</article>\n`}</main>
<script>${FILTER_SCRIPT}</script>
${input.upload === undefined ? "" : `<script>${UPLOAD_SCRIPT}</script>\n`}</body>
</html>
`;
}

/** The most entries one page shows (the largest `?limit=`). */
export const MAX_LISTING_ENTRIES = 10_000;

/**
 * The first page of `entries` (any order) in the default view: directories
 * first, natural order. For tests and custom handlers that have entries in hand.
 */
export function renderListing(input: {
  readonly segments: readonly string[];
  readonly entries: readonly ListedEntry[];
  readonly limit?: number;
}): string {
  const sorted = [...input.entries].sort(compareEntries);
  const view: View = {
    ...viewOf({ format: undefined, sort: undefined, order: undefined, q: "", limit: undefined, offset: 0 }, "html"),
    limit: input.limit ?? DEFAULTS.pageSize,
  };
  const span = pageSpan(sorted.length, 0, view.limit);
  return renderHtml({ segments: input.segments, entries: sorted.slice(0, span.shown), view, span });
}
