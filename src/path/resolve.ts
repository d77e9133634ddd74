/**
 * Request path → normalised segments, and back again.
 *
 * The rule that keeps traversal out: decode exactly once, then normalise, then
 * enforce containment on the normalised result. Servers that normalise before
 * decoding (so `%2e%2e` survives as a name) or decode twice (so `%252e` becomes
 * `.`) are how `..` slips through; here the only `..` that exists is the decoded
 * one, and it is either resolved inside the root or rejected.
 *
 * Everything here is pure: no file system, no `URL` parser (whose WHATWG rules
 * quietly rewrite `\` to `/` and `%2e` to `.`, which is exactly the ambiguity we
 * refuse to inherit).
 */
import { sep } from "node:path";

/** The result of {@link resolveRequestPath}. */
export type PathOutcome =
  | {
      readonly kind: "ok";
      /** Decoded, non-empty, never `.` or `..`. `[]` is the root. */
      readonly segments: readonly string[];
      /** The request named a directory: it ended in `/`, `/.` or `/..`. */
      readonly trailingSlash: boolean;
    }
  | {
      readonly kind: "bad-request";
      readonly reason: string;
      /** What kind of mistake, for an explanation: the decoding, a `..` above the root, or the shape. */
      readonly problem: "encoding" | "above-root" | "syntax";
    };

/**
 * Longest path we look at. Node's own header limit (16 KiB for the whole head)
 * would stop a larger one anyway; a limit of our own keeps the decoder's work
 * bounded no matter which adapter feeds it, and no real file tree needs more.
 */
export const MAX_PATH_LENGTH = 8192;

const bad = (reason: string, problem: "encoding" | "above-root" | "syntax" = "syntax"): PathOutcome => ({
  kind: "bad-request",
  reason,
  problem,
});

/**
 * Which file-name rules a decoded segment must respect: on Windows `\` is a
 * separator and controls cannot be in a name; on POSIX only `/` and NUL are
 * special.
 */
export type PathDialect = "posix" | "win32";

/** The dialect of the platform wharf runs on. */
export const PLATFORM_DIALECT: PathDialect = process.platform === "win32" ? "win32" : "posix";

// `ignoreBOM: true`: by default TextDecoder silently drops a leading U+FEFF, and a
// decoder that deletes bytes is a decoder that makes two spellings of one name.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Decodes and normalises the path part of a request-target (no query), still
 * percent-encoded as received. Linear in the input length.
 *
 * Rejected as `bad-request`, with a reason for logs (never for the client body):
 * - not starting with `/`, or longer than {@link MAX_PATH_LENGTH};
 * - a raw character outside printable ASCII: RFC 9112 §3.2 request-targets are
 *   ASCII, Node's parser already refuses the rest, and a caller passing decoded
 *   text here would otherwise be decoded twice;
 * - a `%` not followed by two hex digits (RFC 3986 §2.1), or decoded bytes that
 *   are not UTF-8 (overlong forms such as `%c0%ae` for `.` included — the classic
 *   IIS traversal);
 * - a decoded NUL: it truncates paths in C APIs and no file name holds one;
 * - a raw backslash: browsers treat `/\evil.example` as `//evil.example`, so a
 *   redirect that echoed it would be an open redirect, and no client sends one
 *   (browsers turn it into `/`), only a probe does;
 * - on Windows only ({@link PathDialect} `"win32"`), a decoded backslash (`%5c`),
 *   a separator there (so `..%5c..` would escape: superstatic's
 *   GHSA-wm77-q74p-5763), and decoded C0 controls and DEL, which Windows names
 *   cannot hold anyway.
 * On POSIX a decoded `\`, tab or other control (not NUL) is an ordinary
 * character of a segment: POSIX allows them in file names, and a listing links
 * such a file, so its URL must reach it (issue 10 item 17). Nothing downstream
 * reads them as syntax: every `Location` and link is re-encoded from segments
 * ({@link encodePathname} encodes all of them), and the access log escapes
 * controls.
 * - a `..` that would climb above the root. RFC 3986 §5.2.4 would clamp it, but
 *   no browser sends one (they normalise first), so only a probe does; saying 400
 *   is more honest than serving the root.
 *
 * After decoding, `/` (including a decoded `%2f`) separates segments; empty and
 * `.` segments are dropped and `..` pops (RFC 3986 §5.2.4 remove_dot_segments).
 * That `%2f` splits is deliberate: a file name cannot contain `/`, and
 * containment is enforced on this normalised result, which is what matters.
 */
export function resolveRequestPath(pathname: string, dialect: PathDialect = PLATFORM_DIALECT): PathOutcome {
  const length = pathname.length;
  if (length > MAX_PATH_LENGTH) return bad(`path longer than ${MAX_PATH_LENGTH} characters`);
  if (pathname.charCodeAt(0) !== 0x2f) return bad("path does not start with /");

  let decoded = pathname;
  let hasPercent = false;
  for (let i = 0; i < length; i++) {
    const c = pathname.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return bad(`raw character U+${c.toString(16).padStart(4, "0")} in path`, "encoding");
    if (c === 0x5c) return bad("backslash in path");
    if (c === 0x25) hasPercent = true;
  }
  if (hasPercent) {
    // Every `%XY` is one byte; every other (ASCII) character is itself.
    const bytes = new Uint8Array(length);
    let n = 0;
    for (let i = 0; i < length; i++) {
      const c = pathname.charCodeAt(i);
      if (c === 0x25) {
        const hi = hexValue(pathname.charCodeAt(i + 1));
        const lo = hexValue(pathname.charCodeAt(i + 2));
        if (hi < 0 || lo < 0) return bad("malformed percent-encoding", "encoding");
        bytes[n++] = (hi << 4) | lo;
        i += 2;
      } else {
        bytes[n++] = c;
      }
    }
    try {
      decoded = utf8.decode(bytes.subarray(0, n));
    } catch {
      return bad("path is not valid UTF-8", "encoding");
    }
    const windows = dialect === "win32";
    for (let i = 0; i < decoded.length; i++) {
      const c = decoded.charCodeAt(i);
      if (c === 0) return bad("NUL in path", "encoding");
      if (windows && (c < 0x20 || c === 0x7f)) return bad("control character in path");
      if (windows && c === 0x5c) return bad("backslash in path");
    }
  }

  const segments: string[] = [];
  let trailingSlash = true;
  let start = 1;
  while (start <= decoded.length) {
    let end = decoded.indexOf("/", start);
    if (end < 0) end = decoded.length;
    const segment = decoded.slice(start, end);
    const last = end === decoded.length;
    if (segment === "" || segment === ".") {
      // `/a//b` is `/a/b`; `/a/.` names the directory `/a/`.
      if (last) trailingSlash = true;
    } else if (segment === "..") {
      if (segments.pop() === undefined) return bad("path climbs above the root", "above-root");
      if (last) trailingSlash = true;
    } else {
      segments.push(segment);
      if (last) trailingSlash = false;
    }
    start = end + 1;
  }
  return { kind: "ok", segments, trailingSlash };
}

/**
 * Whether a path touches a dotfile or dot-directory (`.git`, `.env`, ...), which
 * are served only when the operator opts in. The first segment `.well-known` is
 * the exception (RFC 8615: ACME challenges, security.txt live there); what is
 * below it is still checked, so `/.well-known/.secret` is hidden.
 */
export function isHidden(segments: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.charCodeAt(0) !== 0x2e) continue;
    if (i === 0 && segment === ".well-known") continue;
    return true;
  }
  return false;
}

// Bytes left as themselves: RFC 3986 §2.3 unreserved, plus sub-delims and `:`/`@`
// that are pchar (§3.3) and mean nothing special to any server or browser in a
// path. Deliberately encoded although RFC 3986 would allow them: `;` (path
// parameters in Tomcat/Jetty, `;jsessionid`), `'` (breaks out of quoted
// attributes wherever a caller forgets to escape), `+` (read as space by
// form-decoding code). `%`, `#`, `?`, `/`, `\`, space, `"`, `<`, `>` and every
// non-ASCII byte are always encoded.
const SAFE = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&()*,:=@") {
  SAFE[ch.charCodeAt(0)] = 1;
}
const HEX = "0123456789ABCDEF";
const utf8Encoder = new TextEncoder();

/**
 * Percent-encodes one path segment (uppercase hex, RFC 3986 §2.1). A lone
 * surrogate cannot be UTF-8 and is encoded as U+FFFD rather than throwing as
 * `encodeURIComponent` would.
 */
export function encodeSegment(segment: string): string {
  let plain = true;
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c >= 0x80 || SAFE[c] === 0) {
      plain = false;
      break;
    }
  }
  if (plain) return segment;
  let out = "";
  for (const b of utf8Encoder.encode(segment)) {
    out += b < 0x80 && SAFE[b] === 1 ? String.fromCharCode(b) : `%${HEX[b >> 4]!}${HEX[b & 15]!}`;
  }
  return out;
}

/**
 * Whether the link to the directory entry `name` (`/` and {@link encodeSegment}
 * of it) resolves back to exactly that one name: false for a name a URL cannot
 * carry (a lone surrogate, NUL; on Windows `\\` and controls; `.`, `..`). The
 * same answer as running {@link resolveRequestPath} on the link, which is what it
 * does for any name with a character that needs encoding; a name of characters
 * left as themselves (most names: `IMG_0001.JPG`) is its own link, has no `%`,
 * backslash, `/` or control for the parser to refuse, and so resolves to itself
 * unless it is too long or a dot segment. A listing asks this of every entry
 * (100,000 links built and parsed cost 60 ms).
 */
export function linksBackTo(name: string, dialect: PathDialect = PLATFORM_DIALECT): boolean {
  let plain = name.length + 1 <= MAX_PATH_LENGTH;
  for (let i = 0; plain && i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80 || SAFE[c] === 0) plain = false;
  }
  if (plain) return name !== "" && name !== "." && name !== "..";
  const link = resolveRequestPath(`/${encodeSegment(name)}`, dialect);
  return link.kind === "ok" && link.segments.length === 1 && link.segments[0] === name;
}

/**
 * Whether `candidate`, below `root`, has a hidden segment there: the same as
 * `isHidden(relativeSegments(root, candidate))`, without the array (a listing asks
 * it of every entry). Assumes {@link isInside}.
 */
export function isHiddenBelow(root: string, candidate: string): boolean {
  if (candidate === root) return false;
  const from = root.endsWith(sep) ? root.length : root.length + 1;
  // Segments are the runs between separators; empty ones (`a//b`) are skipped, as relativeSegments filters them.
  let index = 0;
  for (let start = from; start < candidate.length; ) {
    let end = candidate.indexOf(sep, start);
    if (end < 0) end = candidate.length;
    if (end > start) {
      if (candidate.charCodeAt(start) === 0x2e && !(index === 0 && candidate.slice(start, end) === ".well-known")) return true;
      index++;
    }
    start = end + 1;
  }
  return false;
}

/**
 * Builds an absolute URL path (for `Location`, links) from decoded segments, such
 * that {@link resolveRequestPath} gives the same segments back.
 *
 * Every segment must be non-empty and not `.`/`..` (what resolveRequestPath and
 * readdir produce); anything else is a bug in the caller and throws. That is what
 * guarantees the result never starts with `//`, so a redirect built from it can
 * never be read as a protocol-relative URL to another host.
 */
export function encodePathname(segments: readonly string[], trailingSlash: boolean): string {
  let out = "";
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new RangeError(`encodePathname: invalid segment ${JSON.stringify(segment)}`);
    }
    out += `/${encodeSegment(segment)}`;
  }
  return trailingSlash || out === "" ? `${out}/` : out;
}

/**
 * The one spelling that every equivalent spelling of `pathname` maps to
 * (`/./a`, `//a`, `/x/../a` and `/%61` are all `/a`), or `undefined` for a path
 * {@link resolveRequestPath} refuses. Caches key by it, so a client cannot make
 * one file into many entries by spelling it differently. A path already in
 * this form is its own canonical spelling, so the hot path can look it up as
 * it came.
 */
export function canonicalPathname(pathname: string): string | undefined {
  const path = resolveRequestPath(pathname);
  return path.kind === "ok" ? encodePathname(path.segments, path.trailingSlash) : undefined;
}

/**
 * Whether `candidate` is `root` or below it. Both must be canonical absolute
 * paths (realpath'd). A plain `startsWith(root)` — sirv's check — lets
 * `/srv/public-old` pass for `/srv/public`; the separator is what makes it a
 * directory boundary.
 */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  // `root` then a separator (the one it ends with, or the next character), with
  // no `root + sep` built per call: a listing asks this of every entry.
  if (!candidate.startsWith(root)) return false;
  return root.endsWith(sep) || candidate.startsWith(sep, root.length);
}

/**
 * The segments of `candidate` below `root`, e.g. to check a symlink target's path
 * for hidden segments. Assumes {@link isInside}; `[]` when they are equal.
 */
export function relativeSegments(root: string, candidate: string): string[] {
  if (candidate === root) return [];
  const prefix = root.endsWith(sep) ? root : root + sep;
  return candidate
    .slice(prefix.length)
    .split(sep)
    .filter((s) => s !== "");
}
