/**
 * What the listing page carries besides its rows: one style sheet, one SVG sprite
 * of type icons, and one optional script, all inline so a page is one request, and
 * each allowed by its hash in the page's Content-Security-Policy (CSP Level 3
 * §8.4), so no other inline style or script runs, however it got into the page.
 */
import { createHash } from "node:crypto";
import { LINK_CSS, THEME_CSS } from "../../core/theme.js";

/** The CSP hash-source of an inline element's text. */
export function hashSource(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

// Narrow screens (a 390 px phone): the name column wraps anywhere, sizes and
// dates never do, and the time of day is dropped so the three columns fit
// without a horizontal scroll bar. Focus is always visible for keyboard users.
export const LISTING_CSS = `${THEME_CSS}
${LINK_CSS}
a:focus-visible,input:focus-visible,button:focus-visible{outline:2px solid var(--link);outline-offset:2px}
.sprite{position:absolute;width:0;height:0;overflow:hidden}
.crumbs ol{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem;color:var(--muted);overflow-wrap:anywhere}
.crumbs li+li::before{content:"›";margin-right:.25rem}
.crumbs [aria-current]{color:var(--fg);font-weight:600}
h1{margin:.25rem 0 .75rem}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 .75rem}
input[type=search]{flex:1 1 12rem;min-width:0;font:inherit;padding:.3rem .5rem;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px}
button{font:inherit;padding:.3rem .8rem;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px;cursor:pointer}
table{width:100%;border-collapse:collapse;table-layout:auto}
caption{text-align:left;color:var(--muted);padding:.25rem 0;caption-side:bottom}
th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
th a{color:var(--fg)}
td.name{overflow-wrap:anywhere;word-break:break-word}
.icon{width:1em;height:1em;vertical-align:-.15em;margin-right:.4rem;fill:none;stroke:var(--muted);stroke-width:1.5}
.size,.mtime{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
.size{text-align:right}
.pages{display:flex;flex-wrap:wrap;gap:1rem;justify-content:space-between;align-items:center;margin:.75rem 0;color:var(--muted)}
.readme{margin-top:2rem;padding-top:1rem;border-top:1px solid var(--line);overflow-wrap:anywhere}
.readme pre{overflow-x:auto;padding:.75rem;border:1px solid var(--line);border-radius:6px}
.readme img{max-width:100%}
.readme a{text-decoration:underline}
.qr{margin:0 0 .75rem;color:var(--muted);font-size:.875rem;overflow-wrap:anywhere}
.qr-code{display:block;width:12rem;height:12rem;max-width:100%}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:36rem){body{padding:.5rem}th,td{padding:.35rem .25rem}.hm{display:none}.icon{margin-right:.2rem}}`;

/** Icon ids, by entry kind. */
export const ICON = { directory: "i-dir", file: "i-file", parent: "i-up" } as const;

/** One sprite per page; rows refer to it with `<use href="#i-...">`, so an icon costs ~60 bytes a row and no request. */
export const SPRITE = `<svg class=sprite aria-hidden="true" focusable="false">
<symbol id="${ICON.directory}" viewBox="0 0 16 16"><path d="M1.5 3.5h4l1.5 1.5h7.5v8h-13z"/></symbol>
<symbol id="${ICON.file}" viewBox="0 0 16 16"><path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3"/></symbol>
<symbol id="${ICON.parent}" viewBox="0 0 16 16"><path d="M8 13V3 M4 7l4-4 4 4"/></symbol>
</svg>`;

/**
 * Filter as you type, on a listing that fits one page: rows whose name does not
 * contain the text are hidden. On a paged listing the script does nothing (it
 * would filter only the page shown); the form's GET filters the whole directory,
 * with or without the script.
 */
export const FILTER_SCRIPT = `(()=>{const f=document.querySelector("form[data-live]"),i=f&&f.elements.namedItem("q");if(!i)return;const rows=[...document.querySelectorAll("tbody tr[data-entry]")];i.addEventListener("input",()=>{const n=i.value.toLowerCase();for(const r of rows)r.hidden=n!==""&&!r.textContent.toLowerCase().includes(n)})})()`;

export const STYLE_HASH = hashSource(LISTING_CSS);
export const SCRIPT_HASH = hashSource(FILTER_SCRIPT);

/**
 * The page's policy: nothing loads or runs but this one style sheet and script;
 * forms submit only to this origin (`form-action` does not fall back to
 * default-src); no `<base>` can redirect the relative links. Images from the
 * same origin only when a README (which may show the directory's pictures) is on the page.
 */
export function listingPolicy(images: boolean): string {
  return `default-src 'none'; style-src ${STYLE_HASH}; script-src ${SCRIPT_HASH}; ${images ? "img-src 'self'; " : ""}form-action 'self'; base-uri 'none'`;
}
