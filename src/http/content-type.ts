/**
 * File name → `Content-Type` (RFC 9110 §8.3), from mime-db via `mime-types`, with
 * a charset on everything that is text.
 *
 * This only names what the bytes on disk are. `x.tar.gz` is `application/gzip`
 * and is sent as those bytes, never as `Content-Encoding: gzip` of a tar: that
 * would make browsers unpack it on download. Serving a precompressed `x.js.gz`
 * for `x.js` is content negotiation, decided by the caller, which then asks for
 * the type of `x.js` and adds `Content-Encoding` and `Vary` itself.
 */
import { lookup, charset as mimeCharset } from "mime-types";

/**
 * Sent when the extension is unknown. RFC 9110 §8.3 asks senders to label every
 * body, and octet-stream is the honest "unknown bytes": browsers download it
 * rather than guess (with `X-Content-Type-Options: nosniff`, set by the caller).
 */
export const DEFAULT_TYPE = "application/octet-stream";

// Where mime-db's answer is not what a browser needs.
const OVERRIDES: ReadonlyMap<string, string> = new Map([
  // RFC 9239 §6: text/javascript is the one type for JavaScript; browsers refuse
  // module scripts served with anything that is not a JavaScript MIME type,
  // which rules out mime-db's `application/node` for .cjs.
  ["js", "text/javascript"],
  ["mjs", "text/javascript"],
  ["cjs", "text/javascript"],
  // Streaming compilation (WebAssembly.instantiateStreaming) demands exactly this.
  ["wasm", "application/wasm"],
  // RFC 7763.
  ["md", "text/markdown"],
  ["markdown", "text/markdown"],
  // RFC 6713. (`.tar.gz` resolves by its last extension, so it lands here too.)
  ["gz", "application/gzip"],
]);

// Structured-syntax suffixes (RFC 6839): `+json` is UTF-8 by definition
// (RFC 8259 §8.1); `+xml` carries its encoding in the document but UTF-8 is
// what practically every file is, and without a charset some clients guess
// Latin-1.
const TEXT_APPLICATION = new Set([
  "application/json",
  "application/javascript",
  "application/ecmascript",
  "application/xml",
  "application/xhtml+xml",
  "application/manifest+json",
  "image/svg+xml",
]);

/**
 * Whether a media type (with or without parameters, any case) is text that gets
 * `; charset=utf-8`: every `text/*`, JSON, JavaScript, XML, any `+json`/`+xml`
 * type, and whatever mime-db marks as UTF-8.
 *
 * Why label at all: without a charset a browser falls back to the locale's legacy
 * encoding (windows-1252 for much of the world) and mangles UTF-8 text files;
 * HTML 5 and JSON default to UTF-8 but `text/plain` and CSS do not.
 */
export function isTextType(mediaType: string): boolean {
  const semi = mediaType.indexOf(";");
  const type = (semi < 0 ? mediaType : mediaType.slice(0, semi)).trim().toLowerCase();
  if (type.startsWith("text/")) return true;
  if (TEXT_APPLICATION.has(type)) return true;
  if (type.endsWith("+json") || type.endsWith("+xml")) return true;
  return mimeCharset(type) === "UTF-8";
}

/**
 * The lower-cased extension after the last `.`, or `""`. A leading dot does not
 * start an extension (`.bashrc` has none, as with `path.extname`).
 */
function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  if (dot <= 0) return "";
  return fileName.slice(dot + 1).toLowerCase();
}

/** Answers per extension. Bounded because names come from disks we do not control. */
const MAX_MEMO = 1000;
const memo = new Map<string, string>();

/** The type for an extension (already lower-case), uncached. */
function computeType(ext: string): string {
  const base = OVERRIDES.get(ext) ?? (ext === "" ? false : lookup(ext));
  if (base === false) return DEFAULT_TYPE;
  return isTextType(base) ? `${base}; charset=utf-8` : base;
}

/**
 * The complete `Content-Type` value for a file, from its name (not its path, and
 * not its bytes: sniffing would let an upload decide how it is run).
 *
 * Memoised per extension: this runs on every request.
 *
 * @example contentTypeFor("index.html") // "text/html; charset=utf-8"
 * @example contentTypeFor("Makefile")   // "application/octet-stream"
 */
export function contentTypeFor(fileName: string): string {
  const ext = extensionOf(fileName);
  const hit = memo.get(ext);
  if (hit !== undefined) return hit;
  const type = computeType(ext);
  // Dropping everything when full is crude but bounded and self-healing; a real
  // tree has a few dozen extensions, so this only triggers under abuse.
  if (memo.size >= MAX_MEMO) memo.clear();
  memo.set(ext, type);
  return type;
}
