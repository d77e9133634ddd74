/**
 * Copies with a field added, for paths that run once per request.
 *
 * Not `{ ...source, key: value }`: on Node 20 (V8 11) an object spread followed
 * by a property the source does not have leaves V8's fast clone for the
 * runtime, 0.6 to 1.5 µs per copy where `Object.assign` into a new object and a
 * store take 50 to 200 ns (measured: docs/benchmarks.md, "2026-12-01, later: a
 * spread and one more field"; `node bench/copy-cost.mjs`); on Node 22 and 24
 * the spread takes 20-40 ns and this 120-160, a difference no request rate shows.
 * A spread that only replaces fields the source has (`{ ...reply, headers }`) is
 * fast everywhere and needs none of this. `Object.assign` copies what a spread copies: own
 * enumerable properties, symbols included, getters read.
 */

/** `{ ...source, [key]: value }`, without V8 11's slow path (see above). */
export function copyWith<T extends object, K extends string, V>(source: T, key: K, value: V): T & { [P in K]: V } {
  const out = Object.assign({}, source) as T & Record<K, V>;
  out[key] = value as (T & Record<K, V>)[K];
  return out as T & { [P in K]: V };
}

/** A mutable copy of a header record (or any record of strings), to set fields on; see above. */
export function copyRecord(source: Readonly<Record<string, string>>): Record<string, string> {
  return Object.assign({}, source);
}
