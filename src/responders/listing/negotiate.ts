/**
 * Which format a listing is sent in: `?format=` when it names an enabled format,
 * else proactive negotiation on Accept (RFC 9110 §12.5.1), else the first enabled
 * format (HTML by default). Pure.
 *
 * An Accept that excludes every format still gets the default rather than a 406:
 * RFC 9110 §12.5.1 allows disregarding the header, and a listing a browser extension
 * asked for oddly is more useful than an error page.
 */
import type { Format } from "./query.js";

const MEDIA: Readonly<Record<Format, readonly [string, string]>> = {
  html: ["text", "html"],
  json: ["application", "json"],
  text: ["text", "plain"],
};

/** At most this many elements of Accept are read; a browser sends under ten. */
const MAX_ELEMENTS = 32;

export interface Range {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

/** The media ranges of an Accept value, lower-cased, with their weights (§12.4.2: qvalue 0 to 1, three decimals). */
export function rangesOf(accept: string): Range[] {
  const ranges: Range[] = [];
  for (const element of accept.split(",", MAX_ELEMENTS)) {
    const [media = "", ...params] = element.split(";");
    const [type, subtype, extra] = media.trim().toLowerCase().split("/");
    if (type === undefined || subtype === undefined || extra !== undefined || type === "" || subtype === "") continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split("=").map((s) => s.trim());
      if (name?.toLowerCase() !== "q") continue;
      q = value !== undefined && /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/.test(value) ? Number(value) : 1;
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** §12.5.1: the weight of the most specific range matching `type/subtype`, or 0 when none does. */
export function weightOf(ranges: readonly Range[], [type, subtype]: readonly [string, string]): number {
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === "*"
          ? 1
          : r.type === "*" && r.subtype === "*"
            ? 0
            : -1;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return q;
}

/**
 * The format to send: `explicit` (an enabled `?format=`) wins; then the enabled
 * format Accept weighs highest, ties going to the server's order; the first
 * enabled format when Accept is absent, empty, or accepts none of them.
 */
export function chooseFormat(accept: string | undefined, explicit: Format | undefined, enabled: readonly Format[]): Format {
  if (explicit !== undefined && enabled.includes(explicit)) return explicit;
  const fallback = enabled[0] ?? "html";
  if (accept === undefined || accept.trim() === "") return fallback;
  const ranges = rangesOf(accept);
  let chosen = fallback;
  let weight = 0;
  for (const format of enabled) {
    const q = weightOf(ranges, MEDIA[format]);
    if (q > weight) {
      weight = q;
      chosen = format;
    }
  }
  return chosen;
}
