/**
 * Entity tags (RFC 9110 §8.8.3): parsing single tags and the lists of If-Match and
 * If-None-Match, the two comparison functions, and formatting.
 *
 * Tags are compared as parsed values, never as raw header strings: sirv compared
 * If-None-Match with `===`, so `"a", "b"` or `W/"a"` never matched and clients
 * re-downloaded files they already had.
 */

/** A parsed entity-tag. */
export interface EntityTag {
  /** `true` for `W/"..."`: a weak validator (RFC 9110 §8.8.1). */
  readonly weak: boolean;
  /** The opaque-tag including its double quotes, e.g. `"abc"`. */
  readonly opaque: string;
}

/** The value of If-Match or If-None-Match: `*`, or a list of tags (RFC 9110 §13.1.1/§13.1.2). */
export type EntityTagList = { readonly kind: "any" } | { readonly kind: "tags"; readonly tags: readonly EntityTag[] };

const DQUOTE = 0x22;

/**
 * Scans one entity-tag starting at `s[at]`:
 * `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`, `etagc = %x21 / %x23-7E / obs-text`.
 * `W/` is case-sensitive (`%s"W/"`). Returns the tag and the index just after it.
 */
function scanEntityTag(s: string, at: number): { tag: EntityTag; next: number } | undefined {
  let i = at;
  const weak = s.startsWith("W/", i);
  if (weak) i += 2;
  if (s.charCodeAt(i) !== DQUOTE) return undefined;
  const open = i;
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return { tag: { weak, opaque: s.slice(open, i + 1) }, next: i + 1 };
    if (!isEtagc(c)) return undefined;
  }
  return undefined; // no closing quote
}

/** etagc: visible ASCII except DQUOTE, plus obs-text (%x80-FF, i.e. latin1 as Node decodes). */
function isEtagc(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Strips OWS (SP / HTAB, RFC 9110 §5.6.3) from both ends, and nothing else. */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/**
 * Parses exactly one entity-tag (`"x"` or `W/"x"`), as found in ETag or If-Range.
 * `undefined` for anything else, including surrounding whitespace or trailing bytes.
 */
export function parseEntityTag(value: string): EntityTag | undefined {
  const scanned = scanEntityTag(value, 0);
  return scanned !== undefined && scanned.next === value.length ? scanned.tag : undefined;
}

/**
 * Parses If-Match / If-None-Match: `"*" / #entity-tag`.
 *
 * - `*` (alone, surrounding OWS allowed) is `{kind: "any"}`. A `*` mixed into a list is
 *   not valid syntax and is treated as a malformed element.
 * - Otherwise a comma-separated list; OWS around elements and empty elements (`, ,`)
 *   are accepted, as RFC 9110 §5.6.1.2 requires of recipients.
 * - Parsing stops at the first malformed element; the tags before it are kept (as Go's
 *   net/http does with scanETag). So `"a", junk, "b"` is `["a"]`, and a value with no
 *   valid tag at all is an empty list, which matches nothing.
 *
 * One pass over the string: linear time whatever the input.
 */
export function parseEntityTagList(value: string): EntityTagList {
  if (trimOws(value) === "*") return { kind: "any" };
  const tags: EntityTag[] = [];
  let i = 0;
  for (;;) {
    while (i < value.length && (isOws(value.charCodeAt(i)) || value[i] === ",")) i++;
    if (i >= value.length) break;
    const scanned = scanEntityTag(value, i);
    if (scanned === undefined) break;
    tags.push(scanned.tag);
    i = scanned.next;
    while (i < value.length && isOws(value.charCodeAt(i))) i++;
    // After a tag only a comma or the end may follow; `"a""b"` or `"a" x` stops here.
    if (i < value.length && value[i] !== ",") break;
  }
  return { kind: "tags", tags };
}

/**
 * Strong comparison (RFC 9110 §8.8.3.2): both tags strong and their opaque-tags equal.
 * Used by If-Match and If-Range, where a byte-for-byte identical representation matters.
 */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/**
 * Weak comparison (RFC 9110 §8.8.3.2): opaque-tags equal, weakness ignored. Used by
 * If-None-Match, where "equivalent enough to reuse the cached copy" is the question.
 */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/** Formats a tag for the ETag header: `"x"` or `W/"x"`. */
export function formatEntityTag(tag: EntityTag): string {
  return tag.weak ? `W/${tag.opaque}` : tag.opaque;
}
