/**
 * Content-coding negotiation (RFC 9110 §12.5.3): which of the encodings the
 * server has should answer a request, given its Accept-Encoding.
 */

/** A content coding wharf can send. */
export type Encoding = "br" | "zstd" | "gzip";

/** The outcome of {@link negotiateEncoding}. */
export type EncodingChoice =
  /** Send this coding. */
  | { readonly kind: "encoded"; readonly encoding: Encoding }
  /** Send the representation as it is. */
  | { readonly kind: "identity" }
  /**
   * Nothing offered is acceptable, identity included (`identity;q=0` or `*;q=0`).
   * RFC 9110 §12.5.3 lets the server answer 406 or ignore the header; wharf sends
   * identity anyway, as nginx does: a page beats an error.
   */
  | { readonly kind: "none-acceptable" };

/** Elements read at most: a longer header is a probe, not a browser. */
const MAX_ELEMENTS = 32;

// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** coding → q, as sent; `undefined` for an element that is malformed. */
function parse(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  let count = 0;
  for (const element of header.split(",")) {
    if (++count > MAX_ELEMENTS) break;
    const [rawCoding = "", ...params] = element.split(";");
    const coding = rawCoding.trim().toLowerCase();
    if (coding === "") continue; // empty list elements are allowed (RFC 9110 §5.6.1)
    let q = 1;
    let valid = true;
    for (const param of params) {
      const eq = param.indexOf("=");
      const name = param
        .slice(0, eq < 0 ? param.length : eq)
        .trim()
        .toLowerCase();
      if (name !== "q") continue;
      const value = eq < 0 ? "" : param.slice(eq + 1).trim();
      if (QVALUE.test(value)) q = Number(value);
      else valid = false;
    }
    // A coding listed twice keeps its first weight.
    if (valid && !weights.has(coding)) weights.set(coding, q);
  }
  return weights;
}

/**
 * Picks the coding for a response. `offered` is in the server's order of
 * preference (smaller output first), which breaks ties between equal weights;
 * an encoding also wins a tie with identity, being smaller.
 *
 * - No header: identity. RFC 9110 says any coding is then acceptable, but clients
 *   that send none (curl, scripts) rarely decode one.
 * - `*` weighs every coding not listed, identity included (§12.5.3).
 * - identity is acceptable unless given q=0, directly or through `*;q=0`; when
 *   not listed it ranks with the least-wanted listed coding.
 */
export function negotiateEncoding(header: string | undefined, offered: readonly Encoding[]): EncodingChoice {
  if (header === undefined) return { kind: "identity" };
  const weights = parse(header);
  const star = weights.get("*");
  let best: Encoding | undefined;
  let bestQ = 0;
  for (const encoding of offered) {
    const q = weights.get(encoding) ?? star ?? 0;
    if (q > bestQ) {
      best = encoding;
      bestQ = q;
    }
  }
  // Unlisted identity ranks with the least-wanted coding listed (as the widely used
  // `negotiator` does): "br;q=0.5, gzip;q=0.8" asks for compression, not for
  // identity at q=1 — and on a tie the coding wins.
  let lowest = 1;
  for (const q of weights.values()) if (q > 0 && q < lowest) lowest = q;
  const identityQ = weights.get("identity") ?? star ?? lowest;
  if (best !== undefined && bestQ >= identityQ) return { kind: "encoded", encoding: best };
  if (identityQ > 0) return { kind: "identity" };
  return { kind: "none-acceptable" };
}
