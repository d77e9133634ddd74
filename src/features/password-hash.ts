/**
 * Checking a password against an htpasswd hash: the slow part of Basic auth
 * (bcrypt costs tens of milliseconds by design). Synchronous, for a worker
 * thread (./hash-worker.ts): this module, and with it bcryptjs and apache-md5, is
 * loaded only there (and by tests), never on the event loop.
 */
import apacheMd5Module from "apache-md5";
import bcrypt from "bcryptjs";
import { checkSha, constantTimeEqual, hashKind } from "./htpasswd.js";

// apache-md5 is CommonJS whose typings declare an ES default export.
const apacheMd5 = ((apacheMd5Module as unknown as { default?: unknown }).default ?? apacheMd5Module) as (
  password: string,
  salt: string,
) => string;

/** Whether `password` matches `hash` (a hash {@link hashKind} accepts; anything else never matches). */
export function checkPassword(password: string, hash: string): boolean {
  const kind = hashKind(hash);
  if (kind === "sha") return checkSha(password, hash);
  if (kind === "apr1") return constantTimeEqual(apacheMd5(password, hash), hash);
  if (typeof kind === "string") return bcrypt.compareSync(password, hash);
  return false;
}
