/**
 * The look the listing and the error pages share: one palette for light and
 * dark (prefers-color-scheme), the same type and links, so an error page looks
 * like part of the same server rather than an unfinished one.
 */
import { createHash } from "node:crypto";

/** Colours, page and heading; the listing and the error pages start with this. */
export const THEME_CSS = `
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#656d76;--line:#d0d7de;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;--link:#4493f8}}
body{margin:0 auto;max-width:60rem;padding:1rem;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.25rem;font-weight:600;overflow-wrap:anywhere}
`.trim();

/** Links, as in the listing. */
export const LINK_CSS = `
a{color:var(--link);text-decoration:none}
a:hover,a:focus{text-decoration:underline}
`.trim();

/**
 * The CSP source that allows exactly this `<style>` element's text (CSP Level 3
 * §8.4, hash-source): no other inline style, however it got into the page.
 */
export function styleHashSource(css: string): string {
  return `'sha256-${createHash("sha256").update(css).digest("base64")}'`;
}
