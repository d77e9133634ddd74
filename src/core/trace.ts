/**
 * Why a request got what it got: the decisions the resolver and the features
 * made for one request, written down as they are made. `wharf why` prints the
 * steps; a 404 or 400 explained to the person at the keyboard (`explain`) says
 * the reasons and their fixes.
 *
 * A trace is only ever given to a chain built for tracing (handler/explain.ts):
 * the chain that serves requests is built without one, so a step costs nothing
 * there. Everything a trace holds names URL paths, never file-system paths, so
 * an explanation can be shown to a client without leaking where the root is.
 * Pure; imports only types.
 */
import type { Reply, WharfRequest } from "./types.js";

/** Why a path was not served, as the step that decided it saw it. Every `path` is a URL path. */
export type Reason =
  /** The path could not be decoded: a bad `%`, bytes that are not UTF-8, a NUL. 400. */
  | { readonly kind: "bad-encoding"; readonly detail: string }
  /** A `..` that climbs above the root. 400. */
  | { readonly kind: "above-root" }
  /** Anything else malformed: a backslash, a raw control character, no leading `/`. 400. */
  | { readonly kind: "bad-path"; readonly detail: string }
  /** A dotfile or something below a dot-directory, hidden without `--dotfiles`. */
  | { readonly kind: "dotfile"; readonly path: string }
  /** A symlink whose target is outside the root, refused without `--follow-symlinks`. */
  | { readonly kind: "symlink-outside"; readonly path: string }
  /** A file the operator hid (a configuration or password file): never served. */
  | { readonly kind: "hidden-file"; readonly path: string }
  /** A directory with no index file while listings are off. */
  | { readonly kind: "no-index"; readonly path: string; readonly index: readonly string[] }
  /** Nothing there; `suggestion` is the same path spelled with other case, when that exists. */
  | { readonly kind: "not-found"; readonly path: string; readonly suggestion?: string }
  /** `/file.txt/`: a trailing slash names a directory, and this is a file. */
  | { readonly kind: "file-as-directory"; readonly path: string; readonly file: string }
  /** A FIFO, socket or device: never opened. */
  | { readonly kind: "special-file"; readonly path: string }
  /** The SPA fallback left the path alone: it has an extension, so it is an asset. */
  | { readonly kind: "spa-asset"; readonly path: string }
  /** The SPA fallback left the path alone: the request does not accept HTML (curl, fetch). */
  | { readonly kind: "spa-not-html"; readonly path: string }
  /** The SPA fallback was tried and its page is missing. */
  | { readonly kind: "spa-page-missing"; readonly path: string; readonly page: string }
  /** Clean URLs look for `NAME.html` only; `NAME.htm` exists. */
  | { readonly kind: "clean-urls-htm"; readonly path: string; readonly htm: string }
  /** A rewrite matched and its destination is missing too. */
  | { readonly kind: "rewrite-missing"; readonly path: string; readonly destination: string };

/**
 * What a handler does with the last miss of a request, once nothing else will
 * replace it: handler/explain.ts explains it for a client that is told. Given
 * to the outermost step that may still replace a miss (the SPA fallback,
 * rewrites, clean URLs), called only on its way out with what it answers.
 */
export type Finish = (req: WharfRequest, reply: Reply) => Reply | Promise<Reply>;

/** At most this many steps are kept: a trace is for reading, and a loop of rewrites must not grow it without end. */
export const MAX_STEPS = 200;

/** What one traced request decided, step by step. */
export class Trace {
  /** Lines like `decode: /a%20b -> /a b`, in the order the decisions were made. */
  readonly steps: string[] = [];
  /** The reasons found, in order (the request path's own first, then the features'). */
  readonly reasons: Reason[] = [];
  /** Steps left out past {@link MAX_STEPS}. */
  dropped = 0;

  /** Records one decision: `stage` is who made it (`decode`, `spa`, ...), `text` what it decided. */
  step(stage: string, text: string): void {
    if (this.steps.length >= MAX_STEPS) this.dropped++;
    else this.steps.push(`${stage}: ${text}`);
  }

  /** Records why something was not served (once per distinct reason). */
  reason(reason: Reason): void {
    const key = JSON.stringify(reason);
    if (this.reasons.length < MAX_STEPS && !this.reasons.some((r) => JSON.stringify(r) === key)) this.reasons.push(reason);
  }
}

/**
 * Whether `address`, the client's address as the transport gives it, is this
 * machine: IPv4 127.0.0.0/8 (RFC 1122 §3.2.1.3), IPv6 `::1` (RFC 4291 §2.5.3),
 * and 127/8 mapped into IPv6 (`::ffff:127.0.0.1`, what a dual-stack socket
 * reports). Behind a reverse proxy on the same host every client has the
 * proxy's address, so every client looks local: that is why `explain` can be
 * turned off. Takes the address alone so that a proxy-derived client address
 * can be passed instead of the socket's.
 */
export function isLocalClient(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === "::1") return true;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") && /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
