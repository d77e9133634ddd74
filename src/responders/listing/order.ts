/**
 * Filtering, sorting and paging a directory's entries. Pure.
 *
 * Every order puts directories first, then sorts by the key with names (natural,
 * case-insensitive) breaking ties, so the same directory and query always give
 * the same page. `asc` is A to Z, smallest first, oldest first; `desc` reverses
 * the key within each group, directories still first (what Finder, Explorer and
 * Apache's mod_autoindex do).
 */
import type { Order, SortKey } from "./query.js";

/** One listed entry: what a GET of its link would find. */
export interface ListedEntry {
  readonly name: string;
  readonly kind: "file" | "directory";
  /** Bytes, for files; `undefined` when not known (not stat'ed, or it failed). */
  readonly size: number | undefined;
  /** Last modification, ms since the epoch; `undefined` when not known. */
  readonly mtimeMs: number | undefined;
}

// Natural order ("file2" before "file10"), case- and accent-insensitive, built
// once: constructing a Collator costs far more than comparing with one.
const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Code-point order, so names the collator calls equal still sort the same way every time. */
function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Natural, case-insensitive, then by code points: a total order on names. */
export function compareNames(a: string, b: string): number {
  return collator.compare(a, b) || compareCodePoints(a, b);
}

/**
 * The printable ASCII characters other than letters and digits, in the
 * collator's order (ICU's root collation, which "en" uses: whitespace, then
 * punctuation, then symbols; each its own primary weight, compared one by one
 * with `sensitivity: "base"`). test/responders/listing/order.test.ts checks it
 * against the running ICU, so a Node whose ICU orders them differently fails
 * there rather than sorting wrongly.
 */
const PUNCTUATION_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
/** Key character of each ASCII punctuation mark: its rank, below every digit-run prefix and letter. */
const PUNCTUATION_KEY: string[] = [];
for (let i = 0; i < PUNCTUATION_ORDER.length; i++) PUNCTUATION_KEY[PUNCTUATION_ORDER.charCodeAt(i)] = String.fromCharCode(0x01 + i);

const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/** Longest run of digits an exact key encodes: its length is one character, `1`-`9`. */
const MAX_EXACT_DIGITS = 9;

/** A name's sort key, and whether its plain string order is exactly {@link compareNames}'s. */
interface NameKey {
  readonly key: string;
  readonly exact: boolean;
}

/** A name's key with the item it sorts: one object per name. */
interface Keyed<T> extends NameKey {
  readonly name: string;
  readonly item: T;
}

/**
 * A key whose plain string order is {@link compareNames}'s up to ties: letters
 * lower-cased; each run of digits as its length without leading zeros (one
 * character) and those digits, so `f9` comes before `f10` and `f09` ties with
 * `f9` (the collator's numeric order); punctuation by its rank in
 * {@link PUNCTUATION_ORDER}. For a name of printable ASCII with no run of more
 * than nine digits the order is exact: two such names compare as the collator
 * compares them, ties broken by code points as {@link compareNames} breaks them.
 * Any other name (non-ASCII, controls, long numbers) gets a key that is only
 * close, and is compared by the collator itself.
 */
export function nameKey(name: string): NameKey {
  return keyedOf(name, undefined);
}

/** {@link nameKey} of `name`, with the item it sorts (one object per name). */
function keyedOf<T>(name: string, item: T): Keyed<T> {
  const lower = name.toLowerCase();
  let key = "";
  // Decided on the name itself: lower-casing can turn another character into
  // ASCII (U+212A KELVIN SIGN becomes `k`).
  let exact = !NOT_PRINTABLE_ASCII.test(name);
  let from = 0; // start of the stretch of `lower` not yet copied
  for (let i = 0; i < lower.length; ) {
    const c = lower.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      let j = i;
      while (j < lower.length && lower.charCodeAt(j) >= 0x30 && lower.charCodeAt(j) <= 0x39) j++;
      if (j - i > MAX_EXACT_DIGITS) exact = false;
      let k = i;
      while (k < j - 1 && lower.charCodeAt(k) === 0x30) k++;
      key += lower.slice(from, i) + String.fromCharCode(0x30 + Math.min(j - k, MAX_EXACT_DIGITS)) + lower.slice(k, j);
      from = i = j;
    } else if (c >= 0x61 && c <= 0x7a) {
      i++;
    } else if (c >= 0x20 && c < 0x7f) {
      key += lower.slice(from, i) + PUNCTUATION_KEY[c]!;
      from = ++i;
    } else {
      i++; // not ASCII, or a control: the key is only close, the collator decides
    }
  }
  key = from === 0 ? lower : key + lower.slice(from);
  return { key, exact, name, item };
}

/** Key order, then code points: {@link compareNames} exactly when both keys are exact. */
function byKey<T>(a: Keyed<T>, b: Keyed<T>): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : compareCodePoints(a.name, b.name);
}

/** {@link compareNames}, through the keys where they are exact (no collator call). */
function byName<T>(a: Keyed<T>, b: Keyed<T>): number {
  return a.exact && b.exact ? byKey(a, b) : compareNames(a.name, b.name);
}

/**
 * `items` in {@link compareNames} order of `nameOf(item)`, in place. The
 * collator's compare costs about 0.3-1 microseconds, and a sort of 100,000 names
 * makes 1.7 million of them (1.5 s measured). So names are sorted by their keys
 * ({@link nameKey}, plain string comparison), which is already the final order
 * where every key is exact (most directories: ASCII names); then sorted again
 * by {@link byName}, which calls the collator only for a pair with an inexact
 * key. That second sort (V8's TimSort, which finds the ordered runs) needs
 * about one comparison per name, and none when every key is exact. The result
 * is exactly the collator's order either way.
 */
export function sortByName<T>(items: T[], nameOf: (item: T) => string): T[] {
  const keyed: Keyed<T>[] = new Array(items.length);
  let exact = true;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const k = keyedOf(nameOf(item), item);
    exact &&= k.exact;
    keyed[i] = k;
  }
  keyed.sort(byKey);
  if (!exact) keyed.sort(byName);
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]!.item;
  return items;
}

/**
 * The first `count` of `items` in {@link compareNames} order of `nameOf(item)`
 * (the same as the first `count` of {@link sortByName}), without sorting the
 * rest: a heap of the `count` smallest seen so far, which most items pass with
 * one comparison against its largest. For 100,000 names in no order and a page
 * of 1,000: about 150,000 comparisons instead of 1.7 million. `items` is not
 * changed.
 */
export function firstByName<T>(items: readonly T[], nameOf: (item: T) => string, count: number): T[] {
  if (count >= items.length) return sortByName([...items], nameOf);
  if (count <= 0) return [];
  // A max-heap by byName: heap[0] is the largest of the smallest `count` so far.
  const heap: Keyed<T>[] = [];
  const down = (from: number): void => {
    const size = heap.length;
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && byName(heap[right]!, heap[left]!) > 0 ? right : left;
      if (byName(heap[child]!, heap[i]!) <= 0) return;
      [heap[i], heap[child]] = [heap[child]!, heap[i]!];
      i = child;
    }
  };
  for (const item of items) {
    const k = keyedOf(nameOf(item), item);
    if (heap.length < count) {
      heap.push(k);
      // Sift up.
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (byName(heap[i]!, heap[parent]!) <= 0) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (byName(k, heap[0]!) < 0) {
      heap[0] = k;
      down(0);
    }
  }
  return heap.sort(byName).map((k) => k.item);
}

/** Directories first, then by name. */
export function compareEntries(a: Pick<ListedEntry, "name" | "kind">, b: Pick<ListedEntry, "name" | "kind">): number {
  if (a.kind !== b.kind) return a.kind === "directory" ? -1 : 1;
  return compareNames(a.name, b.name);
}

/**
 * `q` as a filter: `undefined` for none, else whether a name contains it, both
 * case-folded (`toLowerCase` of both, so `CAFÉ` finds `café`).
 */
export function nameFilter(q: string): ((name: string) => boolean) | undefined {
  if (q === "") return undefined;
  const needle = q.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

/**
 * A directory's visible entries as columns: directories first, each group in
 * the order the directory was read (name order is a separate list of indices,
 * made when a view needs it). A column per field, not an object per entry:
 * 100,000 entries are a few arrays, not 100,000 objects for the collector to
 * copy.
 */
export interface Columns {
  /** Names: the directories', then the files'. */
  readonly names: readonly string[];
  /** How many of the first names are directories. */
  readonly dirs: number;
  /** Bytes, by index; NaN where not known (not stat'ed yet, or the stat failed). */
  readonly sizes: Float64Array;
  /** Last modification, ms since the epoch, by index; NaN where not known. */
  readonly mtimes: Float64Array;
}

/** The sorting value of entry `i` under `key`: directories have no size; unknown sizes and dates sort as the smallest. */
function keyAt(columns: Columns, i: number, key: Exclude<SortKey, "name">): number {
  if (key === "size" && i < columns.dirs) return 0;
  const value = key === "size" ? columns.sizes[i]! : columns.mtimes[i]!;
  return Number.isFinite(value) ? value : -Infinity;
}

/**
 * The indices `among` (in name order, directories first: {@link compareEntries})
 * in the order of `sort`/`order`. A new array; the input is not changed. The sort
 * is stable (ECMAScript 2019), so equal sizes or dates keep name order without a
 * single call to the collator.
 */
export function sortIndices(columns: Columns, among: readonly number[], sort: SortKey, order: Order): number[] {
  if (sort === "name") {
    if (order === "asc") return [...among];
    const dirs = among.filter((i) => i < columns.dirs).reverse();
    const rest = among.filter((i) => i >= columns.dirs).reverse();
    return [...dirs, ...rest];
  }
  const sign = order === "asc" ? 1 : -1;
  return [...among].sort((a, b) => {
    const aDir = a < columns.dirs;
    if (aDir !== b < columns.dirs) return aDir ? -1 : 1;
    const x = keyAt(columns, a, sort);
    const y = keyAt(columns, b, sort);
    return x === y ? 0 : x < y ? -sign : sign;
  });
}

/** Entry `i` as a page shows it. */
export function entryAt(columns: Columns, i: number): ListedEntry {
  const size = columns.sizes[i]!;
  const mtimeMs = columns.mtimes[i]!;
  return {
    name: columns.names[i]!,
    kind: i < columns.dirs ? "directory" : "file",
    size: Number.isNaN(size) ? undefined : size,
    mtimeMs: Number.isNaN(mtimeMs) ? undefined : mtimeMs,
  };
}

/** Where a page sits: its first index, how many it shows, and how many there are in all. */
export interface PageSpan {
  readonly offset: number;
  readonly shown: number;
  readonly total: number;
  /** Offsets of the neighbouring pages, `undefined` at either end. */
  readonly next: number | undefined;
  readonly prev: number | undefined;
}

/** The span of the page at `offset` of `limit` entries among `total`; offsets past the end give an empty last page. */
export function pageSpan(total: number, offset: number, limit: number): PageSpan {
  const start = Math.min(offset, total);
  const shown = Math.min(limit, total - start);
  return {
    offset: start,
    shown,
    total,
    next: start + shown < total ? start + shown : undefined,
    prev: start > 0 ? Math.max(0, start - limit) : undefined,
  };
}
