/**
 * HTTP Basic authentication (RFC 7617): `--auth user:password`, `--auth-file
 * FILE` (htpasswd). Every request without valid credentials gets 401 with
 * `WWW-Authenticate: Basic realm="wharf", charset="UTF-8"` — the challenge that
 * makes browsers ask and `wget --user` send (wget waits for it; curl `-u` sends at
 * once).
 *
 * - Comparisons take the same time wherever the strings differ (timingSafeEqual
 *   on SHA-256 digests), and every user, known or not, costs the same password
 *   checks (see {@link verifier}): no user name can be learnt by timing.
 * - bcrypt and `$apr1$` checks run in worker threads (./hash-pool.ts), a bounded
 *   number at once: a flood of guesses cannot stall the event loop, and past the
 *   bound a guess gets 503 with Retry-After rather than a place in an endless queue.
 * - A check costs milliseconds, too much for every request of a page with fifty
 *   assets: a successful `Authorization` value is remembered (by an HMAC of it,
 *   in a budget of bytes) for five minutes. Failures are never remembered.
 * - Authenticated responses are not for shared caches (RFC 9111 §3.5): a
 *   `Cache-Control: public` (fingerprinted assets) becomes `private`.
 * - Basic credentials are only base64: {@link import("../server/serve.js").serve}
 *   refuses auth on a non-loopback address without TLS unless `insecureAuth`.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { copyWith } from "../core/copy.js";
import { OptionError } from "../core/errors.js";
import { errorReply } from "../core/reply.js";
import type { Middleware, Reply } from "../core/types.js";
import type { HashCheck } from "./hash-pool.js";
import { checkSha, constantTimeEqual, dummyHash, type HashKind, hashKind, parseHtpasswd } from "./htpasswd.js";

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

/** What checking credentials came to. */
export type Verdict =
  | { readonly kind: "authenticated"; readonly user: string }
  | { readonly kind: "denied" }
  /** Too many checks already pending: no answer either way yet (503, try again). */
  | { readonly kind: "busy" };

/** Checks credentials against the configured accounts. */
export type Verifier = (credentials: Credentials) => Promise<Verdict>;

const DENIED: Verdict = { kind: "denied" };
const BUSY: Verdict = { kind: "busy" };

/** Checks on the event loop: for files of `{SHA}` hashes only, one SHA-1 each. */
const inlineCheck: HashCheck = async (password, hashes) => ({ kind: "checked", matches: hashes.map((h) => checkSha(password, h)) });

/** The process's worker pool, loaded at the first check that needs it. */
const pooledCheck: HashCheck = async (password, hashes) => (await import("./hash-pool.js")).sharedHashPool().check(password, hashes);

/**
 * Builds the verifier from `user:password` pairs and htpasswd users (user → hash);
 * throws {@link OptionError}. `check` does the hashing: by default the worker pool,
 * or the event loop when every hash is a `{SHA}` (a microsecond each).
 *
 * Every check costs the same, whoever is asking (no user name can be learnt from
 * the time an answer takes): the password is checked against one hash of each
 * kind in the file ({@link HashKind}: bcrypt per cost, `$apr1$`, `{SHA}`), the
 * user's own for the user's kind and a {@link dummyHash} for the others, and an
 * unknown user gets dummies of every kind. In a file of one kind, that is one hash.
 */
export function verifier(users: readonly string[], file: ReadonlyMap<string, string>, check?: HashCheck): Verifier {
  const plain = users.map((pair) => {
    const colon = pair.indexOf(":");
    if (colon <= 0) throw new OptionError("auth", "must be user:password (a user name, a colon, a password)");
    return { user: pair.slice(0, colon), pair };
  });
  const kindOf = new Map<string, HashKind>();
  for (const [user, hash] of file) {
    const kind = hashKind(hash);
    if (typeof kind !== "string") throw new OptionError("authFile", `user ${JSON.stringify(user)}: ${kind.refused}`);
    kindOf.set(user, kind);
  }
  const kinds = [...new Set(kindOf.values())];
  const dummies = kinds.map(dummyHash);
  const checkHashes = check ?? (kinds.every((k) => k === "sha") ? inlineCheck : pooledCheck);
  return async ({ user, password }) => {
    // Every plain account is compared, so timing does not tell which one matched.
    let ok = false;
    for (const account of plain) ok = constantTimeEqual(`${user}:${password}`, account.pair) || ok;
    if (ok) return { kind: "authenticated", user };
    if (kinds.length === 0) return DENIED;
    const own = kindOf.get(user);
    const mine = own === undefined ? -1 : kinds.indexOf(own);
    const outcome = await checkHashes(
      password,
      kinds.map((_, i) => (i === mine ? file.get(user)! : dummies[i]!)),
    );
    if (outcome.kind === "busy") return BUSY;
    return mine >= 0 && outcome.matches[mine] === true ? { kind: "authenticated", user } : DENIED;
  };
}

/**
 * Successful `Authorization` values, remembered so that the fifty requests of a
 * page cost one password check. Keyed by an HMAC of the header under a key made
 * at startup, never the header itself: memory holds nothing a password can be
 * read or cheaply guessed from. Weighed in bytes (the longest user name is what a
 * client controls), oldest dropped first; entries expire. Failures are never
 * remembered.
 */
export class SignedIn {
  private readonly entries = new Map<string, { readonly user: string; readonly until: number; readonly weight: number }>();
  private readonly secret = randomBytes(32);
  private weight = 0;

  constructor(
    /** The budget, in bytes (keys, user names, and a fixed cost per entry). */
    readonly maxBytes = 64 * 1024,
    /** How long a success is remembered. */
    readonly ttlMs = 5 * 60 * 1000,
  ) {}

  /** The key for a header value: 43 characters, whatever the header's size. */
  key(header: string): string {
    return createHmac("sha256", this.secret).update(header).digest("base64url");
  }

  /** The user signed in with the header of this key, if remembered and fresh. */
  get(key: string, now = Date.now()): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.until <= now) {
      this.weight -= entry.weight;
      return undefined;
    }
    this.entries.set(key, entry); // most recently used last
    return entry.user;
  }

  set(key: string, user: string, now = Date.now()): void {
    // A JS string costs two bytes a character; 64 bytes for the Map entry and object.
    const weight = 2 * (key.length + user.length) + 64;
    if (weight > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.weight -= old.weight;
    }
    for (const [k, e] of this.entries) {
      if (this.weight + weight <= this.maxBytes) break;
      this.entries.delete(k);
      this.weight -= e.weight;
    }
    this.entries.set(key, { user, until: now + this.ttlMs, weight });
    this.weight += weight;
  }

  /** Bytes held, as weighed. */
  get bytes(): number {
    return this.weight;
  }
}

/** Reads and parses an htpasswd file; throws {@link OptionError} naming the line. */
export function readHtpasswd(path: string): ReadonlyMap<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new OptionError(
      "authFile",
      code === "ENOENT" ? `cannot read ${path}: no such file` : `cannot read ${path}: ${code ?? (error as Error).message}`,
    );
  }
  const parsed = parseHtpasswd(text);
  if (parsed.kind === "error") throw new OptionError("authFile", `${path}:${parsed.line}: ${parsed.message}`);
  return parsed.users;
}

/** `public` → `private`: RFC 9111 §3.5 lets shared caches store authenticated responses marked public. */
export function privateCacheControl(value: string): string {
  return value
    .split(",")
    .map((d) => d.trim())
    .map((d) => (d.toLowerCase() === "public" ? "private" : d))
    .join(", ");
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
  if (!Array.isArray(users) || !users.every((u) => typeof u === "string"))
    throw new OptionError("auth", 'must be "user:password" or a list of them');
  const fileUsers = options.file === undefined ? new Map<string, string>() : readHtpasswd(options.file);
  if (users.length === 0 && fileUsers.size === 0) throw new OptionError("auth", "needs at least one account");
  return authMiddleware(verifier(users, fileUsers), realm);
}

/**
 * The middleware around a {@link Verifier}: 401 with the challenge, 503 when the
 * verifier is busy, and the user on every reply it lets through.
 */
export function authMiddleware(verify: Verifier, realm: string, signedIn = new SignedIn()): Middleware {
  const challenge = `Basic realm="${realm}", charset="UTF-8"`;
  // Checks under way, by key: the requests a page makes at once, before the first
  // answer is remembered, wait for one check instead of each queueing its own (a
  // browser's dozen parallel requests took a dozen places in the bounded queue,
  // and during a guessing flood got 503 where one check would have fitted). At
  // most as many entries as checks can be pending (the pool answers busy past its bound).
  const checking = new Map<string, Promise<Verdict>>();
  const authenticate = (header: string | undefined): Verdict | Promise<Verdict> => {
    if (header === undefined) return DENIED;
    const key = signedIn.key(header);
    const user = signedIn.get(key);
    if (user !== undefined) return { kind: "authenticated", user };
    const pending = checking.get(key);
    if (pending !== undefined) return pending;
    const credentials = parseBasic(header);
    if (credentials === undefined) return DENIED;
    const check = verify(credentials).then(
      (verdict) => {
        checking.delete(key);
        if (verdict.kind === "authenticated") signedIn.set(key, verdict.user);
        return verdict;
      },
      (error: unknown) => {
        checking.delete(key);
        throw error;
      },
    );
    checking.set(key, check);
    return check;
  };

  return async (req, next) => {
    const verdict = await authenticate(req.header("authorization"));
    if (verdict.kind === "busy") {
      // Not 401 (the credentials may be right: a browser would ask for them again),
      // nor 429 (the flood is not this client's doing): the server is busy, briefly
      // (RFC 9110 §15.6.4, Retry-After §10.2.3).
      return errorReply(503, { "retry-after": "1" }, "Too many sign-ins being checked; try again in a moment.");
    }
    if (verdict.kind === "denied") return errorReply(401, { "www-authenticate": challenge }, "Sign in to see this.");
    const { user } = verdict;
    const reply: Reply = await next();
    const cacheControl = reply.headers["cache-control"];
    // `user` is a field a cached reply does not have: a copy and a store (core/copy.ts).
    const told = copyWith(reply, "user", user);
    if (cacheControl === undefined || !/public/i.test(cacheControl)) return told;
    return { ...told, headers: { ...reply.headers, "cache-control": privateCacheControl(cacheControl) } };
  };
}
