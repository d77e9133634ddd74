/**
 * Integrity fields on a request (RFC 9530): `Content-Digest` (of the content as
 * sent) and `Repr-Digest` (of the representation). Uploads take no
 * Content-Encoding, so both are digests of the bytes received and are checked
 * the same way, while streaming. Pure: parsing and the decision only.
 */

/** The algorithms wharf checks (RFC 9530 §5, "Active" in the IANA registry). */
export type DigestAlgorithm = "sha-256" | "sha-512";

/** Expected digests, by algorithm, as raw bytes. */
export type ExpectedDigests = ReadonlyMap<DigestAlgorithm, Uint8Array>;

export type DigestFields =
  | { readonly kind: "none" }
  | { readonly kind: "check"; readonly expected: ExpectedDigests }
  | { readonly kind: "malformed"; readonly field: string };

const ALGORITHMS: ReadonlySet<string> = new Set(["sha-256", "sha-512"]);
const LENGTH: Readonly<Record<DigestAlgorithm, number>> = { "sha-256": 32, "sha-512": 64 };

// RFC 8941 §3.2 dictionary member: key "=" byte-sequence (":" base64 ":"),
// parameters ignored. Keys are lower-case tokens (§3.1.2).
const MEMBER = /^([a-z*][a-z0-9_.*-]{0,63})=:([A-Za-z0-9+/]*={0,2}):(?:;.*)?$/;

/** One field's members (RFC 9530 §2/§3): unknown algorithms are ignored (§2: "MAY ignore"). */
function members(value: string, into: Map<DigestAlgorithm, Uint8Array>): boolean {
  for (const raw of value.split(",")) {
    const member = raw.trim();
    if (member === "") return false;
    const match = MEMBER.exec(member);
    if (match === null) {
      // A key with another kind of value (an insecure `md5=...`) is still ignorable when well formed.
      if (/^[a-z*][a-z0-9_.*-]{0,63}(=\S+)?$/.test(member) && !ALGORITHMS.has(member.split("=")[0]!)) continue;
      return false;
    }
    const algorithm = match[1]!;
    if (!ALGORITHMS.has(algorithm)) continue;
    const bytes = Buffer.from(match[2]!, "base64");
    if (bytes.length !== LENGTH[algorithm as DigestAlgorithm]) return false;
    const known = into.get(algorithm as DigestAlgorithm);
    // The same algorithm twice (in both fields): they must agree, or nothing could match.
    if (known !== undefined && !Buffer.from(known).equals(bytes)) return false;
    into.set(algorithm as DigestAlgorithm, new Uint8Array(bytes));
  }
  return true;
}

/** What the request's `Content-Digest` and `Repr-Digest` ask to be checked. */
export function digestFields(contentDigest: string | undefined, reprDigest: string | undefined): DigestFields {
  const expected = new Map<DigestAlgorithm, Uint8Array>();
  for (const [field, value] of [
    ["Content-Digest", contentDigest],
    ["Repr-Digest", reprDigest],
  ] as const) {
    if (value === undefined) continue;
    if (!members(value, expected)) return { kind: "malformed", field };
  }
  return expected.size === 0 ? { kind: "none" } : { kind: "check", expected };
}

/** The algorithm names as Node's `createHash` spells them. */
export const NODE_HASH: Readonly<Record<DigestAlgorithm, string>> = { "sha-256": "sha256", "sha-512": "sha512" };
