/**
 * Directory listing as a small, self-contained HTML page. Pure: the caller reads
 * the directory, filters what must not be shown (hidden entries, unless allowed),
 * and hands the entries here.
 *
 * The page carries no script and loads nothing, and says so in its own CSP, so
 * even an escaping bug here could not run code on the server's origin.
 */
import { encodeSegment, resolveRequestPath } from "../path/resolve.js";
import { escapeHtml, humanSize } from "../core/text.js";
import { LINK_CSS, THEME_CSS } from "../core/theme.js";

/** One row of a listing. */
export interface ListingEntry {
  /** The entry's name as read from the directory (decoded text, no `/`). */
  readonly name: string;
  /** What the name points to, after following symlinks; `other` for sockets, FIFOs, dangling links. */
  readonly kind: "file" | "directory" | "other";
  /** Bytes, for files; `undefined` when unknown. */
  readonly size: number | undefined;
  /** Last modification, ms since the epoch; `undefined` when unknown. */
  readonly mtimeMs: number | undefined;
}

// Natural order ("file2" before "file10"), case- and accent-insensitive, built
// once: constructing a Collator costs far more than comparing with one.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Code-point order, so names the collator calls equal still sort the same way every time. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true || y.done === true) return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function compareNames(a: ListingEntry, b: ListingEntry): number {
  return collator.compare(a.name, b.name) || compareCodePoints(a.name, b.name);
}

// Past ±8.64e15 ms a Date is invalid and toISOString throws; a corrupt mtime must
// not take the listing down.
const MAX_DATE_MS = 8.64e15;

function sizeCell(entry: ListingEntry): string {
  if (entry.kind === "directory" || entry.size === undefined || !Number.isFinite(entry.size)) {
    return "<td class=size>—</td>";
  }
  return `<td class=size title="${entry.size} bytes">${humanSize(entry.size)}</td>`;
}

function modifiedCell(mtimeMs: number | undefined): string {
  if (mtimeMs === undefined || !Number.isFinite(mtimeMs) || Math.abs(mtimeMs) > MAX_DATE_MS) {
    return "<td class=mtime></td>";
  }
  const iso = new Date(mtimeMs).toISOString(); // 2026-11-26T10:00:00.000Z
  // Minutes are enough to read; the exact instant is in the datetime attribute.
  return `<td class=mtime><time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)}</time></td>`;
}

/**
 * Whether the link to `name` leads back to it: resolveRequestPath refuses some
 * characters (NUL anywhere; on Windows `\\` and controls), so linking such a name
 * would only produce a 400. The resolver leaves those names out of a listing;
 * here they are shown without a link, as a second line of defence.
 */
function isLinkable(name: string): boolean {
  if (name === "" || name === "." || name === ".." || name.includes("/")) return false;
  const back = resolveRequestPath(`/${encodeSegment(name)}`);
  return back.kind === "ok" && back.segments.length === 1 && back.segments[0] === name;
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

function row(entry: ListingEntry): string {
  const dir = entry.kind === "directory";
  const shown = escapeHtml(visibleName(entry.name)) + (dir ? "/" : "");
  // `<bdi>` isolates each name, so a right-to-left override inside one name
  // cannot reorder the rest of the row. Its base direction is left to right: a
  // bare `<bdi>` (like dir="auto") takes it from the first strong character, and
  // `مرحبا.txt` then reads `txt.مرحبا`; file managers and Python's listing keep
  // the extension on the right (UAX #9: the isolate's paragraph level is LTR).
  let name: string;
  if (entry.kind !== "other" && isLinkable(entry.name)) {
    // Relative (so the listing works under any mount point or proxy prefix) and
    // prefixed with `./`, so `javascript:x` or `a:b` is a path, never a scheme
    // (RFC 3986 §4.2: a colon in the first segment reads as a scheme).
    const href = "./" + encodeSegment(entry.name) + (dir ? "/" : "");
    name = `<a href="${escapeHtml(href)}"><bdi dir=ltr>${shown}</bdi></a>`;
  } else {
    name = `<bdi dir=ltr>${shown}</bdi>`;
  }
  return `<tr><td class=name>${name}</td>${sizeCell(entry)}${modifiedCell(entry.mtimeMs)}</tr>`;
}

const STYLE = `${THEME_CSS}
table{width:100%;border-collapse:collapse}
th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:500}
td.name{overflow-wrap:anywhere}
.size,.mtime{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
.size{text-align:right}
${LINK_CSS}
@media (max-width:36rem){.mtime{display:none}}`;

/**
 * The most entries a listing shows. Past it the page shows the first ones in
 * listing order and says how many more there are: a directory of 100,000 files
 * would otherwise be a 20 MB page, rendered and hashed again every revalidation
 * window, and no browser shows it usefully anyway.
 */
export const MAX_LISTING_ENTRIES = 10_000;

/**
 * Renders the listing of the directory at `segments` (decoded, as from
 * resolveRequestPath). The page must be served at the directory's URL with its
 * trailing slash (`/a/b/`), since every link is relative to it; the caller
 * redirects `/a/b` there first.
 *
 * Order: `../` (except at the root), directories, then everything else; each
 * group in natural, case-insensitive order. At most `limit` entries
 * ({@link MAX_LISTING_ENTRIES} by default) are shown, then a row saying how many
 * were left out.
 */
export function renderListing(input: {
  readonly segments: readonly string[];
  readonly entries: readonly ListingEntry[];
  readonly limit?: number;
}): string {
  const path = escapeHtml(visibleName(input.segments.length === 0 ? "/" : `/${input.segments.join("/")}/`));
  const limit = input.limit ?? MAX_LISTING_ENTRIES;
  const dirs = input.entries.filter((e) => e.kind === "directory").sort(compareNames);
  // When the directories alone fill the page, the other entries need no sorting.
  const rest = dirs.length >= limit ? [] : input.entries.filter((e) => e.kind !== "directory").sort(compareNames);
  const rows: string[] = [];
  if (input.segments.length > 0) {
    rows.push(`<tr><td class=name><a href="../">../</a></td><td class=size>—</td><td class=mtime></td></tr>`);
  }
  for (const entry of dirs.slice(0, limit)) rows.push(row(entry));
  for (const entry of rest.slice(0, Math.max(0, limit - dirs.length))) rows.push(row(entry));
  const hidden = input.entries.length - Math.min(limit, input.entries.length);
  if (hidden > 0) {
    rows.push(`<tr><td class=name colspan=3>${hidden.toLocaleString("en")} more ${hidden === 1 ? "entry" : "entries"} not shown (a listing shows the first ${limit.toLocaleString("en")})</td></tr>`);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Index of ${path}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Index of <bdi dir=ltr>${path}</bdi></h1>
<table>
<thead><tr><th>Name</th><th class=size>Size</th><th class=mtime>Modified (UTC)</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</body>
</html>
`;
}
