/**
 * A plain `http://` request sent to the TLS port. Without an answer the client
 * would wait for a TLS handshake that never comes (or see garbage), so the port
 * reads the request head and answers in HTTP/1.1: a 307 redirect to the same URL
 * over https (a browser follows it; curl prints the one-line body), or a 400 with
 * the same line when the request is too broken to redirect.
 *
 * 307, not 301: a permanent redirect is cached, and a browser would keep sending
 * http://localhost:PORT to https long after this server is gone.
 */
import type { Socket } from "node:net";
import { hostForUrl } from "./bind.js";

/** The request head may be at most this long; a real one is a few hundred bytes. */
const MAX_HEAD = 8 * 1024;

// A Host a redirect may name: a DNS name or IP literal and an optional port (RFC 9110
// §7.2). Anything else (spaces, `@`, `/`) is not reflected into a Location.
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
// An origin-form target (RFC 9112 §3.2.1) of visible ASCII only.
const TARGET = /^\/[\x21-\x7e]*$/;

/** The URL to send the client to, from its request head; `undefined` when unusable. */
export function httpsUrlFor(head: string): string | undefined {
  const lines = head.split(/\r?\n/);
  const target = /^[A-Z]+ (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? "")?.[1];
  const host = lines.slice(1).find((l) => /^host:/i.test(l))?.slice(5).trim();
  if (target === undefined || host === undefined || !HOST.test(host) || !TARGET.test(target)) return undefined;
  return `https://${host}${target}`;
}

function response(status: string, extra: string, body: string): string {
  return `HTTP/1.1 ${status}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Answers the plain HTTP request on `socket` (whose first bytes are already
 * buffered in it) and closes the connection. Bounded by `timeoutMs` and
 * {@link MAX_HEAD}.
 */
export function answerPlainHttp(socket: Socket, timeoutMs: number): void {
  let head = "";
  let answered = false;
  const answer = (): void => {
    if (answered) return;
    answered = true;
    const url = httpsUrlFor(head);
    const fallback = `https://${hostForUrl(socket.localAddress ?? "localhost")}:${socket.localPort ?? ""}/`;
    socket.end(url === undefined
      ? response("400 Bad Request", "", `This port speaks HTTPS: use ${fallback}\n`)
      : response("307 Temporary Redirect", `Location: ${url}\r\n`, `This port speaks HTTPS: use ${url}\n`));
    // Keep reading (and dropping) what the client still sends, so that closing does
    // not reset the connection before it has read the answer; then let go.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  socket.setTimeout(timeoutMs > 0 ? timeoutMs : 10_000, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("end", answer); // a client that stopped sending still gets its answer
  socket.on("data", (chunk: Buffer) => {
    if (answered) return;
    head += chunk.toString("latin1");
    const end = head.search(/\r?\n\r?\n/);
    if (end >= 0) head = head.slice(0, end);
    if (end >= 0 || head.length > MAX_HEAD) answer();
  });
  socket.resume();
}
