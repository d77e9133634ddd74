/**
 * Integrity fields on a reply (RFC 9530), with `digest` on: the variant's 200
 * already carries `Repr-Digest: sha-256=...` (variant.ts), and a 206 copies it;
 * this adjusts a reply to what `Want-Repr-Digest` and `Want-Content-Digest` ask.
 *
 * - Repr-Digest, on 200 and 206: the algorithm asked for (sha-256 or sha-512),
 *   or none, or sha-256 when the request says nothing usable.
 * - Content-Digest, on a GET's 200 and 206 only when asked: of a 200, the
 *   representation's digest (its content is the whole representation); of a 206,
 *   the digest of its own body, the bytes of the part (or of the multipart
 *   document) — computed here only when every byte is in memory (a file kept in
 *   memory, a compressed form): a 206 read from disk would have to read its part
 *   twice before the first byte is sent, so it gets none. A HEAD response has
 *   no content to digest (RFC 9110 §9.3.2 lets it leave out what only the
 *   content determines).
 * - Never on a 304 (the variant's 304 has none), a 412 or a 416, nor anywhere a
 *   digest is not known yet: nothing is hashed on the request's way except a 206
 *   body already in memory, which a client asked for by name.
 */
import { createHash } from "node:crypto";
import type { Reply, WharfRequest } from "../core/types.js";
import { chooseDigest, type DigestAlgorithm, formatDigest, parseWantDigest } from "../http/digest-fields.js";
import type { Variant } from "./variant.js";

/** The digest of a body held in memory, or `undefined` when any of it is read from a file. */
function bodyDigest(reply: Reply, algorithm: DigestAlgorithm): string | undefined {
  const body = reply.body;
  if (body.kind !== "chunks") return undefined;
  const hash = createHash(algorithm === "sha-256" ? "sha256" : "sha512");
  for (const chunk of body.chunks) {
    if (!(chunk instanceof Uint8Array)) return undefined;
    hash.update(chunk);
  }
  return hash.digest("base64");
}

const inMemory = (reply: Reply): boolean => reply.body.kind === "chunks" && reply.body.chunks.every((c) => c instanceof Uint8Array);

/** `reply` (made from `variant` for `req`) with the integrity fields `req` asks for. */
export function withDigests(req: WharfRequest, variant: Variant, reply: Reply): Reply {
  const digests = variant.digests;
  if (digests === undefined || (reply.status !== 200 && reply.status !== 206)) return reply;
  const wantRepr = req.header("want-repr-digest");
  const wantContent = req.method === "HEAD" ? undefined : req.header("want-content-digest");
  // The common case, no Want field: the reply as built, with sha-256.
  if (wantRepr === undefined && wantContent === undefined) return reply;
  const known = (algorithm: DigestAlgorithm): boolean => digests[algorithm] !== undefined;
  const repr = chooseDigest(parseWantDigest(wantRepr), known, "sha-256");
  const headers: Record<string, string> = { ...reply.headers };
  delete headers["repr-digest"];
  if (repr !== undefined) headers["repr-digest"] = formatDigest(repr, digests[repr] as string);
  const partial = reply.status === 206;
  // Content-Digest only when asked for (no fallback); a 206 can have any algorithm, if its bytes are here.
  const content = chooseDigest(parseWantDigest(wantContent), partial ? () => inMemory(reply) : known, undefined);
  if (content !== undefined) {
    const value = partial ? bodyDigest(reply, content) : digests[content];
    if (value !== undefined) headers["content-digest"] = formatDigest(content, value);
  }
  return { ...reply, headers };
}
