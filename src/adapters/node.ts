/**
 * The Node adapter: `IncomingMessage` in, `ServerResponse` out. Works for a plain
 * `http.createServer(listener)` and as Connect/Express middleware.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { WharfRequest } from "../core/types.js";
import type { Prepared } from "./body.js";

const sentBytes = new WeakMap<ServerResponse, number>();

/** Body bytes actually written for `res` so far (for access logs). */
export function responseBodyBytes(res: ServerResponse): number {
  return sentBytes.get(res) ?? 0;
}

// RFC 9112 §3.2.2: a server must accept the absolute-form (`GET http://host/p`);
// only its path and query matter here, the host having already been chosen.
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i;

/** A {@link WharfRequest} view of a Node request. */
export function fromNodeRequest(req: IncomingMessage): WharfRequest {
  let target = req.url ?? "/";
  if (!target.startsWith("/") && target !== "*") {
    const authority = ABSOLUTE_FORM.exec(target);
    if (authority !== null) target = target.slice(authority[0].length) || "/";
  }
  const q = target.indexOf("?");
  const headers = req.headers;
  return {
    method: req.method ?? "GET",
    target,
    pathname: q < 0 ? target : target.slice(0, q),
    search: q < 0 ? "" : target.slice(q),
    header(name: string): string | undefined {
      const value = headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    remoteAddress: req.socket.remoteAddress,
  };
}

// Resolves on 'drain', or on 'close' when the client has gone away.
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Writes a prepared reply. If the body comes up short (a file truncated while it
 * is sent) the connection is destroyed: a response that ended early would be
 * indistinguishable from a complete one to the client.
 */
export async function writeReply(res: ServerResponse, prepared: Prepared): Promise<void> {
  const { reply, body } = prepared;
  res.writeHead(reply.status, reply.headers);
  if (body === undefined) {
    res.end();
    return;
  }
  if (body instanceof Uint8Array) {
    sentBytes.set(res, body.length);
    res.end(body);
    return;
  }
  let sent = 0;
  try {
    for await (const chunk of body.bytes) {
      if (res.destroyed) break;
      sent += chunk.length;
      sentBytes.set(res, sent);
      if (!res.write(chunk)) await drained(res);
    }
    if (!res.destroyed) res.end();
  } catch {
    res.destroy();
  } finally {
    await body.close();
  }
}
