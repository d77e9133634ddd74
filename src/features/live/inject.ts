/**
 * Where the live-reload script goes in a page, and what the tag says: pure
 * decisions on bytes the caller holds (issue 14; docs/features.md, "--live").
 *
 * The tag is `<script src defer>` pointing at a same-origin file rather than an
 * inline script, so a page under `Content-Security-Policy: script-src 'self'`
 * still runs it (an inline one was blocked: vscode-live-server 205); a nonce in
 * the response's own CSP header is copied onto the tag for pages that allow
 * scripts by nonce only.
 */
import { createHash } from "node:crypto";

/** Where `</head>` is looked for: a page whose head ends later is rare, and the search stays cheap. */
export const HEAD_WINDOW = 64 * 1024;

/** Where the tag goes: before `</head>`, before the last `</body>`, or at the end. */
export type InjectionPoint =
  | { readonly kind: "head"; readonly index: number }
  | { readonly kind: "body"; readonly index: number }
  | { readonly kind: "end"; readonly index: number };

const lower = (b: number): number => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b);

/** The first index of the ASCII `needle` (lower-case) in `bytes[from, to)`, case-insensitively; -1 if absent. */
function indexOfAscii(bytes: Uint8Array, needle: string, from: number, to: number): number {
  const first = needle.charCodeAt(0);
  const last = Math.min(to, bytes.length) - needle.length;
  outer: for (let i = from; i <= last; i++) {
    if (lower(bytes[i]!) !== first) continue;
    for (let j = 1; j < needle.length; j++) if (lower(bytes[i + j]!) !== needle.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

/** The last index of `needle` in `bytes`, case-insensitively; -1 if absent. */
function lastIndexOfAscii(bytes: Uint8Array, needle: string): number {
  const first = needle.charCodeAt(0);
  outer: for (let i = bytes.length - needle.length; i >= 0; i--) {
    if (lower(bytes[i]!) !== first) continue;
    for (let j = 1; j < needle.length; j++) if (lower(bytes[i + j]!) !== needle.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

/**
 * Where the tag goes in `page`: before `</head>` if it starts within the first
 * {@link HEAD_WINDOW} bytes, else before the last `</body>`, else at the end.
 * Never "nowhere": a page that gets no tag would silently not reload (live-server 335, 359).
 */
export function injectionPoint(page: Uint8Array): InjectionPoint {
  const head = indexOfAscii(page, "</head", 0, HEAD_WINDOW + "</head".length);
  if (head >= 0 && head < HEAD_WINDOW) return { kind: "head", index: head };
  const body = lastIndexOfAscii(page, "</body");
  if (body >= 0) return { kind: "body", index: body };
  return { kind: "end", index: page.length };
}

/** The nonce a CSP header allows scripts by (`script-src-elem`, then `script-src`, then `default-src`), if any. */
export function cspNonce(csp: string | undefined): string | undefined {
  if (csp === undefined) return undefined;
  // Several policies (joined with ", ") must all allow the script; the first that names a nonce is used.
  for (const policy of csp.split(",")) {
    const directives = new Map<string, string[]>();
    for (const part of policy.split(";")) {
      const [name, ...values] = part.trim().split(/\s+/);
      if (name !== undefined && name !== "" && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values);
    }
    const sources = directives.get("script-src-elem") ?? directives.get("script-src") ?? directives.get("default-src") ?? [];
    for (const s of sources) {
      // RFC-style base64 or base64url value (CSP 3 §2.3.1 nonce-source).
      const m = /^'nonce-([A-Za-z0-9+/_=-]+)'$/.exec(s);
      if (m !== null) return m[1];
    }
  }
  return undefined;
}

/** The tag itself; `src` and `nonce` are known-safe characters (checked here). */
export function scriptTag(src: string, nonce: string | undefined): string {
  if (!/^[A-Za-z0-9/_.?=-]+$/.test(src)) throw new Error("live script path must be plain");
  const n = nonce !== undefined && /^[A-Za-z0-9+/_=-]+$/.test(nonce) ? ` nonce="${nonce}"` : "";
  return `<script src="${src}" defer${n}></script>`;
}

/** `page` with `tag` inserted at {@link injectionPoint}. */
export function inject(page: Uint8Array, tag: Uint8Array): Uint8Array {
  const { index } = injectionPoint(page);
  const out = new Uint8Array(page.length + tag.length);
  out.set(page.subarray(0, index), 0);
  out.set(tag, index);
  out.set(page.subarray(index), index + tag.length);
  return out;
}

/**
 * The ETag of a page with the tag in it: the original's opaque part and a hash of
 * the tag, so a cache never mixes the injected bytes with the file's own (a
 * client that saw the page without --live revalidates to a 200, not a 304).
 * The original's weakness is kept. `undefined` when the original is not an entity-tag.
 */
export function injectedTag(original: string | undefined, tag: string): string | undefined {
  const m = original === undefined ? null : /^(W\/)?"([^"]*)"$/.exec(original);
  if (m === null) return undefined;
  const h = createHash("sha256").update(tag).digest("base64url").slice(0, 8);
  return `${m[1] ?? ""}"${m[2]}.live-${h}"`;
}
