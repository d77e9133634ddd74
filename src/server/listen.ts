/**
 * `serve()`: the static handler on a real server — HTTP/1.1, or with `tls`
 * HTTP/2 and HTTP/1.1 over TLS on one port — bound the way people expect
 * (dual-stack by default, both loopbacks for `localhost`), with timeouts that cut
 * slow clients, an access log, and a graceful close.
 */
import { type IncomingMessage, STATUS_CODES, createServer } from "node:http";
import { access, constants } from "node:fs/promises";
import { isIP, type Server as NetServer, type Socket } from "node:net";
import type { Http2ServerRequest } from "node:http2";
import type { Duplex } from "node:stream";
import { createHandler } from "../handler.js";
import { type NodeRequest, type NodeResponse, responseBodyBytes, responseUser, writeReply } from "../adapters/node.js";
import { errorReply } from "../handlers/errors.js";
import type { FileSystem } from "../fs/types.js";
import { OptionError, resolveOptions, type StaticOptions } from "../options.js";
import type { TlsCredentials } from "../tls/credentials.js";
import { type ServedCertificate, resolveTls } from "../tls/resolve.js";
import { type BoundAddress, ServeError, WILDCARD, bind, codeOf, hostForUrl, networkUrls } from "./bind.js";
import { type LogFormat, LOG_FORMATS, accessLogFormatter } from "./log.js";
import { limitPipelining } from "./pipeline.js";
import { secureTransport } from "./secure.js";
import { sendWatch } from "./send-timeout.js";
import { type Closable, gracefulCloser } from "./shutdown.js";
import { clientErrorStatus } from "./client-error.js";
import { MAX_DISCARDED_BODY, checkRequestHead } from "./request-head.js";

/** Options of {@link serve}: the static handler's, plus where and how to listen. */
export interface ServeOptions extends StaticOptions {
  /**
   * The TCP port; `0` picks any free one (read it back from {@link RunningServer.port}).
   * @default 8000
   */
  readonly port?: number;
  /**
   * The address to listen on: an IPv4 or IPv6 literal, a host name, or `localhost`
   * (both `127.0.0.1` and `::1`). Unset means every interface, IPv6 and IPv4.
   * @default undefined (every interface)
   */
  readonly host?: string;
  /**
   * Where access-log lines (without newline) go; `false` for none.
   * @default a line on stderr per request, like Python's http.server
   */
  readonly log?: ((line: string) => void) | false;
  /**
   * Milliseconds a client may take to send the complete request headers, against
   * slowloris-style clients that trickle a header byte at a time.
   * @default 10000
   */
  readonly headersTimeout?: number;
  /**
   * Milliseconds a client may take to send the complete request.
   * @default 30000
   */
  readonly requestTimeout?: number;
  /**
   * Milliseconds a connection may go without its client taking any of the bytes
   * waiting to be sent to it; then it is destroyed (nginx's `send_timeout`).
   * Against clients that ask for a large file and never read, each holding a
   * connection slot, a descriptor and 1 MiB of read buffers. Progress is a write
   * the socket finished (at most 1 MiB), so a client reading 35 KiB/s or more is
   * never cut. 30 s, as long as `requestTimeout` gives a client to send its whole
   * request, and half nginx's 60 s: a stalled connection costs its slot for as
   * long as this, and a person whose download was cut resumes it with a Range
   * request. With `tls`, an HTTP/2 stream whose output has not moved for this long
   * is reset (its file closed), and a session where nothing moved is destroyed.
   * `0` for none.
   * @default 30000
   */
  readonly sendTimeout?: number;
  /**
   * Milliseconds an idle keep-alive connection is kept open.
   * @default 5000
   */
  readonly keepAliveTimeout?: number;
  /**
   * Milliseconds {@link RunningServer.close} lets in-flight responses finish before
   * it destroys their connections.
   * @default 10000
   */
  readonly shutdownTimeout?: number;
  /**
   * The largest request head (request line and header fields together), in bytes.
   * A larger one is answered 431 (Request Header Fields Too Large) and the
   * connection closed, before any of it is looked at. Node's `maxHeaderSize`.
   * @default 16384 (16 KiB, Node's own default)
   */
  readonly maxHeaderSize?: number;
  /**
   * The longest request-target (path and query), in bytes. A longer one is answered
   * 414 (URI Too Long) as it arrives, before any handler or file-system work. No
   * file tree needs more; only probes send more. A target too long to fit in
   * `maxHeaderSize` at all is a 431 instead.
   * @default 8192
   */
  readonly maxUrlLength?: number;
  /**
   * The most connections open at once (per process with `--workers`); one more is
   * closed as soon as it is accepted. Each costs a file descriptor and, idle, about
   * 10 KiB of memory; the header timeout frees the slots slow clients hold. `0`
   * for no limit.
   * @default 10000
   */
  readonly maxConnections?: number;
  /**
   * Serve HTTPS: HTTP/2 to clients that offer it (ALPN) and HTTP/1.1 to the rest,
   * on the one port, where a plain `http://` request is redirected to `https://`.
   * Either a certificate and key (PEM text, as `node:https` takes them), or
   * `"dev"`: a self-signed certificate for this machine's names and addresses,
   * made once and kept in `$XDG_CONFIG_HOME/wharf/` (`~/.config/wharf/`); see
   * docs/tls.md for trusting it.
   * @default undefined (plain HTTP/1.1)
   */
  readonly tls?: TlsCredentials | "dev";
  /**
   * Allow `auth` on an address other than loopback without `tls`. Basic credentials
   * are only base64: over plain HTTP anyone on the network can read them, so
   * serve() refuses unless told this.
   * @default false
   */
  readonly insecureAuth?: boolean;
  /**
   * The shape of access-log lines: wharf's own (`"default"`), `"dev"` (short;
   * coloured when logging to a terminal), Apache's `"common"` and `"combined"`,
   * or `"json"` (one object per line).
   * @default "default"
   */
  readonly logFormat?: LogFormat;
  /**
   * Keep HTTP/1.1 connections open for further requests. `false` closes every
   * connection after its response (`Connection: close`), as Python's http.server
   * does with its default protocol (`--protocol HTTP/1.0`). HTTP/2 is unaffected.
   * @default true
   */
  readonly keepAlive?: boolean;
}



/** A listening server. */
export interface RunningServer {
  /**
   * URLs a person can open, with the real port (`https://` with TLS): `http://localhost:PORT/` for
   * wildcard and `localhost` binds (then, for wildcard binds, this machine's
   * network addresses), else the address or host name asked for.
   */
  readonly urls: readonly string[];
  /** Every socket bound; `::` is dual-stack (IPv6 and IPv4). */
  readonly addresses: readonly BoundAddress[];
  /** The real port, also when `0` was asked for. */
  readonly port: number;
  /** The certificate served with {@link ServeOptions.tls}; `undefined` for plain HTTP. */
  readonly certificate: ServedCertificate | undefined;
  /**
   * Set when no port was asked for and the default (8000) was busy: the port that
   * was busy. {@link port} is where the server went instead.
   */
  readonly movedFrom?: number;
  /** The features on (`["spa", "cors", "compression"]`), for a banner. */
  readonly features: readonly string[];
  /** Responses started and not yet finished. */
  readonly inFlight: number;
  /**
   * Stops accepting connections, closes idle keep-alive ones, lets in-flight
   * responses finish for up to `shutdownTimeout` ms, then destroys the rest.
   * Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** serve()'s own option names, for the "did you mean" of an unknown one; the type keeps it complete. */
const SERVE_OPTION_NAMES = Object.keys({
  port: true, host: true, log: true, headersTimeout: true, requestTimeout: true, keepAliveTimeout: true, sendTimeout: true, shutdownTimeout: true,
  maxHeaderSize: true, maxUrlLength: true, maxConnections: true, tls: true, insecureAuth: true, logFormat: true, keepAlive: true,
} satisfies Record<Exclude<keyof ServeOptions, keyof StaticOptions>, true>);

function whole(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (Number.isSafeInteger(value) && value >= 0 && value <= max) return value;
  throw new OptionError(name, `must be a whole number from 0 to ${max}`);
}

/** Fails fast, with a clear message, on a root the server could never answer from. */
async function checkRoot(root: string, fs: FileSystem, onDisk: boolean): Promise<void> {
  try {
    if ((await fs.stat(root)).kind !== "directory") throw new ServeError("WHARF_NOT_A_DIRECTORY", `not a directory: ${root}`);
    // Root itself may stat fine and still refuse to list or open anything below it.
    if (onDisk) await access(root, constants.R_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof ServeError) throw err;
    const code = codeOf(err);
    if (code === "ENOENT") throw new ServeError("WHARF_NO_DIRECTORY", `directory not found: ${root}`, { cause: err });
    if (code === "ENOTDIR") throw new ServeError("WHARF_NOT_A_DIRECTORY", `not a directory: ${root}`, { cause: err });
    throw new ServeError("WHARF_DIRECTORY_NOT_READABLE", `directory not readable: ${root}`, { cause: err });
  }
}

export { type BoundAddress, ServeError } from "./bind.js";
export type { ServedCertificate } from "../tls/resolve.js";

const stderrLine = (line: string): void => void process.stderr.write(`${line}\n`);

const URI_TOO_LONG = errorReply(414, {}, "The address is too long.");
const URI_TOO_LONG_BODY = URI_TOO_LONG.body.kind === "chunks" ? (URI_TOO_LONG.body.chunks[0] as Uint8Array) : undefined;

const HEADERS_TOO_LARGE = errorReply(431);
const HEADERS_TOO_LARGE_BODY = HEADERS_TOO_LARGE.body.kind === "chunks" ? (HEADERS_TOO_LARGE.body.chunks[0] as Uint8Array) : undefined;

/** The answers to a request head serve() refuses; each closes the connection (RFC 9112 §9.6). */
const REFUSALS = new Map([400, 413, 501, 505].map((status) => {
  const reply = errorReply(status, { connection: "close" });
  return [status, { reply, body: reply.body.kind === "chunks" ? (reply.body.chunks[0] as Uint8Array) : undefined }] as const;
}));

/** Connections whose last answer said `Connection: close` (see {@link refuseRequest}). */
const closing = new WeakSet<object>();

/** Answers `status` from {@link REFUSALS} and closes the connection once it is sent. */
function refuseRequest(req: NodeRequest, res: NodeResponse, status: number): void {
  const refusal = REFUSALS.get(status)!;
  // The connection closes after this answer: a parser error that follows on it
  // (the body of a refused head) is not answered a second time.
  closing.add(req.socket);
  void writeReply(res, { reply: refusal.reply, body: req.method === "HEAD" ? undefined : refusal.body });
}

/**
 * Reads and discards the body of `req`, then calls `then`; past `limit` bytes it
 * answers 413 and closes instead. If the body's framing is bad (a bad chunk size, a
 * NUL in a trailer), the parser's error reaches 'clientError' first, which answers
 * 400, and `then` is never called. Bounded in time by `requestTimeout`.
 */
function afterBody(req: IncomingMessage, res: NodeResponse, limit: number, then: () => void): void {
  let read = 0;
  const onData = (chunk: Buffer): void => {
    read += chunk.length;
    if (read <= limit) return;
    req.off("data", onData);
    req.off("end", onEnd);
    refuseRequest(req, res, 413);
  };
  const onEnd = (): void => {
    req.off("data", onData);
    then();
  };
  req.on("data", onData);
  req.once("end", onEnd);
}

/** How many ports from the default are tried when it is busy (8000 to 8099). */
const PORT_TRIES = 100;

/** Whether `host` only reaches this machine. */
function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

// RFC 9112 §3: method SP request-target [SP HTTP-version] CRLF; the method a token.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+)(?: HTTP\/(\d\.\d))?\r?\n/;

/**
 * What can be said for the access log about a request the parser refused:
 * method, target and version when the packet it failed on is everything the
 * connection ever sent (`onlyPacket`: nothing answered yet, nothing read before
 * it), so that its first line is this request's request line and not an earlier
 * request's or a header line; `-` otherwise.
 */
export function refusedRequest(rawPacket: unknown, onlyPacket: boolean): { method: string; target: string; httpVersion: string } {
  const unknown = { method: "-", target: "-", httpVersion: "-" };
  if (!onlyPacket || !Buffer.isBuffer(rawPacket)) return unknown;
  const match = REQUEST_LINE.exec(rawPacket.toString("latin1"));
  if (match === null) return unknown;
  return { method: match[1]!, target: match[2]!, httpVersion: match[3] ?? "-" };
}

/**
 * Serves static files over HTTP/1.1 (or, with `tls`, HTTP/2 and HTTP/1.1 over
 * TLS) until {@link RunningServer.close} is called.
 * Throws {@link OptionError} for a bad option, {@link ServeError} when it cannot start.
 *
 * @example
 * ```ts
 * const server = await serve({ root: "public", port: 0, host: "localhost" });
 * console.log(`open ${server.urls[0]}`);
 * await server.close();
 * ```
 */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const { port: portOption, host: hostOption, log: logOption, headersTimeout: h, requestTimeout: r,
    keepAliveTimeout: k, sendTimeout: st, shutdownTimeout: s, tls: tlsOption, insecureAuth, logFormat = "default", maxHeaderSize: mh, maxUrlLength: mu, maxConnections: mc,
    keepAlive = true, ...staticOptions } = options;
  if (typeof keepAlive !== "boolean") throw new OptionError("keepAlive", "must be true or false");
  const port = whole("port", portOption, 8000, 65535);
  const headersTimeout = whole("headersTimeout", h, 10_000);
  const requestTimeout = whole("requestTimeout", r, 30_000);
  const keepAliveTimeout = whole("keepAliveTimeout", k, 5_000);
  const sendTimeout = whole("sendTimeout", st, 30_000);
  const shutdownTimeout = whole("shutdownTimeout", s, 10_000);
  const maxHeaderSize = whole("maxHeaderSize", mh, 16_384);
  const maxUrlLength = whole("maxUrlLength", mu, 8192);
  const maxConnections = whole("maxConnections", mc, 10_000);
  if (maxHeaderSize < 1024) throw new OptionError("maxHeaderSize", "must be at least 1024 bytes");
  if (maxUrlLength < 1) throw new OptionError("maxUrlLength", "must be at least 1");
  if (requestTimeout > 0 && headersTimeout > requestTimeout) {
    throw new OptionError("headersTimeout", "must not be longer than requestTimeout");
  }
  if (hostOption !== undefined && (typeof hostOption !== "string" || hostOption.trim() === "")) {
    throw new OptionError("host", "must be a non-empty address or host name");
  }
  if (logOption !== undefined && logOption !== false && typeof logOption !== "function") {
    throw new OptionError("log", "must be a function or false");
  }
  const log = logOption ?? stderrLine;
  if (!LOG_FORMATS.includes(logFormat)) throw new OptionError("logFormat", `must be one of ${LOG_FORMATS.join(", ")}`);
  if (insecureAuth !== undefined && typeof insecureAuth !== "boolean") throw new OptionError("insecureAuth", "must be true or false");
  // Colour only for a person watching a terminal, and never against NO_COLOR (no-color.org).
  const colour = log === stderrLine && process.stderr.isTTY === true && process.env["NO_COLOR"] === undefined && process.env["TERM"] !== "dumb";
  const format = accessLogFormatter(logFormat, colour);
  const resolved = resolveOptions(staticOptions, SERVE_OPTION_NAMES);
  await checkRoot(resolved.root, resolved.fs, staticOptions.fs === undefined);
  const tls = await resolveTls(tlsOption);
  if (resolved.features.auth && tls === undefined && insecureAuth !== true && !isLoopback(hostOption)) {
    throw new OptionError("auth", `would send passwords in clear text to ${hostOption === undefined ? "every interface" : hostOption}: ` +
      "use -b localhost, --tls, or --insecure-auth if the network is trusted");
  }
  const handler = createHandler({ ...staticOptions, root: resolved.root });

  const servers: Closable[] = [];
  const closer = gracefulCloser(servers, shutdownTimeout);

  // A response the connection answered instead (onClientError wrote its status
  // before the response had written anything): its line says that status.
  const answeredByConnection = new WeakMap<NodeResponse, number>();

  // Every response: tracked for shutdown, and one access-log line once it is over.
  const observe = (req: NodeRequest, res: NodeResponse): void => {
    closer.track(res);
    // Written on 'close', which comes after 'finish' and also when the client went away first.
    if (log) {
      const start = performance.now();
      const time = new Date();
      // Read now: an HTTP/2 request's socket is unbound once its stream is gone.
      const remoteAddress = req.socket.remoteAddress;
      res.once("close", () => {
        const finished = res.writableFinished;
        const status = finished ? undefined : answeredByConnection.get(res);
        log(format({
          time, remoteAddress, method: req.method ?? "-", target: req.url ?? "-",
          httpVersion: req.httpVersion, status: status ?? res.statusCode, bytes: status === undefined ? responseBodyBytes(res) : 0,
          durationMs: performance.now() - start, aborted: !finished && status === undefined,
          referer: req.headers.referer, userAgent: req.headers["user-agent"], user: responseUser(res),
        }));
      });
    }
  };

  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    observe(req, res);
    // Node then answers with `Connection: close` and closes after the response.
    if (!keepAlive && "shouldKeepAlive" in res) res.shouldKeepAlive = false;
    // Checked as the request arrives, before any handler work: 414 (RFC 9110 §15.5.15).
    if (req.url !== undefined && req.url.length > maxUrlLength) {
      void writeReply(res, { reply: URI_TOO_LONG, body: req.method === "HEAD" ? undefined : URI_TOO_LONG_BODY });
      return;
    }
    const dispatch = (): void => pipelined(req, res);
    // HTTP/1.x only: HTTP/2 frames its own messages (and has a stream).
    if ((req as Partial<Http2ServerRequest>).stream === undefined) {
      // Framing, version and Host decided from the head, the same for a cached file
      // as for one still on disk (see request-head.ts).
      const verdict = checkRequestHead(req as IncomingMessage);
      if (verdict.kind === "refuse") {
        refuseRequest(req, res, verdict.status);
        return;
      }
      if (verdict.body !== "none") {
        afterBody(req as IncomingMessage, res, MAX_DISCARDED_BODY, dispatch);
        return;
      }
    }
    dispatch();
  };
  // At most MAX_PIPELINED requests of one HTTP/1.1 connection under way at once (pipeline.ts).
  const pipelined = limitPipelining((req, res) => {
    try {
      handler(req, res);
    } catch {
      // The handler catches its own errors; this is the last line against a crash.
      if (!res.headersSent) res.writeHead(500, { "content-length": "0" }).end();
      else res.destroy();
    }
  });
  const sends = sendWatch(sendTimeout);

  // How often timeouts are checked; Node's 30 s default lets a slowloris linger.
  const connectionsCheckingInterval = headersTimeout > 0 ? Math.min(1000, Math.max(50, headersTimeout / 2)) : 1000;
  const onClientError = (err: Error & { rawPacket?: Buffer; bytesParsed?: number }, socket: Duplex & { bytesWritten?: number; bytesRead?: number; remoteAddress?: string }): void => {
    const code = codeOf(err);
    if (closing.has(socket)) {
      socket.destroy();
      return;
    }
    // Like Node's default answer, which a 'clientError' listener replaces: only
    // where nothing of a response has been written, so the status line cannot land
    // in the middle of one. The response in flight, if any, is the one Node is
    // about to write (its private `_httpMessage`, the field its own default reads):
    // the client reads this status as that request's answer, so its log line says so.
    // With none in flight (a fresh connection, or between keep-alive requests) the
    // refused request gets a line of its own.
    const current = (socket as { _httpMessage?: NodeResponse | null })._httpMessage ?? undefined;
    // A response already ended has handed all its bytes to the socket: the status goes after them.
    const inFlight = current === undefined || current.writableEnded ? undefined : current;
    if (code !== "ECONNRESET" && socket.writable && (socket.bytesWritten === 0 || inFlight === undefined)) {
      // The status is decided in client-error.ts (501 for an unknown method, 505 for a version).
      const status = clientErrorStatus(code, err.rawPacket, err.bytesParsed);
      const onlyPacket = socket.bytesWritten === 0 && socket.bytesRead === err.rawPacket?.length;
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      if (inFlight !== undefined) answeredByConnection.set(inFlight, status);
      else if (log) {
        log(format({
          time: new Date(), remoteAddress: socket.remoteAddress, ...refusedRequest(err.rawPacket, onlyPacket),
          status, bytes: 0, durationMs: 0, aborted: false,
        }));
      }
    }
    socket.destroy();
  };

  const makeServer = (): NetServer => {
    let server: NetServer;
    if (tls === undefined) {
      const plain = createServer({
        insecureHTTPParser: false, headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval, maxHeaderSize,
        // A missing Host is refused by checkRequestHead (request-head.ts), as over TLS.
        requireHostHeader: false,
      }, onRequest);
      plain.on("clientError", onClientError);
      plain.on("connection", sends.watch);
      servers.push(plain);
      server = plain;
    } else {
      const transport = secureTransport({
        credentials: tls.credentials, headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval,
        maxHeaderSize, sendTimeout, onClientError,
        // An HTTP/2 header list past maxHeaderSize, refused by the transport: logged like any answer.
        onRefused: (req, res) => {
          observe(req, res);
          void writeReply(res, { reply: HEADERS_TOO_LARGE, body: req.method === "HEAD" ? undefined : HEADERS_TOO_LARGE_BODY });
        },
        // HTTP/1.1 over TLS: its connection is watched from its first request (HTTP/2
        // streams have their own timeout in secure.ts).
        onRequest: (req, res) => {
          if (!("stream" in res)) sends.watch(req.socket as Socket);
          onRequest(req, res);
        },
      });
      servers.push(transport);
      server = transport.server;
    }
    // Past the limit Node closes a new connection as soon as it is accepted.
    server.maxConnections = maxConnections === 0 ? Number.POSITIVE_INFINITY : maxConnections;
    // After startup (an accept() failing with EMFILE, say): report, never crash.
    server.on("error", (err) => {
      if (server.listening) (log || stderrLine)(`wharf: ${err.message}`);
    });
    return server;
  };

  const discard = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((srv) => new Promise((done) => srv.close(done))));
  };
  const host = hostOption?.trim().replace(/^\[(.*)\]$/, "$1");
  let addresses: BoundAddress[] | undefined;
  let movedFrom: number | undefined;
  // No port asked for: the default, or, when something else has it, the next free
  // one (saying so), as dev servers do. A port asked for is that port or an error.
  for (let candidate = port; addresses === undefined; candidate++) {
    try {
      addresses = await bind(makeServer, discard, host, candidate);
      if (candidate !== port) movedFrom = port;
    } catch (err) {
      await discard();
      if (portOption !== undefined || codeOf(err) !== "EADDRINUSE" || candidate >= port + PORT_TRIES - 1) throw err;
    }
  }

  const realPort = addresses[0]!.port;
  const wildcard = addresses.find((a) => WILDCARD.has(a.address));
  const scheme = tls === undefined ? "http" : "https";
  const urls =
    wildcard !== undefined ? [`${scheme}://localhost:${realPort}/`, ...networkUrls(wildcard.family === "IPv6", realPort, scheme)]
    : host !== undefined && isIP(host) === 0 ? [`${scheme}://${host}:${realPort}/`]
    : addresses.map((a) => `${scheme}://${hostForUrl(a.address)}:${a.port}/`);

  return {
    urls, addresses, port: realPort, close: closer.close, certificate: tls?.certificate,
    ...(movedFrom === undefined ? {} : { movedFrom }),
    features: [...resolved.features.active, ...(resolved.compression ? ["compression"] : []), ...(tls === undefined ? [] : ["https", "http/2"])],
    get inFlight() { return closer.inFlight; },
  };
}
