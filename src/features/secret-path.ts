/**
 * `--secret-path`: everything is served under `/<secret>/`, a 128-bit random
 * prefix in base64url (22 characters), and every other path is the plain 404 a
 * missing file gets. A link is then as hard to guess as a 128-bit key, for
 * sharing a folder on a network where anyone could scan the port.
 *
 * Thought through as an attacker would:
 * - Guessing: 2^128 prefixes; a wrong one costs the same as a missing file and
 *   says nothing about how close it was: the comparison is constant-time over
 *   the whole prefix (`timingSafeEqual`), so response times leak no prefix of
 *   the secret byte by byte.
 * - Leaking it back: the handler below sees paths without the prefix, so no
 *   error page, listing title or `Location` it makes can contain it; a
 *   `Location` that is a path on this server gets the prefix back (the
 *   trailing-slash and clean-URL redirects stay inside), one to another origin is
 *   left as it is and carries no secret.
 * - Referer: every answer says `Referrer-Policy: no-referrer`, so following a
 *   link out of a README or a shared HTML page does not send the secret URL to
 *   another site (W3C Referrer Policy §3.1).
 * - Logs: serve() writes the access log with the prefix replaced by `/…` (see
 *   serve.ts): a log shared in a bug report or read by another user does not
 *   hand out the link.
 * - The prefix must be sent as is: a percent-encoded spelling of it is another
 *   path, so a 404. Only a browser or a client the user gave the link to sends it.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { copyRecord } from "../core/copy.js";
import { OptionError } from "../core/errors.js";
import { MISS_404, mapReply, sharedReply } from "../core/reply.js";
import { withPathAndBase } from "../core/request.js";
import type { Middleware, Reply } from "../core/types.js";

/** 16 random bytes, base64url: 22 characters (RFC 4648 §5, no padding). */
export function newSecretPath(): string {
  return randomBytes(16).toString("base64url");
}

/** A prefix a person may choose: base64url characters, at least as long as a random one. */
const SECRET = /^[A-Za-z0-9_-]{22,128}$/;

/** The `secretPath` option checked: the prefix, or undefined when off. `true` must be turned into a prefix first. */
export function secretPathOf(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value === "string" && SECRET.test(value)) return value;
  if (value === true) {
    throw new OptionError(
      "secretPath",
      "true makes a new prefix, which only serve() can tell you: pass one (22 or more base64url characters, crypto.randomBytes(16).toString('base64url'))",
    );
  }
  throw new OptionError("secretPath", "must be 22 to 128 base64url characters (A-Z a-z 0-9 - _)");
}

/**
 * Whether `pathname` starts with `/<secret>` followed by `/` or its end, compared
 * in constant time over the secret's length whatever the path (a shorter path is
 * compared against padding, so its length is all that shows).
 */
export function underSecret(pathname: string, secret: Buffer): "inside" | "bare" | "outside" {
  const n = secret.length;
  const given = Buffer.alloc(n);
  given.write(pathname.slice(1, 1 + n), "latin1");
  // latin1 keeps only the low byte of a character above U+00FF (a path from a
  // library caller need not be bytes), so a match is confirmed on the text too:
  // only after the constant-time comparison has passed, which a guess does not.
  const same =
    timingSafeEqual(given, secret) &&
    pathname.startsWith("/") &&
    pathname.length > n &&
    pathname.slice(1, 1 + n) === secret.toString("latin1");
  if (!same) return "outside";
  const after = pathname[1 + n];
  return after === "/" ? "inside" : after === undefined ? "bare" : "outside";
}

const NO_REFERRER = "no-referrer";

/** The middleware: outermost, before CORS and authentication, so a wrong path reveals nothing else. */
export function secretPath(secret: string): Middleware {
  const key = Buffer.from(secret, "latin1");
  const prefix = `/${secret}`;
  // Built once and sent to every wrong guess: shared, with its flat header list (core/reply.ts).
  const hidden = sharedReply({ ...MISS_404, headers: { ...MISS_404.headers, "referrer-policy": NO_REFERRER } });
  const inside = (reply: Reply): Reply => {
    const location = reply.headers["location"];
    const headers = copyRecord(reply.headers); // not a spread and a field: core/copy.ts
    headers["referrer-policy"] = NO_REFERRER;
    // A path on this server (`/docs/`), never `//host` (a network-path reference, another origin).
    if (location?.startsWith("/") && !location.startsWith("//")) headers["location"] = prefix + location;
    return { ...reply, headers };
  };
  return (req, next) => {
    switch (underSecret(req.pathname, key)) {
      case "outside":
        return hidden;
      case "bare":
        // `/<secret>` alone: to its slash, as a directory is (relative links need it).
        return {
          status: 301,
          headers: { location: `${prefix}/${req.search}`, "content-length": "0", "referrer-policy": NO_REFERRER },
          body: { kind: "empty" },
        };
      case "inside":
        // Handlers below see the path without the prefix; a URL they write into a
        // body (an upload's 201) must carry it: `base` says so.
        return mapReply(next(withPathAndBase(req, req.pathname.slice(prefix.length), (req.base ?? "") + prefix)), inside);
    }
  };
}
