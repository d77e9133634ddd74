/**
 * `serve()`: the static handler on a real server — HTTP/1.1, or with `tls`
 * HTTP/2 and HTTP/1.1 over TLS on one port — bound the way people expect
 * (dual-stack by default, both loopbacks for `localhost`), with timeouts that cut
 * slow clients, an access log, and a graceful close.
 */
import { createServer } from "node:http";
import { access, constants } from "node:fs/promises";
import { isIP, type Server as NetServer } from "node:net";
import type { Duplex } from "node:stream";
import { createHandler } from "../handler.js";
import { type NodeRequest, type NodeResponse, responseBodyBytes, writeReply } from "../adapters/node.js";
import { errorReply } from "../handlers/errors.js";
import type { FileSystem } from "../fs/types.js";
import { OptionError, resolveOptions, type StaticOptions } from "../options.js";
import type { TlsCredentials } from "../tls/credentials.js";
import { type ServedCertificate, resolveTls } from "../tls/resolve.js";
import { type BoundAddress, ServeError, WILDCARD, bind, codeOf, hostForUrl, networkUrls } from "./bind.js";
import { type LogFormat, LOG_FORMATS, accessLogFormatter } from "./log.js";
import { secureTransport } from "./secure.js";
import { type Closable, gracefulCloser } from "./shutdown.js";

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
   * Milliseconds an idle keep-alive connection is kept open.
   * @default 5000
   */
  readonly keepAliveTimeout?: number;
  /**
   * Milliseconds a response may wait for a client that does not read (nginx's
   * `send_timeout`): with `tls`, an HTTP/2 stream whose output has not moved for
   * this long is reset, and a connection where nothing moved is destroyed, with
   * its open files. `0` for never.
   * @default 30000
   */
  readonly sendTimeout?: number;
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

/** How many ports from the default are tried when it is busy (8000 to 8099). */
const PORT_TRIES = 100;

/** Whether `host` only reaches this machine. */
function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The user name of a Basic `Authorization` header, for the access log (never the password). */
function basicUser(header: string | undefined): string | undefined {
  const encoded = header === undefined ? undefined : /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (encoded === undefined) return undefined;
  const text = Buffer.from(encoded, "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon <= 0 ? undefined : text.slice(0, colon);
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
    keepAliveTimeout: k, shutdownTimeout: s, sendTimeout: st, tls: tlsOption, insecureAuth, logFormat = "default", maxHeaderSize: mh, maxUrlLength: mu, maxConnections: mc,
    ...staticOptions } = options;
  const port = whole("port", portOption, 8000, 65535);
  const headersTimeout = whole("headersTimeout", h, 10_000);
  const requestTimeout = whole("requestTimeout", r, 30_000);
  const keepAliveTimeout = whole("keepAliveTimeout", k, 5_000);
  const shutdownTimeout = whole("shutdownTimeout", s, 10_000);
  const sendTimeout = whole("sendTimeout", st, 30_000);
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
  const resolved = resolveOptions(staticOptions);
  await checkRoot(resolved.root, resolved.fs, staticOptions.fs === undefined);
  const tls = await resolveTls(tlsOption);
  if (resolved.features.auth && tls === undefined && insecureAuth !== true && !isLoopback(hostOption)) {
    throw new OptionError("auth", `would send passwords in clear text to ${hostOption === undefined ? "every interface" : hostOption}: ` +
      "use -b localhost, --tls, or --insecure-auth if the network is trusted");
  }
  const handler = createHandler({ ...staticOptions, root: resolved.root });

  const servers: Closable[] = [];
  const closer = gracefulCloser(servers, shutdownTimeout);

  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    closer.track(res);
    // Checked as the request arrives, before any handler work: 414 (RFC 9110 §15.5.15).
    if (req.url !== undefined && req.url.length > maxUrlLength) {
      void writeReply(res, { reply: URI_TOO_LONG, body: req.method === "HEAD" ? undefined : URI_TOO_LONG_BODY });
      return;
    }
    // Written on 'close', which comes after 'finish' and also when the client went away first.
    if (log) {
      const start = performance.now();
      const time = new Date();
      // Read now: an HTTP/2 request's socket is unbound once its stream is gone.
      const remoteAddress = req.socket.remoteAddress;
      res.once("close", () => log(format({
        time, remoteAddress, method: req.method ?? "-", target: req.url ?? "-",
        httpVersion: req.httpVersion, status: res.statusCode, bytes: responseBodyBytes(res),
        durationMs: performance.now() - start, aborted: !res.writableFinished,
        referer: req.headers.referer, userAgent: req.headers["user-agent"], user: basicUser(req.headers.authorization),
      })));
    }
    try {
      handler(req, res);
    } catch {
      // The handler catches its own errors; this is the last line against a crash.
      if (!res.headersSent) res.writeHead(500, { "content-length": "0" }).end();
      else res.destroy();
    }
  };

  // How often timeouts are checked; Node's 30 s default lets a slowloris linger.
  const connectionsCheckingInterval = headersTimeout > 0 ? Math.min(1000, Math.max(50, headersTimeout / 2)) : 1000;
  const onClientError = (err: Error, socket: Duplex & { bytesWritten?: number }): void => {
    const code = codeOf(err);
    // Like Node's default answer, which a 'clientError' listener replaces.
    if (code !== "ECONNRESET" && socket.writable && socket.bytesWritten === 0) {
      const status = code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large"
        : code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
      socket.write(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy();
  };

  const makeServer = (): NetServer => {
    let server: NetServer;
    if (tls === undefined) {
      const plain = createServer({
        insecureHTTPParser: false, headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval, maxHeaderSize,
      }, onRequest);
      plain.on("clientError", onClientError);
      servers.push(plain);
      server = plain;
    } else {
      const transport = secureTransport({
        credentials: tls.credentials, headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval,
        maxHeaderSize, sendTimeout, onRequest, onClientError,
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
