/**
 * The Range header (RFC 9110 §14.1.2, §14.2) as a decision: send the full
 * representation, send these byte ranges, or answer 416.
 *
 * Two lessons shape it. sirv read `bytes=0-0` as the whole file and `bytes=-500` as
 * `0-500`; here last-pos is inclusive and a suffix counts from the end, and ranges are
 * returned with an EXCLUSIVE end so that `end - start` is always the length. And
 * CVE-2011-3192 ("Apache Killer"): `bytes=0-,0-,0-,...` or thousands of tiny ranges
 * made Apache build a response many times the file's size. We cap the number of specs
 * and coalesce overlapping or nearly adjacent ranges, so a 206 is never much bigger
 * than the file and never has more parts than the cap.
 */

/** A satisfiable byte range of the representation: `[start, end)`, end EXCLUSIVE. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** What to send for a request's Range header. */
export type RangeOutcome =
  /** Ignore Range and send 200 with the full representation. */
  | { readonly kind: "full" }
  /** Send 206 with these ranges: sorted, non-overlapping, at least one. */
  | { readonly kind: "partial"; readonly ranges: readonly ByteRange[] }
  /** Send 416 with `Content-Range: bytes *\/size` (RFC 9110 §15.5.17). */
  | { readonly kind: "unsatisfiable" };

/** Options of {@link evaluateRange}. */
export interface RangeOptions {
  /**
   * The most range-specs a Range header may list; a header with more is ignored (200),
   * like nginx's `max_ranges`. `Infinity` for no limit, `0` to disable ranges.
   * @default 100
   */
  readonly maxRanges?: number;
}

/** @see RangeOptions.maxRanges */
export const DEFAULT_MAX_RANGES = 100;

/**
 * Ranges closer than this many bytes are merged into one. RFC 9110 §15.3.7.2 allows
 * coalescing ranges "separated by a gap that is smaller than the overhead of sending
 * multiple parts, regardless of the order", and puts that overhead at about 80 bytes.
 */
export const COALESCE_GAP = 80;

const FULL: RangeOutcome = { kind: "full" };
const UNSATISFIABLE: RangeOutcome = { kind: "unsatisfiable" };

/** A syntactically valid range-spec, before it is checked against the size. */
type RangeSpec =
  | { readonly kind: "int"; readonly first: number; readonly last: number | undefined }
  | { readonly kind: "suffix"; readonly length: number };

/**
 * Decides what a Range header asks for, for a representation of `size` bytes.
 *
 * - absent, an empty representation, or a unit other than `bytes` (compared
 *   case-insensitively, §14.1): `full`. A server may ignore Range (§14.2), and a
 *   zero-length file has no satisfiable range: 200 with an empty body beats a 416.
 * - a syntactically invalid ranges-specifier (no `=`, an empty set, non-digits, signs,
 *   `first > last`): `full`; §14.2 lets a server ignore an invalid Range, and §14.1.1
 *   makes one bad spec invalidate the set.
 * - a number with more digits than a double holds exactly is still a number
 *   (§14.1.1 sets no limit): past `Number.MAX_SAFE_INTEGER` it is larger than any
 *   file, so such a first-pos is unsatisfiable, and such a last-pos or suffix-length
 *   is clamped to the whole representation. (Reading it as invalid made
 *   `bytes=99999999999999999999-` a 200 where `bytes=9999-` on a small file is a 416.)
 * - more than `maxRanges` specs: `full`, whatever they are (see {@link RangeOptions}).
 * - `first-last` (inclusive), `first-`, suffix `-length`; a last-pos past the end is
 *   clamped. Specs with `first >= size` and `-0` are unsatisfiable (§14.1.1) and
 *   dropped; if nothing is left: `unsatisfiable`.
 * - the rest are sorted and coalesced (see {@link COALESCE_GAP}) into `partial`.
 *
 * OWS around commas and empty list elements are accepted (§5.6.1.2). The header is
 * read in one pass and the specs sorted once: an 8 KB hostile header costs well under
 * a millisecond.
 */
export function evaluateRange(header: string | undefined, size: number, options: RangeOptions = {}): RangeOutcome {
  if (header === undefined || size <= 0) return FULL;
  const eq = header.indexOf("=");
  // range-unit is a token compared case-insensitively (§14.1); no OWS around "=".
  if (eq !== 5 || header.slice(0, 5).toLowerCase() !== "bytes") return FULL;
  const specs = parseRangeSet(header, eq + 1, options.maxRanges ?? DEFAULT_MAX_RANGES);
  if (specs === undefined) return FULL;

  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const range = satisfiable(spec, size);
    if (range !== undefined) ranges.push(range);
  }
  if (ranges.length === 0) return UNSATISFIABLE;
  return { kind: "partial", ranges: coalesce(ranges) };
}

/**
 * Parses `range-set = 1#range-spec` from `s[at]` to the end. `undefined` when the set
 * is invalid, empty, or has more than `maxRanges` specs (counting stops right there,
 * so a huge header is not even read to its end).
 */
function parseRangeSet(s: string, at: number, maxRanges: number): RangeSpec[] | undefined {
  const specs: RangeSpec[] = [];
  let i = at;
  for (;;) {
    // Leading OWS and empty elements: `bytes= 0-1, ,2-3`.
    while (i < s.length && (isOws(s.charCodeAt(i)) || s[i] === ",")) i++;
    if (i >= s.length) break;

    let spec: RangeSpec;
    if (s[i] === "-") {
      const length = scanDigits(s, i + 1);
      if (length === undefined) return undefined;
      spec = { kind: "suffix", length: length.value };
      i = length.next;
    } else {
      const first = scanDigits(s, i);
      if (first === undefined || s[first.next] !== "-") return undefined;
      const last = scanDigits(s, first.next + 1);
      // §14.1.1: a range-spec is invalid if last-pos is present and less than first-pos.
      if (last !== undefined && lessThan(s, last, first)) return undefined;
      spec = { kind: "int", first: first.value, last: last?.value };
      i = last === undefined ? first.next + 1 : last.next;
    }
    if (specs.push(spec) > maxRanges) return undefined;

    // After a spec only OWS, then a comma or the end: `0-1 2-3` and `0-1x` are invalid.
    while (i < s.length && isOws(s.charCodeAt(i))) i++;
    if (i < s.length && s[i] !== ",") return undefined;
  }
  return specs.length === 0 ? undefined : specs;
}

/** A run of digits: its value, and where it starts and ends in the header. */
interface Digits {
  /** The value, or `Infinity` past `Number.MAX_SAFE_INTEGER`. */
  readonly value: number;
  readonly start: number;
  readonly next: number;
}

/**
 * `1*DIGIT` at `s[at]`, or `undefined` when there is no digit. A value past
 * `Number.MAX_SAFE_INTEGER` is `Infinity`: no file is that large, and past it
 * arithmetic on offsets would silently round, so it only ever compares as "beyond
 * the end". Every digit is still read (linear in the header).
 */
function scanDigits(s: string, at: number): Digits | undefined {
  let value = 0;
  let i = at;
  for (; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    if (value <= Number.MAX_SAFE_INTEGER) value = value * 10 + d;
  }
  if (i === at) return undefined;
  return { value: value > Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : value, start: at, next: i };
}

/** `a < b` for two digit runs, exact even when both are past `MAX_SAFE_INTEGER`. */
function lessThan(s: string, a: Digits, b: Digits): boolean {
  if (a.value !== Number.POSITIVE_INFINITY || b.value !== Number.POSITIVE_INFINITY) return a.value < b.value;
  // Both huge: compare the digits themselves, leading zeros dropped (by hand: the
  // header parsers use no regular expression, see fuzz/regex-safety.test.ts).
  const x = s.slice(skipZeros(s, a.start, a.next), a.next);
  const y = s.slice(skipZeros(s, b.start, b.next), b.next);
  return x.length !== y.length ? x.length < y.length : x < y;
}

/** The index of the first digit other than `0` in `s[from, to)`, or `to`. */
function skipZeros(s: string, from: number, to: number): number {
  let i = from;
  while (i < to && s.charCodeAt(i) === 48) i++;
  return i;
}

/** §14.1.1 satisfiability against `size`, and the clamped `[start, end)`. */
function satisfiable(spec: RangeSpec, size: number): ByteRange | undefined {
  if (spec.kind === "suffix") {
    // "-0" asks for no bytes at all; "-N" with N > size means the whole representation.
    return spec.length === 0 ? undefined : { start: Math.max(0, size - spec.length), end: size };
  }
  if (spec.first >= size) return undefined;
  const end = spec.last === undefined ? size : Math.min(spec.last + 1, size);
  return { start: spec.first, end };
}

/**
 * Sorts by start and merges ranges that overlap or are less than {@link COALESCE_GAP}
 * bytes apart. The result is ascending and disjoint, so its total length is at most
 * `size`. (§15.3.7.2 asks that parts keep the request's order, except for coalesced
 * ranges; we sort all of them, which a client must accept and which makes the
 * "many small unordered ranges" of §14.2 harmless.)
 */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  const out: ByteRange[] = [];
  let current: ByteRange | undefined;
  for (const r of ranges) {
    if (current !== undefined && r.start - current.end < COALESCE_GAP) {
      current = { start: current.start, end: Math.max(current.end, r.end) };
    } else {
      if (current !== undefined) out.push(current);
      current = r;
    }
  }
  if (current !== undefined) out.push(current);
  return out;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `Content-Range` for one part of a 206 (RFC 9110 §14.4): `bytes 0-4/10` (last inclusive). */
export function formatContentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end - 1}/${size}`;
}

/** `Content-Range` of a 416 (RFC 9110 §14.4, §15.5.17): `bytes *\/10`. */
export function formatUnsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}
