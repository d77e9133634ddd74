/**
 * The TLS transport: HTTP/2 and HTTP/1.1 over TLS on one port, chosen by ALPN
 * (RFC 7301; RFC 9113 §3.2), and a clear answer for plain HTTP sent to that port.
 *
 * A plain `net.Server` listens and reads each connection's first byte. A TLS
 * connection starts with a handshake record, content type 22 (RFC 8446 §5.1);
 * that socket, byte included, goes to Node's `Http2SecureServer`
 * (`allowHTTP1: true`), which speaks h2 with clients that offer it and HTTP/1.1
 * with the rest. Anything else is plain HTTP and gets src/server/plain-on-tls.ts.
 *
 * HTTP/2 lets one connection carry many requests at once, so the limits that keep
 * one client from starving the others are per session: at most 100 concurrent
 * streams (RFC 9113 §6.5.2), a header list of at most 16 KiB, and a budget of
 * streams the client may reset (CVE-2023-44487, "rapid reset": open and cancel
 * streams in a loop, so the server works while the client pays nothing).
 * nghttp2 has its own reset limit in recent Node versions; this one holds on all.
 */

import type { ServerResponse } from "node:http";
import {
  constants,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type Http2Stream,
  type ServerHttp2Session,
} from "node:http2";
import { createServer as createNetServer, type Server as NetServer, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { NodeRequest, NodeResponse } from "../adapters/node.js";
import type { TlsCredentials } from "../tls/credentials.js";
import { certificateNames, withAddresses } from "../tls/names.js";
import { h2RequestDeadline, h2SendTimeout, headerListSize, ResponseGate } from "./h2-bounds.js";
import { IDLE_TLS_CONNECTIONS, IdleBudget } from "./idle-budget.js";
import { answerPlainHttp } from "./plain-on-tls.js";
import type { Closable } from "./shutdown.js";

/** The HTTP/2 limits, per connection. */
export const HTTP2_LIMITS = {
  /** SETTINGS_MAX_CONCURRENT_STREAMS; RFC 9113 §6.5.2 advises no fewer than 100. */
  maxConcurrentStreams: 100,
  /**
   * SETTINGS_MAX_HEADER_LIST_SIZE, in bytes, unless `maxHeaderSize` says otherwise:
   * the same 16 KiB Node allows an HTTP/1.1 head. Enforced, not only announced.
   */
  maxHeaderListSize: 16 * 1024,
  /**
   * Responses in progress at once (so files open at once); the connection's other
   * streams wait their turn. More than the six connections a browser opens per
   * host over HTTP/1.1, so a page loads at least as much in parallel; the
   * connection's bandwidth is shared among them anyway.
   */
  responsesInProgress: 16,
  /** Streams a client may reset at once before the connection is closed... */
  resetBurst: 200,
  /** ...and how many more it earns per second. A browser cancels a few on navigation. */
  resetsPerSecond: 100,
} as const;

/** RFC 8446 §5.1: ContentType handshake(22), the first byte a TLS client sends. */
const TLS_HANDSHAKE = 0x16;

/** The send timeout when none is given, as serve()'s `sendTimeout`. */
const SEND_TIMEOUT = 30_000;

/** The deadline for the first byte and the TLS handshake (or plain head) when `headersTimeout` is 0. */
const HEAD_DEADLINE_OFF = 120_000;

export interface SecureTransportOptions {
  readonly credentials: TlsCredentials;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  /**
   * Methods whose body the handler reads (uploads): their body's deadline is idle
   * time, not absolute (body-deadline.ts). Over HTTP/1.1 the caller keeps both of
   * its body deadlines then, so Node's `requestTimeout` is turned off here.
   */
  readonly writes?: ReadonlySet<string> | undefined;
  readonly keepAliveTimeout: number;
  readonly connectionsCheckingInterval: number;
  /**
   * The largest request head over TLS: HTTP/1.1's request line and fields, and
   * HTTP/2's header list (RFC 9113 §6.5.2), answered 431. 16 KiB when absent.
   */
  readonly maxHeaderSize?: number;
  /**
   * Milliseconds HTTP/2 output may wait without progress before its stream is
   * reset, or, when nothing on the connection moved, the connection destroyed.
   * 0 for never; 30000 when absent.
   */
  readonly sendTimeout?: number;
  readonly onRequest: (req: NodeRequest, res: NodeResponse) => void;
  /**
   * Answers (and logs) an HTTP/2 request the transport refused before any handler
   * saw it: 431 for a header list past `maxHeaderSize`. A bare 431 when absent.
   */
  readonly onRefused?: (req: NodeRequest, res: NodeResponse, status: 431) => void;
  /** A malformed HTTP/1.1 request over TLS (the same handler as plain HTTP's). */
  readonly onClientError: (err: Error, socket: Duplex) => void;
  /** A TLS handshake finished (its ALPN protocol chosen): for the metrics' connection count. */
  readonly onSecure?: (socket: TLSSocket) => void;
  /** Idle connections kept (idle-budget.ts); {@link IDLE_TLS_CONNECTIONS} when absent. */
  readonly idleConnections?: number;
}

/** The listening server, and how to close everything it accepted. */
export interface SecureTransport extends Closable {
  /** What `listen()` is called on. */
  readonly server: NetServer;
}

/**
 * Closes `session` when its client has reset more streams than the budget allows
 * (a token bucket of {@link HTTP2_LIMITS.resetBurst}, refilled at
 * {@link HTTP2_LIMITS.resetsPerSecond}). A stream counts when it closed with an
 * error code or before its response was complete: a reset that arrives after a
 * small response was already sent still made the server do the work, and it is
 * exactly what lets a client get round the concurrent-stream limit.
 */
function limitResets(session: Http2Session): void {
  let tokens: number = HTTP2_LIMITS.resetBurst;
  let last = performance.now();
  session.on("stream", (stream: Http2Stream) => {
    stream.once("close", () => {
      if (stream.rstCode === constants.NGHTTP2_NO_ERROR && stream.writableFinished) return;
      const now = performance.now();
      tokens = Math.min(HTTP2_LIMITS.resetBurst, tokens + ((now - last) / 1000) * HTTP2_LIMITS.resetsPerSecond);
      last = now;
      // With an error: destroy(undefined, code) would send NO_ERROR (the default
      // parameter replaces undefined). The error goes to 'sessionError', ignored below.
      if (--tokens < 0 && !session.destroyed) {
        session.destroy(new Error("too many streams reset by the client"), constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }
    });
  });
}

/** An accepted connection, until it closes: the socket and its head deadline. */
interface Accepted {
  readonly socket: Socket;
  readonly deadline: NodeJS.Timeout;
}

/** A live connection's key: its peer's address and port, unique per listening socket. */
const peerOf = (socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string =>
  `${socket.remoteAddress ?? ""} ${socket.remotePort ?? ""}`;

/** A connection that can be idle: an HTTP/1.1 connection's socket, or an HTTP/2 session. */
type Connection = TLSSocket | ServerHttp2Session;

/**
 * Counts the requests under way per connection and keeps the idle ones within
 * `limit` (idle-budget.ts): `begin` when a request (or stream) starts, `end`
 * when it is over; an HTTP/2 session is idle from the start. The connection idle
 * longest is closed past the limit: an HTTP/1.1 socket destroyed (it has nothing
 * under way, so nothing is lost), a session sent GOAWAY.
 */
function idleConnections(limit: number): {
  begin(connection: Connection): void;
  end(connection: Connection): void;
  opened(session: ServerHttp2Session): void;
} {
  const budget = new IdleBudget<Connection>(limit);
  const underWay = new WeakMap<Connection, number>();
  const forget = (connection: Connection): void => {
    budget.busy(connection);
    underWay.delete(connection);
  };
  const idle = (connection: Connection): void => {
    const oldest = budget.idle(connection);
    if (oldest === undefined) return;
    underWay.delete(oldest);
    if (oldest instanceof Socket) oldest.destroy();
    else oldest.close();
  };
  return {
    begin(connection) {
      const n = underWay.get(connection);
      if (n === undefined) connection.once("close", () => forget(connection));
      else budget.busy(connection);
      underWay.set(connection, (n ?? 0) + 1);
    },
    end(connection) {
      const n = underWay.get(connection);
      if (n === undefined) return; // closed, or closed as idle
      underWay.set(connection, n - 1);
      if (n === 1 && !connection.destroyed) idle(connection);
    },
    opened(session) {
      underWay.set(session, 0);
      session.once("close", () => forget(session));
      idle(session);
    },
  };
}

/** HTTP/2 and HTTP/1.1 over TLS, with plain HTTP answered, on whatever `server` listens on. */
export function secureTransport(o: SecureTransportOptions): SecureTransport {
  const { cert, key, passphrase } = o.credentials;
  const headerListLimit = o.maxHeaderSize ?? HTTP2_LIMITS.maxHeaderListSize;
  const sendTimeout = o.sendTimeout ?? SEND_TIMEOUT;
  const headDeadline = o.headersTimeout > 0 ? o.headersTimeout : HEAD_DEADLINE_OFF;
  const names = certificateNames(cert);
  const sends = sendTimeout > 0 ? h2SendTimeout(sendTimeout) : undefined;
  const gates = new WeakMap<Http2Session, ResponseGate<{ req: Http2ServerRequest; res: Http2ServerResponse }>>();
  const idle = idleConnections(o.idleConnections ?? IDLE_TLS_CONNECTIONS);
  // One listener, shared by every HTTP/1.1 response: no closure per request. (A
  // stream's own `session` is gone by its 'close', so a stream's listener keeps it.)
  function requestOver(this: ServerResponse): void {
    idle.end(this.req.socket as TLSSocket);
  }

  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    // HTTP/2 by its stream: an HTTP/1.1 request line may say `HTTP/2.0` (answered 505 by onRequest).
    if ((req as Partial<Http2ServerRequest>).stream === undefined) {
      idle.begin(req.socket as TLSSocket);
      res.once("close", requestOver);
      o.onRequest(req, res);
      return;
    }
    const h2 = req as Http2ServerRequest;
    // Node applies SETTINGS_MAX_HEADER_LIST_SIZE only once the client has
    // acknowledged it, and a client sends its first requests before that (or never
    // acknowledges): measured, a 64,000-byte field was answered 200. RFC 9113
    // §10.5.1: a server may answer 431 to a header list larger than it accepts.
    if (headerListSize(h2.rawHeaders) > headerListLimit) {
      if (o.onRefused !== undefined) o.onRefused(req, res, 431);
      else (res as Http2ServerResponse).writeHead(431, { "content-length": "0", "cache-control": "no-store" }).end();
      return;
    }
    const session = h2.stream.session;
    const gate = session === undefined ? undefined : gates.get(session);
    if (gate === undefined) o.onRequest(req, res);
    else gate.admit({ req: h2, res: res as Http2ServerResponse });
  };
  const startResponse = ({ req, res }: { req: Http2ServerRequest; res: Http2ServerResponse }, done: () => void): void => {
    if (res.stream.destroyed || res.stream.closed) {
      done(); // reset while it waited
      return;
    }
    res.on("close", done); // after 'finish', or when the stream was reset; once either way
    o.onRequest(req, res);
  };

  const secure = createSecureServer(
    {
      cert: Buffer.from(cert),
      key: Buffer.from(key),
      ...(passphrase === undefined ? {} : { passphrase }),
      allowHTTP1: true, // ALPN offers h2 and http/1.1; a client that offers neither gets HTTP/1.1
      settings: { maxConcurrentStreams: HTTP2_LIMITS.maxConcurrentStreams, maxHeaderListSize: headerListLimit },
      // Also cut by the connection's deadline below; this is Node's own, per handshake.
      handshakeTimeout: headDeadline,
    },
    onRequest,
  );
  // The HTTP/1.1 side is Node's http server logic running on `secure`: it reads
  // these, and starts checking them on 'listening', which `server` forwards below.
  Object.assign(secure, {
    headersTimeout: o.headersTimeout,
    requestTimeout: o.writes === undefined ? o.requestTimeout : 0,
    keepAliveTimeout: o.keepAliveTimeout,
    connectionsCheckingInterval: o.connectionsCheckingInterval,
    ...(o.maxHeaderSize === undefined ? {} : { maxHeaderSize: o.maxHeaderSize }),
  });
  secure.on("clientError", o.onClientError);
  // A session that failed or was cut (reset flood, protocol error): nothing to report.
  secure.on("sessionError", () => undefined);

  const accepted = new Map<string, Accepted>();
  const sessions = new Set<ServerHttp2Session>();
  const sockets = new Set<Socket | TLSSocket>();
  let closing = false;
  const track = (socket: Socket | TLSSocket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  secure.on("secureConnection", (socket: TLSSocket) => {
    track(socket);
    o.onSecure?.(socket);
    // The handshake is done in time: from here HTTP/1.1's header timeout, or HTTP/2's
    // idle and send timeouts, take over.
    const connection = accepted.get(peerOf(socket));
    if (connection !== undefined) clearTimeout(connection.deadline);
  });
  secure.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // An idle h2 connection is closed like an idle keep-alive one; GOAWAY lets the
    // client open a new one whenever it wants (RFC 9113 §6.8).
    if (o.keepAliveTimeout > 0) session.setTimeout(o.keepAliveTimeout, () => session.close());
    limitResets(session);
    idle.opened(session);
    session.on("stream", (stream: Http2Stream) => {
      idle.begin(session);
      stream.once("close", () => idle.end(session));
    });
    if (o.requestTimeout > 0) h2RequestDeadline(session, o.requestTimeout, o.writes);
    gates.set(
      session,
      new ResponseGate(HTTP2_LIMITS.responsesInProgress, startResponse, ({ res }) => res.stream.destroyed || res.stream.closed),
    );
    const connection = accepted.get(peerOf(session.socket));
    if (sends !== undefined && connection !== undefined) sends.watch(session, connection.socket);
    if (closing) session.close();
  });

  const server = createNetServer((socket) => {
    track(socket);
    socket.on("error", () => socket.destroy());
    // One absolute deadline from accept to the end of the TLS handshake or of the
    // plain-HTTP head, whatever the client trickles: nothing at all, a ClientHello
    // a byte at a time, or a plain request a byte every few seconds.
    let expire = (): void => void socket.destroy();
    const peer = peerOf(socket);
    const deadline = setTimeout(() => expire(), headDeadline);
    accepted.set(peer, { socket, deadline });
    socket.once("close", () => {
      clearTimeout(deadline);
      accepted.delete(peer);
    });
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first); // TLS reads what is buffered before it takes the socket over
      if (first[0] === TLS_HANDSHAKE) {
        secure.emit("connection", socket);
      } else {
        const bound = server.address();
        const own = withAddresses(names, [
          ...(typeof bound === "object" && bound !== null ? [bound.address] : []),
          socket.localAddress ?? "",
        ]);
        expire = answerPlainHttp(socket, own);
      }
    });
  });
  server.on("listening", () => secure.emit("listening"));
  return {
    server,
    close(callback) {
      closing = true;
      server.close(callback);
      secure.close(); // stops the HTTP/1.1 timeout checks; it never listened itself
    },
    closeIdleConnections() {
      // HTTP/1.1 connections; present with allowHTTP1 since Node 18.x, missing from @types/node.
      (secure as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      // GOAWAY: no new streams, the ones under way finish (RFC 9113 §6.8).
      for (const session of sessions) session.close();
    },
    closeAllConnections() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}
