/**
 * The middleware of `--live` and `--allowed-hosts`: the Host allow-list; the
 * two live routes, answered before CORS so they never carry its headers; and
 * the tag put into pages.
 */

import { copyWith } from "../../core/copy.js";
import { errorReply, text } from "../../core/reply.js";
import { clientAddress } from "../../core/request.js";
import type { Middleware, Next, Reply, WharfRequest } from "../../core/types.js";
import { bytesTag } from "../../responders/file-contents.js";
import { serveContent } from "../../responders/serve-content.js";
import { CLIENT_SCRIPT } from "./client.js";
import type { EventHub } from "./events.js";
import { type HostList, hostDecision, originDecision } from "./hosts.js";
import { isWholePage, mayBePage, type PageInjector, plainRequest } from "./page.js";

/** Where the live routes live: a prefix no site uses for its own files. */
export const LIVE_PREFIX = "/__wharf/";
export const SCRIPT_PATH = "/__wharf/live.js";
export const EVENTS_PATH = "/__wharf/events";

const ONE_LINE = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

/**
 * The authority a request names: `Host`, or HTTP/2's `:authority` (RFC 9113
 * §8.3.1: a client may send it alone, and Node's compatibility layer does not
 * copy it into `host`). Reading `host` alone let every HTTP/2 request past the
 * allow-list, whatever name it was sent to.
 */
function authorityOf(req: WharfRequest): string | undefined {
  return req.header("host") ?? req.header(":authority");
}

/**
 * Refuses a request whose `Host` is not in the list: 403 with one line saying
 * how to allow it (DNS rebinding: hosts.ts), 400 when `Host` is malformed.
 */
export function allowedHosts(list: HostList): Middleware {
  return (req, next) => {
    const d = hostDecision(list, authorityOf(req));
    if (d.kind === "allowed") return next();
    if (d.kind === "malformed") return text(400, "wharf: the Host header is malformed\n", ONE_LINE);
    return text(
      403,
      `wharf: Host '${d.name}' is not allowed (DNS rebinding protection); start wharf with --allowed-hosts ${d.name} to allow it\n`,
      ONE_LINE,
    );
  };
}

/** What the live middleware needs. */
export interface LiveRoutes {
  readonly hub: EventHub;
  readonly injector: PageInjector;
  /**
   * Authentication (`--auth`): the live routes are answered ahead of CORS, so
   * that they never carry its headers, but not ahead of this. Without it, a
   * client with no password held event streams (connection slots) and was told
   * the paths of every stylesheet saved.
   */
  readonly gate?: Middleware;
}

/** The live routes, and the tag in every whole HTML page the rest of the chain answers. */
export function liveMiddleware({ hub, injector, gate }: LiveRoutes): Middleware {
  // Hashed once: serveContent would hash the body on every call without a tag.
  const scriptTag = bytesTag(new TextEncoder().encode(CLIENT_SCRIPT)).opaque;
  const scriptReply = (req: WharfRequest): Reply =>
    serveContent(req, { body: CLIENT_SCRIPT, contentType: "text/javascript; charset=utf-8", cacheControl: "no-cache", etag: scriptTag });
  return (req, next) => {
    if (req.pathname.startsWith(LIVE_PREFIX)) {
      const route = req.pathname === SCRIPT_PATH ? "script" : req.pathname === EVENTS_PATH ? "events" : undefined;
      if (route !== undefined) return gate === undefined ? liveRoute(req, route) : gate(req, () => liveRoute(req, route));
    }
    if (req.method !== "GET" && req.method !== "HEAD") return next(req);
    const first = next(req);
    return first instanceof Promise ? first.then((r) => withTag(req, r, next)) : withTag(req, first, next);
  };

  function liveRoute(req: WharfRequest, route: "script" | "events"): Reply {
    const origin = originDecision(req.header("origin"), authorityOf(req), req.header("sec-fetch-site"));
    if (origin.kind === "malformed") return text(400, "wharf: the Origin header is malformed\n", ONE_LINE);
    if (origin.kind === "cross-site") return text(403, "wharf: live reload answers pages of this server only\n", ONE_LINE);
    if (route === "script") {
      const reply = scriptReply(req);
      return { ...reply, headers: copyWith(reply.headers, "x-content-type-options", "nosniff") };
    }
    if (req.method !== "GET" && req.method !== "HEAD") return errorReply(405, { allow: "GET, HEAD" });
    // Counted per client (the forwarded address behind a trusted proxy): one client
    // opening streams in a loop cannot take every page's slot.
    const address = clientAddress(req);
    if (hub.full(address)) return text(503, "wharf: too many live-reload pages are open\n", { ...ONE_LINE, "retry-after": "5" });
    return {
      status: 200,
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        // nginx buffers a proxied response unless told not to; events must not wait.
        "x-accel-buffering": "no",
        "x-content-type-options": "nosniff",
      },
      body: { kind: "stream", open: () => hub.connect(address) },
    };
  }

  function withTag(req: WharfRequest, first: Reply, next: Next): Promise<Reply> | Reply {
    if (!mayBePage(first)) return first;
    return tagged(req, first, next);
  }

  async function tagged(req: WharfRequest, first: Reply, next: Next): Promise<Reply> {
    // The whole page as the file is, whatever this request asked (coding, range, condition).
    for (let attempt = 0; attempt < 2; attempt++) {
      const page = attempt === 0 && isWholePage(first) ? first : await next(plainRequest(req));
      if (!isWholePage(page)) return first;
      try {
        return (await injector.reply(req, page)) ?? first;
      } catch (error) {
        // The file changed between the reply and the read: ask again, once.
        if ((error as { code?: unknown }).code !== "ESTALE") throw error;
      }
    }
    return errorReply(503, { "retry-after": "1" });
  }
}
