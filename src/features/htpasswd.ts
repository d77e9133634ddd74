/**
 * Apache `htpasswd` files: `user:hash` lines, `#` comments. The hashes Apache's
 * own `htpasswd` writes are understood:
 *
 * - bcrypt (`$2y$`, `$2b$`, `$2a$`; `htpasswd -B`), checked with bcryptjs;
 * - `$apr1$` (Apache's MD5, `htpasswd`'s default), checked with apache-md5;
 * - `{SHA}` (base64 SHA-1, `htpasswd -s`), checked with node:crypto.
 *
 * crypt(3) DES and plain-text entries are refused when the file is read, with the
 * line number: DES truncates passwords to 8 characters, and plain text belongs in
 * no file.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import apacheMd5Module from "apache-md5";
import bcrypt from "bcryptjs";

// apache-md5 is CommonJS whose typings declare an ES default export.
const apacheMd5 = ((apacheMd5Module as unknown as { default?: unknown }).default ?? apacheMd5Module) as (password: string, salt: string) => string;

/** How one user's password is checked. */
export type PasswordCheck = (password: string) => Promise<boolean>;

/** A parsed file: user → check; or the line that is wrong. */
export type HtpasswdOutcome =
  | { readonly kind: "ok"; readonly users: ReadonlyMap<string, PasswordCheck> }
  | { readonly kind: "error"; readonly line: number; readonly message: string };

/** Equal strings, compared in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths (timingSafeEqual needs them) and hides the length.
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The check for one stored hash, or why it cannot be used. */
export function passwordCheck(hash: string): PasswordCheck | string {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
    return (password) => bcrypt.compare(password, hash);
  }
  if (/^\$apr1\$[^$]{1,8}\$[./A-Za-z0-9]{22}$/.test(hash)) {
    return async (password) => constantTimeEqual(apacheMd5(password, hash), hash);
  }
  if (/^\{SHA\}[A-Za-z0-9+/]{27}=$/.test(hash)) {
    return async (password) => constantTimeEqual(`{SHA}${createHash("sha1").update(password, "utf8").digest("base64")}`, hash);
  }
  if (/^\$[156]\$/.test(hash)) return "SHA-crypt and MD5-crypt hashes are not supported; use bcrypt (htpasswd -B)";
  return "not a bcrypt, $apr1$ or {SHA} hash (crypt and plain text are refused); use htpasswd -B";
}

/** Parses the text of an htpasswd file. */
export function parseHtpasswd(text: string): HtpasswdOutcome {
  const users = new Map<string, PasswordCheck>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "error", line: i + 1, message: "expected user:hash" };
    const user = line.slice(0, colon);
    const check = passwordCheck(line.slice(colon + 1));
    if (typeof check === "string") return { kind: "error", line: i + 1, message: `user ${JSON.stringify(user)}: ${check}` };
    if (users.has(user)) return { kind: "error", line: i + 1, message: `user ${JSON.stringify(user)} appears twice` };
    users.set(user, check);
  }
  if (users.size === 0) return { kind: "error", line: lines.length, message: "no users" };
  return { kind: "ok", users };
}
