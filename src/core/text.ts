/**
 * Small text helpers every layer may need: escaping for HTML and for log lines,
 * and sizes people can read. Pure.
 */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and quoted attribute values. All five
 * characters are escaped everywhere so one function is safe in both places.
 */
export function escapeHtml(s: string): string {
  return /[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : s;
}

// C0 controls, DEL and the C1 block: a request-target carrying ESC (or its 8-bit
// cousin CSI, 0x9b, which the parser hands us as U+009B) could recolour or rewrite
// the operator's terminal; CR/LF could forge whole log lines. The quote and the
// backslash are escaped so that the quoted field can be parsed back unambiguously.
// Unicode's own line breaks (U+2028, U+2029) start a new line in editors and log
// viewers, and its bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9; the
// "Trojan Source" characters, CVE-2021-42574) make a line display in another order
// than it reads: `admin\u202e` shows a user name that is not there. Anything else
// (already percent-encoded text, other unicode) is left as is, so `%1b[31m` stays
// readable as the harmless text it is.
const UNSAFE = /[\x00-\x1f"\\\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number): string => c.charCodeAt(0).toString(16).padStart(width, "0");

/**
 * Makes `s` safe to put between double quotes in a log line: every control
 * character becomes `\xNN`, a line separator or bidi control `\uNNNN`, `"`
 * becomes `\"` and `\` becomes `\\`.
 */
export function escapeLogField(s: string): string {
  // A search answers most fields (nothing to escape) for far less than a replace,
  // and an access-log line escapes three fields per request. (`search` starts at 0
  // and leaves the global expression's lastIndex as it was.)
  if (s.search(UNSAFE) < 0) return s;
  return s.replace(UNSAFE, (c) => {
    if (c === '"') return '\\"';
    if (c === "\\") return "\\\\";
    return c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;
  });
}

const UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;

/** `512 B`, `1.2 KiB`, `3.0 GiB`: binary units, one decimal. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < UNITS.length);
  // Rounding can turn 1023.96 KiB into "1024.0 KiB"; acceptable, and exact bytes are in the title.
  return `${value.toFixed(1)} ${UNITS[unit - 1]!}`;
}

const utf8 = new TextEncoder();

/**
 * `text` as UTF-8, in a Buffer of its own: a view of the encoder's output, no
 * copy and no slab of Buffer's pool kept alive with it. A Buffer because Node's
 * socket write takes one as it is and wraps any other Uint8Array in a new view on
 * every write, which a body built once and sent many times (an error page, a
 * listing) would pay on each.
 */
export function utf8Bytes(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
