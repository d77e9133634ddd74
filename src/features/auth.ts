/**
 * HTTP Basic authentication (RFC 7617): `--auth user:password`, `--auth-file
 * FILE` (htpasswd). Every request without valid credentials gets 401 with
 * `WWW-Authenticate: Basic realm="wharf", charset="UTF-8"` — the challenge that
 * makes browsers ask and `wget --user` send (wget waits for it; curl `-u` sends at
 * once).
 *
 * - Comparisons take the same time wherever the strings differ (timingSafeEqual
 *   on SHA-256 digests), and an unknown user costs what a wrong password does.
 * - A bcrypt check costs milliseconds, too much for every request of a page with
 *   fifty assets: a successful `Authorization` value is remembered (by its
 *   SHA-256) for five minutes. Failures are never remembered.
 * - Authenticated responses are not for shared caches (RFC 9111 §3.5): a
 *   `Cache-Control: public` (fingerprinted assets) becomes `private`.
 * - Basic credentials are only base64: {@link import("../server/listen.js").serve}
 *   refuses auth on a non-loopback address without TLS unless `insecureAuth`.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { errorReply } from "../handlers/errors.js";
import type { Middleware, Reply } from "../core/types.js";
import { OptionError } from "../core/option-error.js";
import { constantTimeEqual, type PasswordCheck, parseHtpasswd, passwordCheck } from "./htpasswd.js";

/** Options of {@link basicAuth}. */
export interface AuthOptions {
  /**
   * Accounts as `"user:password"` (the password may contain `:`).
   * @default []
   */
  readonly users?: readonly string[];
  /**
   * An htpasswd file (bcrypt, `$apr1$` or `{SHA}` hashes), read once when the
   * handler is built.
   * @default undefined
   */
  readonly file?: string;
  /**
   * The realm browsers show in their sign-in prompt.
   * @default "wharf"
   */
  readonly realm?: string;
}

/** Who is asking, from an `Authorization` header. */
export type Credentials = { readonly user: string; readonly password: string };

/** Decodes `Basic base64(user:password)` (RFC 7617 §2, UTF-8); `undefined` when it is not one. */
export function parseBasic(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const match = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (match === null) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(match[1]!, "base64"));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Checks credentials against the configured accounts. */
export type Verifier = (credentials: Credentials) => Promise<boolean>;

// A bcrypt hash of nothing anyone knows: an unknown user is checked against it, so
// that "no such user" takes as long as "wrong password" with a bcrypt file.
const DUMMY = "$2b$10$EP1G5/g8ajhvRnslBjKcnuJpxndzE6u6OJ12PJEwWGd./xrHEyAGS";

/** Builds the verifier from `user:password` pairs and htpasswd users; throws {@link OptionError}. */
export function verifier(users: readonly string[], file: ReadonlyMap<string, PasswordCheck>): Verifier {
  const plain = users.map((pair) => {
    const colon = pair.indexOf(":");
    if (colon <= 0) throw new OptionError("auth", "must be user:password (a user name, a colon, a password)");
    return { user: pair.slice(0, colon), pair };
  });
  const dummy = passwordCheck(DUMMY) as PasswordCheck;
  const usesBcrypt = file.size > 0;
  return async ({ user, password }) => {
    // Every plain account is compared, so timing does not tell which one matched.
    let ok = false;
    for (const account of plain) ok = constantTimeEqual(`${user}:${password}`, account.pair) || ok;
    if (ok) return true;
    const check = file.get(user);
    if (check !== undefined) return check(password);
    if (usesBcrypt) await dummy(password);
    return false;
  };
}

/** Reads and parses an htpasswd file; throws {@link OptionError} naming the line. */
export function readHtpasswd(path: string): ReadonlyMap<string, PasswordCheck> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new OptionError("authFile", code === "ENOENT" ? `cannot read ${path}: no such file` : `cannot read ${path}: ${code ?? (error as Error).message}`);
  }
  const parsed = parseHtpasswd(text);
  if (parsed.kind === "error") throw new OptionError("authFile", `${path}:${parsed.line}: ${parsed.message}`);
  return parsed.users;
}

/** `public` → `private`: RFC 9111 §3.5 lets shared caches store authenticated responses marked public. */
export function privateCacheControl(value: string): string {
  return value.split(",").map((d) => d.trim()).map((d) => (d.toLowerCase() === "public" ? "private" : d)).join(", ");
}

const REALM = /^[\x20-\x7e]{1,100}$/;

/**
 * Basic authentication as middleware.
 *
 * @example
 * ```ts
 * createHandler({ root: "site", auth: "admin:correct horse" });
 * createHandler({ root: "site", authFile: ".htpasswd" });
 * createHandler({ root: "site", use: [basicAuth({ users: ["me:secret"], realm: "staging" })] });
 * ```
 */
export function basicAuth(options: AuthOptions): Middleware {
  const realm = options.realm ?? "wharf";
  if (typeof realm !== "string" || !REALM.test(realm) || /["\\]/.test(realm)) {
    throw new OptionError("auth", "realm must be printable ASCII without quotes or backslashes");
  }
  const users = options.users ?? [];
  if (!Array.isArray(users) || !users.every((u) => typeof u === "string")) throw new OptionError("auth", 'must be "user:password" or a list of them');
  const fileUsers = options.file === undefined ? new Map<string, PasswordCheck>() : readHtpasswd(options.file);
  if (users.length === 0 && fileUsers.size === 0) throw new OptionError("auth", "needs at least one account");
  const verify = verifier(users, fileUsers);
  const challenge = `Basic realm="${realm}", charset="UTF-8"`;

  const remembered = new Map<string, number>(); // SHA-256 of the header → expiry
  const REMEMBER_MS = 5 * 60 * 1000;
  const authenticated = async (header: string | undefined): Promise<boolean> => {
    if (header === undefined) return false;
    const key = createHash("sha256").update(header).digest("base64");
    const until = remembered.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const credentials = parseBasic(header);
    if (credentials === undefined || !(await verify(credentials))) return false;
    if (remembered.size >= 1000) remembered.clear();
    remembered.set(key, Date.now() + REMEMBER_MS);
    return true;
  };

  return async (req, next) => {
    if (!(await authenticated(req.header("authorization")))) {
      return errorReply(401, { "www-authenticate": challenge }, "Sign in to see this.");
    }
    const user = parseBasic(req.header("authorization"))!.user;
    const reply: Reply = await next();
    const cacheControl = reply.headers["cache-control"];
    if (cacheControl === undefined || !/public/i.test(cacheControl)) return { ...reply, user };
    return { ...reply, user, headers: { ...reply.headers, "cache-control": privateCacheControl(cacheControl) } };
  };
}
