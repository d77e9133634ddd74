/**
 * Text helpers of the HTML pages (the listing, src/listing/html.ts, and the error
 * pages): escaping and human sizes.
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
