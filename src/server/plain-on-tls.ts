/**
 * A plain `http://` request sent to the TLS port. Without an answer the client
 * would wait for a TLS handshake that never comes (or see garbage), so the port
 * reads the request head and answers in HTTP/1.1: a 307 redirect to the same URL
 * over https (a browser follows it; curl prints the one-line body), or a 400 with
 * the same line when the request is too broken to redirect.
 *
 * 307, not 301: a permanent redirect is cached, and a browser would keep sending
 * http://localhost:PORT to https long after this server is gone.
 *
 * Only a `Host` this server answers for is redirected to (its certificate's names,
 * its addresses): reflecting any `Host` into `Location` would make the port an
 * open redirector, a link `http://this-server/` that lands on another site.
 *
 * The head must arrive by an absolute deadline, the same `headersTimeout` an
 * HTTP/1.1 head gets. An idle timeout that every byte resets let a client that
 * sends one byte every few seconds hold its connection (and its slot under
 * `maxConnections`) for ever.
 */
import type { Socket } from "node:net";
import { coversHost, type HostNames } from "../tls/names.js";
import { hostForUrl } from "./bind.js";

/** The request head may be at most this long; a real one is a few hundred bytes. */
const MAX_HEAD = 8 * 1024;

// A Host a redirect may name: a DNS name or IP literal and an optional port (RFC 9110
// §7.2). Anything else (spaces, `@`, `/`) is not reflected into a Location.
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
// An origin-form target (RFC 9112 §3.2.1) of visible ASCII only.
const TARGET = /^\/[\x21-\x7e]*$/;

/** The answer to a plain-HTTP request head. */
export type PlainAnswer =
  | { readonly kind: "redirect"; readonly location: string }
  /** No usable request line or `Host`, or a `Host` this server does not answer for. */
  | { readonly kind: "bad-request" };

/** The answer to `head` from a server that answers for `names`. */
export function plainHttpAnswer(head: string, names: HostNames): PlainAnswer {
  const lines = head.split(/\r?\n/);
  const target = /^[A-Z]+ (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? "")?.[1];
  const hosts = lines.slice(1).filter((l) => /^host:/i.test(l));
  const host = hosts.length === 1 ? hosts[0]!.slice(5).trim() : undefined; // RFC 9112 §3.2: exactly one
  if (target === undefined || host === undefined || !HOST.test(host) || !TARGET.test(target)) return { kind: "bad-request" };
  if (!coversHost(names, host.replace(/:\d+$/, ""))) return { kind: "bad-request" };
  // The port is kept as sent: behind a port mapping (`-p 8443:8000`) it is the client's, not ours.
  return { kind: "redirect", location: `https://${host}${target}` };
}

function response(status: string, extra: string, body: string): string {
  return (
    `HTTP/1.1 ${status}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Answers the plain HTTP request on `socket` (whose first bytes are already
 * buffered in it) and closes the connection. Bounded by {@link MAX_HEAD}, and in
 * time by the caller's deadline: it calls the function returned when the deadline
 * passes, which answers 408 if the head has not been answered yet.
 */
export function answerPlainHttp(socket: Socket, names: HostNames): () => void {
  let head = "";
  let answered = false;
  const finish = (text: string): void => {
    answered = true;
    socket.end(text);
    // Keep reading (and dropping) what the client still sends, so that closing does
    // not reset the connection before it has read the answer; then let go.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  const answer = (): void => {
    if (answered) return;
    const decision = plainHttpAnswer(head, names);
    const fallback = `https://${hostForUrl(socket.localAddress ?? "localhost")}:${socket.localPort ?? ""}/`;
    finish(
      decision.kind === "redirect"
        ? response("307 Temporary Redirect", `Location: ${decision.location}\r\n`, `This port speaks HTTPS: use ${decision.location}\n`)
        : response("400 Bad Request", "", `This port speaks HTTPS: use ${fallback}\n`),
    );
  };
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
  // RFC 9110 §15.5.9: the head did not arrive in time; like Node's answer to a slow HTTP/1.1 head.
  return () => {
    if (!answered) finish(response("408 Request Timeout", "", "The request head took too long.\n"));
  };
}
