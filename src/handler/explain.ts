/**
 * Why a path is not served, from the real decisions: a chain of the same
 * features and the same static handler, built for one request with a
 * {@link Trace} that each step writes to, and with nothing cached. `wharf why`
 * prints its steps; `explain` turns the reasons into the body of a 404 or 400
 * for the person at the keyboard.
 *
 * Nothing here runs on the way to a 200: the serving chain is built without a
 * trace, and only a 404 miss or the static handler's 400, for a client that is
 * told (loopback by default), builds a traced chain. That chain reads no file
 * (`hashLimit` 0, nothing kept in memory) and watches nothing.
 */
import { compose } from "../core/compose.js";
import { clientAddress } from "../core/request.js";
import { isLocalClient, type Reason, Trace } from "../core/trace.js";
import type { Reply, WharfRequest } from "../core/types.js";
import type { Features } from "../features/index.js";
import { canonicalPathname } from "../path/resolve.js";
import { explainedReply, explanationFormat } from "../responders/explanation.js";
import { BAD_PATH_400 } from "../responders/resolver.js";
import { type Explain, staticFiles } from "../responders/static.js";
import type { ResolvedOptions } from "./options.js";

/** Who is told why: `auto` clients on this machine (loopback), `on` everyone, `off` nobody. */
export type ExplainMode = "auto" | "on" | "off";

/** Explanations built at once, at most; past it a 404 is sent plain (a flood of them under `--explain on`). */
export const MAX_EXPLAINING = 16;

// What reverse proxies add: the client (RFC 7239 `Forwarded`, `X-Forwarded-For` from
// Apache, Caddy and most nginx setups, nginx's usual `X-Real-IP`), the scheme and
// host they were asked for, and `Via` (RFC 9110 §7.6.3). A browser sends none.
const FORWARDING = ["forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-proto", "x-forwarded-host", "via"] as const;

/**
 * Whether the client of `req` is told why under `mode`. `auto`: the client is
 * on this machine. A peer on loopback whose request carries a header that
 * proxies add, not believed (no `--trust-proxy`, or not from a trusted
 * peer), is a reverse proxy on this machine with a client anywhere behind it:
 * not told, as uploads refuse it (features/upload). Without such a header a
 * same-host proxy cannot be told apart: docs/security.md says to use
 * `--trust-proxy` or `--explain off` there.
 */
export function explainsTo(mode: ExplainMode, req: WharfRequest): boolean {
  if (mode === "on") return true;
  if (mode !== "auto") return false;
  const address = clientAddress(req);
  if (!isLocalClient(address)) return false;
  // The address is the peer's (nothing forwarded was believed): a forwarding header says a proxy sent it.
  const fromPeer = req.clientAddress === undefined || req.clientAddress === req.remoteAddress;
  return !fromPeer || FORWARDING.every((name) => req.header(name) === undefined);
}

/** What a traced run found: its steps and reasons, and the reply the chain gave. */
export interface Traced {
  readonly trace: Trace;
  readonly reply: Reply;
}

/**
 * Runs `req` through a chain built for tracing: the path features
 * (`scope: "inner"`: SPA, rewrites, clean URLs; `"all"`: the redirects and the
 * 404 page too) around a static handler with the same options, keeping nothing
 * between requests.
 */
export async function traceRequest(
  resolved: ResolvedOptions,
  features: Features,
  req: WharfRequest,
  scope: "inner" | "all",
): Promise<Traced> {
  const trace = new Trace();
  const traced = features.traced(trace);
  const files = staticFiles(
    // Nothing kept, watched or read: the run is to see the decisions, never the bytes.
    { ...resolved, use: [], revalidateMs: 0, hashLimit: 0, cacheFileBytes: 0, cacheBytes: 0, archive: [] },
    () => {},
    { trace },
  );
  const chain = compose(scope === "all" ? [...traced.outer, ...traced.inner] : traced.inner, files);
  let reply: Reply;
  try {
    reply = await chain(req);
  } catch {
    reply = { status: 500, headers: {}, body: { kind: "empty" } };
  }
  return { trace, reply };
}

/**
 * The reasons that concern the path asked for, the most useful first: a reason
 * that names what to follow instead (a case mismatch, an `.htm`), then the
 * rest in the order they were found. What the static handler found for a
 * feature's own sub-request (the fallback page, a rewrite's destination) is
 * the feature's reason to tell.
 */
export function explanationReasons(trace: Trace, pathname: string): Reason[] {
  const reasons = ownReasons(trace, pathname);
  return [...reasons.filter(hasSuggestion), ...reasons.filter((r) => !hasSuggestion(r))];
}

function ownReasons(trace: Trace, pathname: string): Reason[] {
  const own = canonicalPathname(pathname);
  return trace.reasons.filter((r) => {
    switch (r.kind) {
      case "spa-asset":
      case "spa-not-html":
      case "spa-page-missing":
      case "clean-urls-htm":
      case "rewrite-missing":
      case "bad-encoding":
      case "above-root":
      case "bad-path":
        return true;
      default:
        return r.path === own;
    }
  });
}

const hasSuggestion = (r: Reason): boolean => r.kind === "clean-urls-htm" || (r.kind === "not-found" && r.suggestion !== undefined);

const utf8 = new TextEncoder();

/**
 * The request path as an explanation names it: printable ASCII, anything else
 * percent-encoded as UTF-8 (Node's parser lets none through, but another
 * adapter might; a lone surrogate becomes U+FFFD rather than throwing).
 */
export function shownPath(pathname: string): string {
  if (/^[\x21-\x7e]*$/.test(pathname)) return pathname;
  let out = "";
  for (const ch of pathname) {
    if (/^[\x21-\x7e]$/.test(ch)) out += ch;
    else for (const b of utf8.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The explainer for a handler, or `undefined` when `mode` is `off`. It takes
 * the static handler's 404 miss and its 400 (any other reply, and a 404 when
 * the site has its own 404 page, stays as it is) for a client it tells, and
 * gives the same status with a body that says why.
 */
export function explainer(resolved: ResolvedOptions, features: Features, mode: ExplainMode): Explain | undefined {
  // Under a secret path every miss is the plain 404, whoever asks: a shared folder
  // answers as one with nothing in it (and the handler sees paths without the
  // prefix, so an explanation's links would miss it).
  if (mode === "off" || features.secretPath !== undefined) return undefined;
  // The site's own 404 page wins: the person wants to see it (`wharf why` still explains).
  const ownNotFound = features.active.includes("404 page");
  let running = 0;
  return (req, reply) => {
    const explainable = reply === BAD_PATH_400 || (reply.status === 404 && reply.miss === true && !ownNotFound);
    // The client, not the peer: behind a trusted proxy (--trust-proxy) on this
    // machine, the person at the keyboard is whoever the proxy says.
    if (!explainable || !explainsTo(mode, req) || running >= MAX_EXPLAINING) return undefined;
    running++;
    return (
      traceRequest(resolved, features, req, "inner")
        .then(({ trace, reply: again }) => {
          const reasons = explanationReasons(trace, req.pathname);
          // Another answer now (the file appeared), or one the static handler did not make: the plain reply.
          if (again.status !== reply.status || reasons.length === 0) return reply;
          return explainedReply(reply, reasons, explanationFormat(req.header("accept")), shownPath(req.pathname));
        })
        // An explanation that fails is no reason for another status: the plain reply.
        .catch(() => reply)
        .finally(() => {
          running--;
        })
    );
  };
}
