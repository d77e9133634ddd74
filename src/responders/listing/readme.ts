/**
 * A directory's README.md below its listing (`--readme`, opt-in): rendered with
 * markdown-it, a maintained CommonMark implementation, with raw HTML off
 * (`html: false`: `<script>` in the file is shown as text, not markup) and its
 * link validator, which refuses `javascript:`, `vbscript:`, `file:` and `data:`
 * URLs (but `data:image/png|gif|jpeg|webp`) in links and images. markdown-it over
 * marked + a sanitiser: with HTML disabled at the parser there is no HTML to
 * sanitise, so no second library has to agree with the first about what is safe.
 * The page's CSP (no script but the listing's own, images from this origin only)
 * is the second line.
 */
import type MarkdownIt from "markdown-it";
import { once } from "../../core/once.js";

/** The largest README rendered: a bigger one is not a README a listing should carry (it is still served as a file). */
export const MAX_README_BYTES = 256 * 1024;

// Loaded on the first README, not with the server: markdown-it is some sixty
// modules, opened at startup for a feature that is off by default (and a server
// started under a low descriptor limit, test/resources/fdlimit, ran out of them).
// Loaded on the first README (again if loading failed).
const parser = once(() =>
  import("markdown-it").then(({ default: Parser }): MarkdownIt => new Parser({ html: false, linkify: false, typographer: false })),
);

/** `bytes` (UTF-8 Markdown) as sanitised HTML, or `undefined` when too large. */
export async function renderReadme(bytes: Uint8Array): Promise<string | undefined> {
  if (bytes.length > MAX_README_BYTES) return undefined;
  return (await parser()).render(new TextDecoder().decode(bytes));
}
