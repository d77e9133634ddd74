/**
 * The listing's query parameters (`?sort=&order=&q=&limit=&offset=&format=`),
 * parsed once into a canonical {@link View}: unknown parameters dropped, unknown
 * values fall back to the defaults, numbers clamped. Pure.
 *
 * Canonical because the view is what a page is keyed and linked by: two spellings
 * of one view (`?order=asc&sort=name`, `?sort=name&x=1`) render the same page with
 * the same ETag, and a client cannot make the server keep one page per spelling.
 * Never an error: a listing URL with a bad query still lists (a 400 for
 * `?limit=abc` would only break a hand-edited link).
 */

/** The representations of a listing (docs/features.md, "Directory listings"). */
export type Format = "html" | "json" | "text";
export const FORMATS: readonly Format[] = ["html", "json", "text"];

export type SortKey = "name" | "size" | "mtime";
export type Order = "asc" | "desc";

/** What the operator chose (createHandler's `listing` options, resolved). */
export interface ListingDefaults {
  /** Enabled formats, in the server's order of preference (the first is the fallback). */
  readonly formats: readonly Format[];
  readonly sort: SortKey;
  readonly order: Order;
  /** Entries per HTML page when `?limit=` is absent. JSON and text default to {@link MAX_LIMIT}. */
  readonly pageSize: number;
}

/** The largest page in any format: a bigger one is a multi-megabyte body nobody reads at once. */
export const MAX_LIMIT = 10_000;
/** The HTML page size by default. */
export const DEFAULT_PAGE_SIZE = 1_000;
/**
 * The longest filter kept. A name is at most 255 bytes on every common file
 * system, so a longer filter matches nothing anyway; the cap keeps a hostile
 * `?q=` of a megabyte out of the page, the links and the Link header.
 */
export const MAX_FILTER_LENGTH = 256;
/** The largest offset taken literally (larger ones are clamped; no directory has a billion entries to page through). */
const MAX_OFFSET = 1_000_000_000;

export const DEFAULTS: ListingDefaults = { formats: FORMATS, sort: "name", order: "asc", pageSize: DEFAULT_PAGE_SIZE };

/** The query as sent, reduced to the parameters the listing knows, before the format is negotiated. */
export interface ListingQuery {
  /** `?format=`, when it names an enabled format. */
  readonly format: Format | undefined;
  readonly sort: SortKey | undefined;
  readonly order: Order | undefined;
  readonly q: string;
  readonly limit: number | undefined;
  readonly offset: number;
}

/** One page of one listing in one format: everything a rendered page depends on besides the directory. */
export interface View {
  readonly format: Format;
  /** Whether the format was asked for with `?format=` (then links keep it). */
  readonly explicitFormat: boolean;
  readonly sort: SortKey;
  readonly order: Order;
  /** The filter, as typed (matching folds case). */
  readonly q: string;
  readonly limit: number;
  readonly offset: number;
}

const SORTS: readonly string[] = ["name", "size", "mtime"];
const ORDERS: readonly string[] = ["asc", "desc"];

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A non-negative decimal integer of at most 10 digits, else `undefined` (`1e3`, `-1`, `0x10`, `  5` are not). */
function count(value: string | null): number | undefined {
  return value !== null && /^[0-9]{1,10}$/.test(value) ? Number(value) : undefined;
}

/**
 * The listing parameters of `search` (`""` or `?...`). The first occurrence of a
 * parameter wins, as in most servers; anything else is ignored.
 */
export function parseListingQuery(search: string, defaults: ListingDefaults = DEFAULTS): ListingQuery {
  if (search.length <= 1) return { format: undefined, sort: undefined, order: undefined, q: "", limit: undefined, offset: 0 };
  // URLSearchParams decodes `+` and percent-escapes and never throws (a bad `%zz` stays as it is).
  const params = new URLSearchParams(search.slice(1));
  const format = params.get("format");
  const sort = params.get("sort");
  const order = params.get("order");
  const limit = count(params.get("limit"));
  const offset = count(params.get("offset"));
  // Lone surrogates cannot be in a UTF-8 name, nor survive in a link: dropped.
  const q = (params.get("q") ?? "").slice(0, MAX_FILTER_LENGTH).replace(LONE_SURROGATE, "\uFFFD");
  return {
    format: format !== null && (defaults.formats as readonly string[]).includes(format) ? (format as Format) : undefined,
    sort: sort !== null && SORTS.includes(sort) ? (sort as SortKey) : undefined,
    order: order !== null && ORDERS.includes(order) ? (order as Order) : undefined,
    q,
    limit: limit === undefined ? undefined : Math.min(Math.max(limit, 1), MAX_LIMIT),
    offset: Math.min(offset ?? 0, MAX_OFFSET),
  };
}

/** The concrete view of `query` in `format` (chosen by ?format= or Accept). */
export function viewOf(query: ListingQuery, format: Format, defaults: ListingDefaults = DEFAULTS): View {
  return {
    format,
    explicitFormat: query.format !== undefined,
    sort: query.sort ?? defaults.sort,
    order: query.order ?? defaults.order,
    q: query.q,
    limit: query.limit ?? (format === "html" ? defaults.pageSize : MAX_LIMIT),
    offset: query.offset,
  };
}

/** Whether `view` is its format's default view (no filter, default sort, first page): the one kept cached. */
export function isDefaultView(view: View, defaults: ListingDefaults = DEFAULTS): boolean {
  return (
    view.q === "" &&
    view.sort === defaults.sort &&
    view.order === defaults.order &&
    view.offset === 0 &&
    view.limit === (view.format === "html" ? defaults.pageSize : MAX_LIMIT)
  );
}

/**
 * The canonical query string of `view` with `changes` applied (`""` or `?...`),
 * default values left out, parameters in one fixed order: what every link the
 * listing makes (column headers, pages, Link headers) points to.
 */
export function searchOf(view: View, changes: Partial<View> = {}, defaults: ListingDefaults = DEFAULTS): string {
  const v = { ...view, ...changes };
  const parts: string[] = [];
  const add = (key: string, value: string): void => {
    parts.push(`${key}=${encodeURIComponent(value)}`);
  };
  if (v.explicitFormat) add("format", v.format);
  if (v.sort !== defaults.sort) add("sort", v.sort);
  if (v.order !== defaults.order) add("order", v.order);
  if (v.q !== "") add("q", v.q);
  if (v.limit !== (v.format === "html" ? defaults.pageSize : MAX_LIMIT)) add("limit", String(v.limit));
  if (v.offset !== 0) add("offset", String(v.offset));
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}
