/**
 * Integrity fields (RFC 9530): which digest a response carries, decided from the
 * request's `Want-Repr-Digest` and `Want-Content-Digest`, and how it is written.
 *
 * Both Want fields are Structured Field Dictionaries (RFC 9530 §4; RFC 8941
 * §3.2): `sha-512=10, sha-256=3, md5=0`. Each value is an Integer from 0 to 10,
 * a relative preference where 0 means "not acceptable". A field that does not
 * parse as a Dictionary is ignored as a whole (RFC 8941 §4.2: a parsing failure
 * discards the field), as if it had not been sent; a member whose value is not an
 * Integer from 0 to 10 is ignored alone. Only `sha-256` and `sha-512` are offered:
 * the other registered algorithms are deprecated as insecure (RFC 9530 §5,
 * Table 1).
 */

/** The algorithms wharf computes. */
export type DigestAlgorithm = "sha-256" | "sha-512";

/** In order of preference when a client weighs them equally: the one every digest source has first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ["sha-256", "sha-512"];

/** A representation's digests, base64 (RFC 4648 §4), by algorithm; `sha-256` always. */
export interface Digests {
  readonly "sha-256": string;
  readonly "sha-512"?: string | undefined;
}

/** What a Want field says: nothing usable (absent or malformed), or weights by algorithm name. */
export type WantDigest = { readonly kind: "unstated" } | { readonly kind: "weighted"; readonly weights: ReadonlyMap<string, number> };

const UNSTATED: WantDigest = { kind: "unstated" };

/** Values longer than this are not parsed: no client needs more than a few members. */
const MAX_LENGTH = 1024;

const isLcalpha = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => isLcalpha(c) || (c >= 0x41 && c <= 0x5a);
// tchar (RFC 9110 §5.6.2) without ALPHA and DIGIT.
const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";
const isTchar = (c: number): boolean => isAlpha(c) || isDigit(c) || TCHAR_SYMBOLS.includes(String.fromCharCode(c));
const isBase64 = (c: number): boolean => isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2f || c === 0x3d;

/** A small cursor parser for exactly what RFC 8941 §4.2.2 needs; every method returns false on a syntax error. */
class Cursor {
  i = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): number {
    return this.s.charCodeAt(this.i);
  }
  skipSp(): void {
    while (this.peek() === 0x20) this.i++;
  }
  skipOws(): void {
    while (this.peek() === 0x20 || this.peek() === 0x09) this.i++;
  }

  /** §4.2.3.3: `key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`. */
  key(): string | undefined {
    const start = this.i;
    const first = this.peek();
    if (!isLcalpha(first) && first !== 0x2a) return undefined;
    this.i++;
    for (let c = this.peek(); isLcalpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2e || c === 0x2a; c = this.peek()) this.i++;
    return this.s.slice(start, this.i);
  }

  /** §4.2.3.1: a bare item; an Integer comes back as a number, every other valid item as `null`. */
  bareItem(): number | null | undefined {
    const c = this.peek();
    if (c === 0x2d || isDigit(c)) return this.number();
    if (c === 0x22) return this.string() ? null : undefined;
    if (c === 0x3a) return this.bytes() ? null : undefined;
    if (c === 0x3f) return this.boolean() ? null : undefined;
    if (isAlpha(c) || c === 0x2a) {
      for (this.i++; isTchar(this.peek()) || this.peek() === 0x3a || this.peek() === 0x2f; ) this.i++;
      return null;
    }
    return undefined;
  }

  /** §4.2.4: Integer (up to 15 digits) or Decimal (up to 12 and 3); a Decimal is a valid item but no weight. */
  number(): number | null | undefined {
    const start = this.i;
    if (this.peek() === 0x2d) this.i++;
    const digitsFrom = this.i;
    while (isDigit(this.peek())) this.i++;
    const integer = this.i - digitsFrom;
    if (integer === 0) return undefined;
    if (this.peek() !== 0x2e) return integer > 15 ? undefined : Number(this.s.slice(start, this.i));
    if (integer > 12) return undefined;
    this.i++;
    const fractionFrom = this.i;
    while (isDigit(this.peek())) this.i++;
    const fraction = this.i - fractionFrom;
    return fraction >= 1 && fraction <= 3 ? null : undefined;
  }

  /** §4.2.5: `"` then printable ASCII with `\"` and `\\` escapes, then `"`. */
  string(): boolean {
    for (this.i++; !this.done; this.i++) {
      const c = this.peek();
      if (c === 0x22) {
        this.i++;
        return true;
      }
      if (c === 0x5c) {
        this.i++;
        const next = this.peek();
        if (next !== 0x22 && next !== 0x5c) return false;
      } else if (c < 0x20 || c > 0x7e) return false;
    }
    return false;
  }

  /** §4.2.7: `:` base64 `:`. */
  bytes(): boolean {
    for (this.i++; !this.done; this.i++) {
      const c = this.peek();
      if (c === 0x3a) {
        this.i++;
        return true;
      }
      if (!isBase64(c)) return false;
    }
    return false;
  }

  /** §4.2.8: `?0` or `?1`. */
  boolean(): boolean {
    const value = this.s.charCodeAt(this.i + 1);
    if (value !== 0x30 && value !== 0x31) return false;
    this.i += 2;
    return true;
  }

  /** §4.2.3.2: `*( ";" *SP key [ "=" bare-item ] )`, read and dropped. */
  parameters(): boolean {
    while (this.peek() === 0x3b) {
      this.i++;
      this.skipSp();
      if (this.key() === undefined) return false;
      if (this.peek() === 0x3d) {
        this.i++;
        if (this.bareItem() === undefined) return false;
      }
    }
    return true;
  }
}

/**
 * Parses a `Want-Repr-Digest` or `Want-Content-Digest` value (RFC 9530 §4) into
 * weights by algorithm name. Absent, malformed or too long: `unstated`. Members
 * that are Inner Lists or whose value is not an Integer from 0 to 10 carry no
 * weight and are left out; a key given twice keeps its last value (RFC 8941
 * §4.2.2). Linear in the length of the value.
 */
export function parseWantDigest(value: string | undefined): WantDigest {
  if (value === undefined || value.length > MAX_LENGTH) return UNSTATED;
  const c = new Cursor(value);
  const weights = new Map<string, number>();
  c.skipSp();
  if (c.done) return UNSTATED; // an empty field: RFC 8941 §4.2, the same as absent
  for (;;) {
    const key = c.key();
    if (key === undefined) return UNSTATED;
    let weight: number | undefined;
    if (c.peek() === 0x3d) {
      c.i++;
      if (c.peek() === 0x28) return UNSTATED; // an Inner List: never a preference, and not worth parsing
      const item = c.bareItem();
      if (item === undefined) return UNSTATED;
      if (typeof item === "number" && item >= 0 && item <= 10) weight = item;
    }
    // A bare key is Boolean true: no Integer, no weight.
    if (!c.parameters()) return UNSTATED;
    if (weight === undefined) weights.delete(key);
    else weights.set(key, weight);
    c.skipOws();
    if (c.done) return { kind: "weighted", weights };
    if (c.peek() !== 0x2c) return UNSTATED;
    c.i++;
    c.skipOws();
    if (c.done) return UNSTATED; // a trailing comma
  }
}

/**
 * The digest to send: with the Want field `unstated`, `fallback` if available;
 * else the available algorithm the client weighs highest above 0 (ties go to the
 * earlier of {@link DIGEST_ALGORITHMS}), or none when it weighs none of them above
 * 0 — a client that names only algorithms wharf does not compute, or says 0 to
 * every one, gets no digest (RFC 9530 §4 lets the server ignore the preference;
 * sending one nobody asked for helps nobody).
 */
export function chooseDigest(
  want: WantDigest,
  available: (algorithm: DigestAlgorithm) => boolean,
  fallback: DigestAlgorithm | undefined,
): DigestAlgorithm | undefined {
  if (want.kind === "unstated") return fallback !== undefined && available(fallback) ? fallback : undefined;
  let best: DigestAlgorithm | undefined;
  let bestWeight = 0;
  for (const algorithm of DIGEST_ALGORITHMS) {
    const weight = want.weights.get(algorithm) ?? 0;
    if (weight > bestWeight && available(algorithm)) {
      best = algorithm;
      bestWeight = weight;
    }
  }
  return best;
}

/** A Repr-Digest or Content-Digest value (RFC 9530 §2, §3): a Dictionary of one Byte Sequence, `sha-256=:...:`. */
export function formatDigest(algorithm: DigestAlgorithm, base64: string): string {
  return `${algorithm}=:${base64}:`;
}
