/**
 * Apache `htpasswd` files: `user:hash` lines, `#` comments. The hashes Apache's
 * own `htpasswd` writes are understood:
 *
 * - bcrypt (`$2y$`, `$2b$`, `$2a$`; `htpasswd -B`);
 * - `$apr1$` (Apache's MD5, `htpasswd`'s default);
 * - `{SHA}` (base64 SHA-1, `htpasswd -s`).
 *
 * crypt(3) DES and plain-text entries are refused when the file is read, with the
 * line number: DES truncates passwords to 8 characters, and plain text belongs in
 * no file.
 *
 * Parsing only: nothing here hashes with bcrypt or MD5 (./password-hash.ts does,
 * in a worker thread), so reading a file loads neither library.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * What a check against a hash costs, as a key: `"bcrypt:10"` (bcrypt's cost is
 * in the hash: 2^10 rounds), `"apr1"` (1,000 MD5 rounds), `"sha"` (one SHA-1).
 * Two hashes of the same kind take the same time to check, whatever the password.
 */
export type HashKind = `bcrypt:${number}` | "apr1" | "sha";

/** A parsed file: user → hash; or the line that is wrong. */
export type HtpasswdOutcome =
  | { readonly kind: "ok"; readonly users: ReadonlyMap<string, string> }
  | { readonly kind: "error"; readonly line: number; readonly message: string };

/** Equal strings, compared in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths (timingSafeEqual needs them) and hides the length.
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[^$]{1,8}\$[./A-Za-z0-9]{22}$/;
const SHA = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

/** The kind of a stored hash, or why it cannot be used. */
export function hashKind(hash: string): HashKind | { readonly refused: string } {
  const bcrypt = BCRYPT.exec(hash);
  if (bcrypt !== null) return `bcrypt:${Number(bcrypt[1])}`;
  if (APR1.test(hash)) return "apr1";
  if (SHA.test(hash)) return "sha";
  if (/^\$[156]\$/.test(hash)) return { refused: "SHA-crypt and MD5-crypt hashes are not supported; use bcrypt (htpasswd -B)" };
  return { refused: "not a bcrypt, $apr1$ or {SHA} hash (crypt and plain text are refused); use htpasswd -B" };
}

/**
 * A well-formed hash of `kind` that no password matches (its digest is not the
 * digest of anything anyone knows). Checking a password against it costs exactly
 * what checking against a real hash of that kind costs: bcrypt and MD5-crypt do
 * all their rounds before comparing. Made without hashing anything.
 */
export function dummyHash(kind: HashKind): string {
  if (kind === "apr1") return "$apr1$wharfdmy$zS3F6c1sJpQdlq8v2Ww7N/";
  if (kind === "sha") return "{SHA}wharfDummyHashNotAPassword0=";
  const cost = kind.slice("bcrypt:".length).padStart(2, "0");
  return `$2b$${cost}$EP1G5/g8ajhvRnslBjKcnuJpxndzE6u6OJ12PJEwWGd./xrHEyAGS`;
}

/** Checks a password against a `{SHA}` hash: one SHA-1, cheap enough for any thread. */
export function checkSha(password: string, hash: string): boolean {
  return constantTimeEqual(`{SHA}${createHash("sha1").update(password, "utf8").digest("base64")}`, hash);
}

/** Parses the text of an htpasswd file. */
export function parseHtpasswd(text: string): HtpasswdOutcome {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "error", line: i + 1, message: "expected user:hash" };
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const kind = hashKind(hash);
    if (typeof kind !== "string") return { kind: "error", line: i + 1, message: `user ${JSON.stringify(user)}: ${kind.refused}` };
    if (users.has(user)) return { kind: "error", line: i + 1, message: `user ${JSON.stringify(user)} appears twice` };
    users.set(user, hash);
  }
  if (users.size === 0) return { kind: "error", line: lines.length, message: "no users" };
  return { kind: "ok", users };
}
