/**
 * Which Cache-Control a file gets. Fingerprinted names (`app.3f9a1c2b.js`,
 * `chunk-5FJ2KQ.css`, `index-BnTyl0vD.js`) never change content under the same
 * name, so they may be cached for a year without revalidation (RFC 8246
 * `immutable`); everything else revalidates, so an edit shows on reload. Rules
 * given by the operator (globs) come first.
 */
import { globMatcher } from "../core/glob.js";

/** A year: the longest max-age caches are expected to honour (RFC 9111 §1.2.2). */
export const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * A fingerprint: the last dot- or dash-separated part before the extension, of
 * 6+ characters from the alphabets bundlers use (hex, base32, base64url), with at
 * least one digit and one letter — so `photo-20240101.jpg`, `jquery-3.7.1.js`
 * and `react-dom.production.min.js` are not taken for one.
 */
const FINGERPRINT = /[.-]([A-Za-z0-9_]{6,64})\.[A-Za-z0-9]+$/;

/** Whether a file name carries a content hash. */
export function isFingerprinted(name: string): boolean {
  const token = FINGERPRINT.exec(name)?.[1];
  return token !== undefined && /\d/.test(token) && /[A-Za-z]/.test(token);
}

/** One operator rule: files matching `glob` get `value`. */
export interface CacheRule {
  readonly glob: string;
  /** Seconds (`public, max-age=N`) or a whole Cache-Control value. */
  readonly value: number | string;
}

/** The Cache-Control for a file at `path` (decoded, relative to the root, `/`-separated). */
export type CachePolicy = (path: string) => string;

// A header value may not contain CR, LF or NUL (RFC 9110 §5.5).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Compiles the rules once. A glob without `/` matches the file name at any depth
 * (`*.png`); one with `/` matches the path from the root (`assets/**`). First
 * match wins; then fingerprinted names; then `fallback`.
 */
export function cachePolicy(rules: readonly CacheRule[], fallback: string, fingerprints = true): CachePolicy {
  const compiled = rules.map((rule) => {
    const value = typeof rule.value === "number" ? `public, max-age=${rule.value}` : rule.value;
    if (typeof rule.value === "number" && !(Number.isSafeInteger(rule.value) && rule.value >= 0)) {
      throw new RangeError(`cache rule "${rule.glob}": seconds must be a whole number`);
    }
    if (!HEADER_VALUE.test(value) || value.trim() === "") throw new RangeError(`cache rule "${rule.glob}": not a valid header value`);
    return { match: globMatcher(rule.glob, { basename: !rule.glob.includes("/"), dot: true }), value };
  });
  return (path) => {
    for (const rule of compiled) if (rule.match(path)) return rule.value;
    const name = path.slice(path.lastIndexOf("/") + 1);
    return fingerprints && isFingerprinted(name) ? IMMUTABLE : fallback;
  };
}

/** Parses `GLOB=SECONDS` or `GLOB=VALUE` (the `--cache` flag). */
export function parseCacheRule(text: string): CacheRule | undefined {
  const eq = text.indexOf("="); // the value may hold `=` (max-age=60); a glob never needs one
  if (eq <= 0 || eq === text.length - 1) return undefined;
  const glob = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  return { glob, value: /^\d+$/.test(raw) ? Number(raw) : raw };
}
