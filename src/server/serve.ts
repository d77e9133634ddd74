/**
 * `serve()`: the static handler on a real server — HTTP/1.1, or with `tls`
 * HTTP/2 and HTTP/1.1 over TLS on one port — bound the way people expect
 * (dual-stack by default, both loopbacks for `localhost`), with timeouts that cut
 * slow clients, an access log, and a graceful close.
 */

import { access, constants } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Server as NetServer, Socket } from "node:net";
import { networkInterfaces } from "node:os";
import type { TLSSocket } from "node:tls";
import { deferContinue, type NodeRequest, type NodeResponse, responseBodyBytes, responseUser } from "../adapters/node.js";
import { wasAbandoned } from "../adapters/queued.js";
import { codeOf, ServeError } from "../core/errors.js";
import { booleanOption, wholeOption } from "../core/validate.js";
import { buildFeatures } from "../features/index.js";
import { newSecretPath } from "../features/secret-path.js";
import type { FileSystem } from "../fs/types.js";
import { createHandlerFromResolved, defaultReporter, liveSite } from "../handler/create.js";
import { OptionError, resolveOptions, type StaticOptions } from "../handler/options.js";
import type { ClientAddressFn } from "../http/forwarded.js";
import type { ErrorReporter } from "../responders/static.js";
import type { TlsCredentials } from "../tls/credentials.js";
import { resolveTls, type ServedCertificate } from "../tls/resolve.js";
import { type BoundAddress, bind, urlsOf } from "./bind.js";
import { absoluteDeadline, requestTimeoutError, watchUploadBody } from "./body-deadline.js";
import { afterBody, clientErrorListener, refuseHeadersTooLarge, refuseRequest, refuseUriTooLong } from "./connection.js";
import { probeAnswer, probeOf, type Readiness } from "./health.js";
import { lanAddress, lanUrl } from "./lan.js";
import { type AccessLogEntry, accessLogFormatter, LOG_FORMATS, type LogFormat } from "./log.js";
import { stderrLines } from "./log-lines.js";
import { createMetrics, listenMetrics, type MetricsAddress, metricsAddress, type ServerMetrics } from "./metrics.js";
import { limitPipelining } from "./pipeline.js";
import { checkRequestHead, MAX_DISCARDED_BODY } from "./request-head.js";
import { secureTransport } from "./secure.js";
import { sendWatch } from "./send-timeout.js";
import { type Closable, type GracefulCloser, gracefulCloser } from "./shutdown.js";

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
   * Milliseconds a client may take to send the complete request. With uploads on,
   * a body the handler reads (an upload) has instead an idle deadline: it is cut
   * only when none of its bytes came for this long (nginx's `client_body_timeout`),
   * so a slow link can finish a large file (src/server/body-deadline.ts).
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
  /**
   * A QR code of {@link RunningServer.lanUrl} on listing pages (each page adds its
   * directory's path), for opening the folder on a phone; the command line also
   * prints one in the terminal. Only for a private LAN address (RFC 1918, or an
   * IPv6 unique local address) of the bound interfaces: never `localhost`, never
   * the `Host` a page was asked with. Loads `qrcode-generator`.
   * @default false
   */
  readonly qr?: boolean;
  /**
   * Stop after this many milliseconds, gracefully as {@link RunningServer.close}
   * does (in-flight responses get `shutdownTimeout` to finish): a shared link
   * that ends by itself. {@link RunningServer.expiresAt} says when;
   * {@link RunningServer.closed} settles once it has stopped. At most
   * 2,147,483,647 (24.8 days, the longest timer Node keeps).
   * @default undefined (no expiry)
   */
  readonly expire?: number;
  /**
   * Answer the probes `GET`/`HEAD /__wharf/livez` (200 while the process runs) and
   * `/__wharf/readyz` (200 once listening with a readable root, 503 from
   * {@link RunningServer.drain} on), `text/plain`, `Cache-Control: no-store`,
   * before the handler (auth, rewrites, the SPA fallback) and out of the access
   * log. Off, the paths are ordinary paths.
   * @default false
   */
  readonly health?: boolean;
  /**
   * Log the {@link health} probes too.
   * @default false
   */
  readonly logHealth?: boolean;
  /**
   * Milliseconds {@link RunningServer.drain} keeps serving with readiness 503
   * before it closes: long enough for the load balancer to stop sending (a
   * Kubernetes endpoint update, a few health-check intervals). The CLI drains
   * on SIGTERM and closes at once on Ctrl+C.
   * @default 0
   */
  readonly shutdownDelay?: number;
  /**
   * Prometheus metrics at `/metrics` on a listener of their own: a port (on both
   * loopbacks, `127.0.0.1` and `::1`) or `"ADDR:PORT"` (`"0.0.0.0:9100"`,
   * `"[::1]:9100"`); `0` picks a free port (read it back from
   * {@link RunningServer.metricsUrl}). Requests by method, status and kind, their
   * duration, bytes by coding, responses in flight, connections, the caches and
   * the build; no label takes a value from a request's host or path (docs/features.md, "Metrics").
   * @default undefined (no metrics)
   */
  readonly metrics?: number | string;
}

/** What the `--workers` supervisor (cli/workers.ts) asks of serve() beyond its options. */
export interface ServeInternals {
  /**
   * Bind with `SO_REUSEPORT` (Node 22.12 and later), so that worker processes each
   * have a socket of their own on the port and the kernel spreads connections.
   */
  readonly reusePort?: boolean;
  /** A `--workers` worker: metrics are gathered here and served by the primary. */
  readonly worker?: boolean;
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
  /** With `live`: how the tree is followed (watched or polled) and how many directories, for a banner. */
  readonly live?: { readonly mode: "watch" | "poll"; readonly directories: number };
  /** Responses started and not yet finished. */
  readonly inFlight: number;
  /** With {@link StaticOptions.secretPath}: the prefix every URL has (`true` made a new one), without slashes. */
  readonly secretPath: string | undefined;
  /**
   * The URL another device on the LAN opens (with the secret path): the first
   * private address of the bound interfaces (see {@link ServeOptions.qr}), or
   * `undefined` when there is none (bound to loopback only, or no private network).
   */
  readonly lanUrl: string | undefined;
  /** With {@link ServeOptions.expire}: when the server stops by itself. */
  readonly expiresAt: Date | undefined;
  /** Settles once the server has stopped: after {@link close}, or when it expired. */
  readonly closed: Promise<void>;
  /** Where the metrics are (`http://127.0.0.1:9100/metrics`), with {@link ServeOptions.metrics}. */
  readonly metricsUrl: string | undefined;
  /**
   * Stops accepting connections, closes idle keep-alive ones, lets in-flight
   * responses finish for up to `shutdownTimeout` ms, then destroys the rest.
   * Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /**
   * Turns readiness to 503 (`/__wharf/readyz` with `health`), keeps serving for
   * `shutdownDelay` ms, each response ending its connection, then {@link close}s.
   * close() during the delay closes at once. Calling it again returns the same
   * promise.
   */
  drain(): Promise<void>;
}

/** serve()'s own option names, for the "did you mean" of an unknown one; the type keeps it complete. */
const SERVE_OPTION_NAMES = Object.keys({
  port: true,
  host: true,
  log: true,
  headersTimeout: true,
  requestTimeout: true,
  keepAliveTimeout: true,
  sendTimeout: true,
  shutdownTimeout: true,
  maxHeaderSize: true,
  maxUrlLength: true,
  maxConnections: true,
  tls: true,
  insecureAuth: true,
  logFormat: true,
  keepAlive: true,
  health: true,
  logHealth: true,
  shutdownDelay: true,
  qr: true,
  expire: true,
  metrics: true,
} satisfies Record<Exclude<keyof ServeOptions, keyof StaticOptions>, true>);

const whole = (name: string, value: number | undefined, fallback: number, max?: number): number =>
  wholeOption(name, value, fallback, 0, max);

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

export { ServeError } from "../core/errors.js";
export type { ServedCertificate } from "../tls/resolve.js";
export type { BoundAddress } from "./bind.js";

// The default log: lines to stderr, written once per turn of the event loop (log-lines.ts).
const stderrLine = (line: string): void => stderrLines().line(line);

/** How many ports from the default are tried when it is busy (8000 to 8099). */
const PORT_TRIES = 100;

/** Whether `host` only reaches this machine. */
function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The DNS names of a certificate (`DNS:localhost, IP Address:127.0.0.1` → `["localhost"]`). */
function certificateNames(certificate: ServedCertificate | undefined): string[] {
  if (certificate === undefined) return [];
  return certificate.subjectAltName
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4));
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
  return serveWith(options, {});
}

/** {@link serve}, with what the `--workers` supervisor adds (internal). */
export async function serveWith(options: ServeOptions, internals: ServeInternals): Promise<RunningServer> {
  const {
    port: portOption,
    host: hostOption,
    log: logOption,
    headersTimeout: h,
    requestTimeout: r,
    keepAliveTimeout: k,
    sendTimeout: st,
    shutdownTimeout: s,
    tls: tlsOption,
    insecureAuth,
    logFormat = "default",
    maxHeaderSize: mh,
    maxUrlLength: mu,
    maxConnections: mc,
    keepAlive = true,
    health: healthOption,
    logHealth: logHealthOption,
    shutdownDelay: sd,
    qr = false,
    expire: expireOption,
    secretPath: secretOption,
    metrics: metricsOption,
    ...rest
  } = options;
  booleanOption("qr", qr, false);
  const expire = expireOption === undefined ? undefined : wholeOption("expire", expireOption, 0, 1, 2 ** 31 - 1);
  // `true` is serve()'s to turn into a prefix: the handler takes the prefix itself.
  const secret = secretOption === true ? newSecretPath() : secretOption;
  // The listing's QR code asks for the LAN URL when it renders a page: known once bound, below.
  let lan: string | undefined;
  const listing = rest.listing;
  const staticOptions: StaticOptions = {
    ...rest,
    ...(secret === undefined ? {} : { secretPath: secret }),
    ...(qr && listing !== false ? { listing: { ...(typeof listing === "object" ? listing : {}), qr: () => lan } } : {}),
  };
  booleanOption("keepAlive", keepAlive, true);
  const health = booleanOption("health", healthOption, false);
  const logHealth = booleanOption("logHealth", logHealthOption, false);
  const shutdownDelay = whole("shutdownDelay", sd, 0);
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
  booleanOption("insecureAuth", insecureAuth, false);
  const metricsAt: MetricsAddress | undefined = metricsOption === undefined ? undefined : metricsAddress(metricsOption);
  // Colour only for a person watching a terminal, and never against NO_COLOR (no-color.org).
  const colour =
    log === stderrLine && process.stderr.isTTY === true && process.env["NO_COLOR"] === undefined && process.env["TERM"] !== "dumb";
  const format = accessLogFormatter(logFormat, colour);
  const resolved = resolveOptions(staticOptions, SERVE_OPTION_NAMES);
  await checkRoot(resolved.root, resolved.fs, staticOptions.fs === undefined);
  const tls = await resolveTls(tlsOption);
  // Live reload's Host allow-list takes the certificate's names too.
  const features = buildFeatures(staticOptions, undefined, liveSite(resolved, certificateNames(tls?.certificate)));
  // Decided once: without metrics, none of their hooks is installed.
  const metrics = metricsAt === undefined ? undefined : await createMetrics(internals.worker === true);
  // Built once from the one resolution: the auth check and the banner below look at
  // the features of the handler that answers (and the htpasswd file is read once).
  // The secret prefix never reaches the log (features/secret-path.ts): a log is
  // shared more freely than a link. Neither an internal error's line, which names
  // the request's target, nor the access log below.
  const redact = features.secretPath === undefined ? undefined : secretRedactor(features.secretPath);
  const reporter: ErrorReporter =
    redact === undefined ? defaultReporter : (error, req) => defaultReporter(error, { ...req, target: redact(req.target) });
  const { handler: files, uploadsSettled } =
    metrics === undefined
      ? createHandlerFromResolved(resolved, features, reporter)
      : createHandlerFromResolved(
          resolved,
          { ...features, outer: [metrics.middleware, ...features.outer], gates: features.gates + 1 },
          reporter,
          (c) => metrics.caches(c),
        );
  const handler = metrics === undefined ? files : metrics.wrap(files);
  const uploadAccounts = (resolved.uploads?.accounts.length ?? 0) > 0;
  if ((features.auth || uploadAccounts) && tls === undefined && insecureAuth !== true && !isLoopback(hostOption)) {
    throw new OptionError(
      "auth",
      `would send passwords in clear text to ${hostOption === undefined ? "every interface" : hostOption}: ` +
        "use -b localhost, --tls, or --insecure-auth if the network is trusted",
    );
  }

  const servers: Closable[] = [];
  const closer = gracefulCloser(servers, shutdownTimeout);
  // A response the connection answered instead (onClientError wrote its status
  // before the response had written anything): its line says that status.
  const answeredByConnection = new WeakMap<NodeResponse, number>();
  const logEntry: ((entry: AccessLogEntry) => void) | undefined =
    log === false
      ? undefined
      : redact === undefined
        ? (entry: AccessLogEntry): void => log(format(entry))
        : (entry: AccessLogEntry): void =>
            log(
              format({
                ...entry,
                target: redact(entry.target),
                ...(entry.referer === undefined ? {} : { referer: redact(entry.referer) }),
              }),
            );
  // With uploads on, the bodies of writes go to the handler instead of being dropped.
  const writes =
    resolved.uploads === undefined ? undefined : new Set(resolved.uploads.delete ? ["PUT", "POST", "DELETE"] : ["PUT", "POST"]);
  // What happens when a request is over: its log line, its metrics, both or neither.
  const record: ((entry: AccessLogEntry, res?: NodeResponse) => void) | undefined =
    metrics === undefined
      ? logEntry
      : logEntry === undefined
        ? metrics.record
        : (entry, res) => {
            logEntry(entry);
            metrics.record(entry, res);
          };
  metrics?.inFlight(() => closer.inFlight);
  let draining = false;
  const onDisk = staticOptions.fs === undefined;
  // One check of the root at a time, shared by the probes that come meanwhile: on a
  // hung mount each probe (unlogged, unauthenticated) left a stat waiting in the
  // thread pool, without end; now there is one, and the probes answer 503 at the deadline.
  let rootCheck: Promise<boolean> | undefined;
  const probes: Probes | undefined = health
    ? {
        log: logHealth,
        readiness: async () => {
          if (draining) return { kind: "draining" };
          rootCheck ??= checkRoot(resolved.root, resolved.fs, onDisk)
            .then(
              () => true,
              () => false,
            )
            .finally(() => {
              rootCheck = undefined;
            });
          const readable = await within(rootCheck, ROOT_CHECK_DEADLINE);
          // Checked again after the wait: a SIGTERM may have come meanwhile.
          return draining ? { kind: "draining" } : readable ? { kind: "ready" } : { kind: "root-unreadable" };
        },
      }
    : undefined;
  const onClientError = clientErrorListener(record, answeredByConnection);
  // With uploads on, body deadlines are kept here (body-deadline.ts), Node's turned off.
  const bodyTimeout = writes !== undefined ? requestTimeout : 0;
  const { onRequest, observe } = requestListener({
    handler,
    closer,
    keepAlive,
    maxUrlLength,
    record,
    answeredByConnection,
    clientAddress: resolved.clientAddress,
    probes,
    writes,
    bodyTimeout,
    timedOut: (socket) => onClientError(requestTimeoutError(), socket),
  });
  const makeServer = serverFactory({
    tls,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout,
    sendTimeout,
    maxHeaderSize,
    maxConnections,
    onRequest,
    observe,
    onClientError,
    servers,
    writes,
    report: log || stderrLine,
    metrics,
  });
  const discard = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((srv) => new Promise((done) => srv.close(done))));
  };
  const host = hostOption?.trim().replace(/^\[(.*)\]$/, "$1");
  let bound: Awaited<ReturnType<typeof bindFirstFree>>;
  try {
    bound = await bindFirstFree(makeServer, discard, host, port, portOption !== undefined, internals.reusePort === true);
  } catch (error) {
    features.live.close();
    throw error;
  }
  const { addresses, movedFrom } = bound;
  // The metrics listener, unless a worker's (the primary serves the workers' sum).
  let metricsUrl: string | undefined;
  if (metrics !== undefined && metricsAt !== undefined && internals.worker !== true) {
    const { registry } = metrics;
    try {
      const listener = await listenMetrics(() => registry.metrics(), registry.contentType, metricsAt);
      servers.push(...listener.servers);
      metricsUrl = listener.url;
    } catch (error) {
      features.live.close();
      await discard();
      throw error;
    }
  }
  // Ready within the start-up: the banner says how much is watched.
  const liveState = await features.live.ready;
  const scheme = tls === undefined ? "http" : "https";
  const under = (url: string): string => (features.secretPath === undefined ? url : `${url}${features.secretPath}/`);
  const lanAt = lanAddress(addresses, networkInterfaces());
  lan = lanAt === undefined ? undefined : under(lanUrl(lanAt, addresses[0]!.port, scheme));
  let expiry: NodeJS.Timeout | undefined;
  let stopped!: () => void;
  const closed = new Promise<void>((done) => {
    stopped = done;
  });
  // drain(): readiness 503 and `Connection: close` at once, close() after the delay
  // (or as soon as close() itself is called).
  let endDelay: (() => void) | undefined;
  let drained: Promise<void> | undefined;
  const close = (): Promise<void> => {
    clearTimeout(expiry);
    draining = true;
    endDelay?.();
    // Event streams never end by themselves: each gets a last event and ends
    // before the graceful close waits for responses in flight.
    features.live.close();
    // Then the uploads the close cut short remove their temporary files, before
    // the caller (the CLI exits at once) may end the process; bounded, as every wait.
    const closing = closer.close().then(() =>
      within(
        uploadsSettled().then(() => true),
        UPLOADS_SETTLE_DEADLINE,
      ),
    );
    closing.then(stopped, stopped);
    return closing.then(() => undefined);
  };
  // A close that fails (it does not, short of a bug) rejects for the caller of close(); here nobody waits on it.
  if (expire !== undefined) expiry = setTimeout(() => close().catch(() => undefined), expire);
  const drain = (): Promise<void> =>
    (drained ??= (async () => {
      draining = true;
      closer.drain();
      if (shutdownDelay > 0) {
        await new Promise<void>((done) => {
          const timer = setTimeout(done, shutdownDelay);
          endDelay = () => {
            clearTimeout(timer);
            done();
          };
        });
      }
      return close();
    })());
  return {
    metricsUrl,
    urls: urlsOf(addresses, host, scheme).map(under),
    secretPath: features.secretPath,
    lanUrl: lan,
    expiresAt: expire === undefined ? undefined : new Date(Date.now() + expire),
    closed,
    addresses,
    port: addresses[0]!.port,
    close,
    drain,
    certificate: tls?.certificate,
    ...(liveState === undefined ? {} : { live: liveState }),
    ...(movedFrom === undefined ? {} : { movedFrom }),
    features: [
      ...features.active,
      ...(resolved.uploads === undefined ? [] : ["uploads"]),
      ...(resolved.compression ? ["compression"] : []),
      ...(tls === undefined ? [] : ["https", "http/2"]),
      ...(health ? ["health"] : []),
      ...(resolved.clientAddress === undefined ? [] : ["trust-proxy"]),
    ],
    get inFlight() {
      return closer.inFlight;
    },
  };
}

/**
 * The secret prefix out of a logged target or Referer: `/…/file` instead. Every
 * occurrence, so an absolute-form target (`http://host/<secret>/`) is covered too.
 */
function secretRedactor(secret: string): (text: string) => string {
  return (text) => (text.includes(secret) ? text.split(secret).join("…") : text);
}

/** What {@link requestListener} needs. */
interface RequestListenerOptions {
  readonly handler: (req: NodeRequest, res: NodeResponse) => void;
  readonly closer: GracefulCloser;
  readonly keepAlive: boolean;
  readonly maxUrlLength: number;
  /** Writes one access-log line, records the metrics, or both; `undefined` for neither. */
  readonly record: ((entry: AccessLogEntry, res?: NodeResponse) => void) | undefined;
  readonly answeredByConnection: WeakMap<NodeResponse, number>;
  /** With `trustProxy`: the client behind a trusted proxy, for the access log. */
  readonly clientAddress: ClientAddressFn | undefined;
  /** With `health`: the probes. */
  readonly probes: Probes | undefined;
  /** Methods whose body the handler reads (uploads); `undefined`: every body is dropped. */
  readonly writes: ReadonlySet<string> | undefined;
  /**
   * With uploads on, `requestTimeout` as kept here instead of by Node (body-deadline.ts):
   * idle for a body the handler reads, absolute for one dropped. 0: Node's, or none.
   */
  readonly bodyTimeout: number;
  /** Answers a request whose body ran out of time, as Node does at its request timeout. */
  readonly timedOut: (socket: NodeRequest["socket"]) => void;
}

/** What answering the `health` probes needs. */
interface Probes {
  /** Log them (`logHealth`). */
  readonly log: boolean;
  readonly readiness: () => Promise<Readiness>;
}

/**
 * How long close() waits, once the connections are cut, for cut uploads to remove
 * their temporary files (an unlink each: milliseconds, unless the disk hangs).
 */
const UPLOADS_SETTLE_DEADLINE = 2000;

/** How long a readiness probe waits for the root's stat (a hung network mount) before it says 503. */
const ROOT_CHECK_DEADLINE = 2000;

/** `promise`'s value, or false if it rejects or has not settled within `ms`. */
function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => false),
    new Promise<boolean>((done) => {
      timer = setTimeout(() => done(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Writes a probe's answer (health.ts), no body for HEAD. */
function answerProbe(req: NodeRequest, res: NodeResponse, probe: "livez" | "readyz", readiness: Readiness): void {
  const answer = probeAnswer(probe, req.method, readiness);
  // A probe with another method may carry a body nobody reads: end the connection after.
  if (answer.status === 405 && "shouldKeepAlive" in res) res.shouldKeepAlive = false;
  res.writeHead(answer.status, answer.headers);
  if (req.method === "HEAD") res.end();
  else res.end(answer.body);
}

/**
 * The server's request listener: tracks the response for the graceful close, logs
 * it once it is over, refuses what the head alone refuses (414, then the checks of
 * request-head.ts), drops a request body, and hands the rest to the handler at
 * most MAX_PIPELINED at a time per connection (pipeline.ts). `observe` alone is the
 * first two, for answers the transport gives itself (the HTTP/2 431).
 */
function requestListener(o: RequestListenerOptions): { onRequest: Listener; observe: Listener } {
  const {
    handler,
    closer,
    keepAlive,
    maxUrlLength,
    record: log,
    answeredByConnection,
    clientAddress,
    probes,
    writes,
    bodyTimeout,
    timedOut,
  } = o;
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
  // Every response: tracked for shutdown, and one access-log line once it is over.
  const observe = (req: NodeRequest, res: NodeResponse): void => {
    closer.track(res);
    // Written on 'close', which comes after 'finish' and also when the client went away first.
    if (log !== undefined) {
      const start = performance.now();
      const time = new Date();
      // Read now: an HTTP/2 request's socket is unbound once its stream is gone.
      const remoteAddress = req.socket.remoteAddress;
      const client = clientAddress === undefined ? undefined : clientAddress(remoteAddress, (name) => headerOf(req, name));
      // `on`, not `once`: a response emits 'close' once, and `once` wraps the
      // listener in a bound function and a state object per request.
      res.on("close", () => {
        const finished = res.writableFinished;
        const status = finished ? undefined : answeredByConnection.get(res);
        // Closed before any of its answer was written (a pipelined request queued
        // behind one whose client hung up): no status was sent, so none is claimed.
        // 499 is nginx's "client closed request", the code operators know for it.
        const unanswered = !finished && status === undefined && wasAbandoned(res);
        log(
          {
            time,
            remoteAddress,
            ...(clientAddress === undefined ? {} : { clientAddress: client }),
            method: req.method ?? "-",
            target: req.url ?? "-",
            httpVersion: req.httpVersion,
            status: status ?? (unanswered ? 499 : res.statusCode),
            bytes: status === undefined && !unanswered ? responseBodyBytes(res) : 0,
            durationMs: performance.now() - start,
            aborted: !finished && status === undefined,
            referer: req.headers.referer,
            userAgent: req.headers["user-agent"],
            user: responseUser(res),
          },
          res,
        );
      });
    }
  };

  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    // Decided at startup: without `health` the probe paths are ordinary paths.
    const probe = probes === undefined ? undefined : probeOf(req.url);
    if (probe === undefined || probes!.log) observe(req, res);
    else closer.track(res);
    // Node then answers with `Connection: close` and closes after the response.
    if (!keepAlive && "shouldKeepAlive" in res) res.shouldKeepAlive = false;
    // Checked as the request arrives, before any handler work: 414 (RFC 9110 §15.5.15).
    if (req.url !== undefined && req.url.length > maxUrlLength) {
      refuseUriTooLong(req, res);
      return;
    }
    // HTTP/1.x only: HTTP/2 frames its own messages (and has a stream).
    if ((req as Partial<Http2ServerRequest>).stream === undefined) {
      // Framing, version and Host decided from the head, the same for a cached file
      // as for one still on disk (see request-head.ts).
      // An upload's body is the handler's to read and to limit (features/upload).
      const upload = writes?.has(req.method ?? "") === true;
      const verdict = checkRequestHead(req as IncomingMessage, upload ? Number.POSITIVE_INFINITY : MAX_DISCARDED_BODY);
      if (verdict.kind === "refuse") {
        refuseRequest(req, res, verdict.status);
        return;
      }
      if (verdict.body !== "none" && !upload) {
        if (bodyTimeout === 0) {
          afterBody(req as IncomingMessage, res, MAX_DISCARDED_BODY, () => dispatch(req, res, probe));
          return;
        }
        // Uploads on: Node's request timeout is off, this body keeps it (absolute).
        const stop = absoluteDeadline(req, bodyTimeout, timedOut);
        res.once("close", stop);
        afterBody(req as IncomingMessage, res, MAX_DISCARDED_BODY, () => {
          stop();
          dispatch(req, res, probe);
        });
        return;
      }
      // An upload's body: cut only when it stops arriving (body-deadline.ts).
      if (verdict.body !== "none" && bodyTimeout > 0) watchUploadBody(req, res, bodyTimeout, timedOut);
    }
    dispatch(req, res, probe);
  };
  // A function of its own, not a closure made per request: only a request with a
  // body to read first needs one (above).
  const dispatch = (req: NodeRequest, res: NodeResponse, probe: ReturnType<typeof probeOf>): void => {
    if (probe === undefined) pipelined(req, res);
    // Answered before the handler: no auth, rewrite or SPA fallback sees a probe.
    else if (probe === "livez") answerProbe(req, res, probe, { kind: "ready" });
    else void probes!.readiness().then((r) => answerProbe(req, res, probe, r));
  };
  return { onRequest, observe };
}

/** A request header as one string (repeated fields joined, RFC 9110 §5.3). */
function headerOf(req: NodeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** A Node request listener. */
type Listener = (req: NodeRequest, res: NodeResponse) => void;

/** What {@link serverFactory} needs. */
interface ServerFactoryOptions {
  readonly tls: { readonly credentials: TlsCredentials } | undefined;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly sendTimeout: number;
  readonly maxHeaderSize: number;
  readonly maxConnections: number;
  readonly onRequest: Listener;
  /** Tracks and logs an answer the transport gives itself. */
  readonly observe: Listener;
  readonly onClientError: ReturnType<typeof clientErrorListener>;
  /** Methods whose body the handler reads (uploads); `undefined`: none. */
  readonly writes: ReadonlySet<string> | undefined;
  /** Every server made is added here (for the graceful close and a retry's discard). */
  readonly servers: Closable[];
  /** Where an error after startup is reported. */
  readonly report: (line: string) => void;
  /** Counts connections when metrics are on. */
  readonly metrics: ServerMetrics | undefined;
}

/** Makes one listening server per call: plain HTTP/1.1, or HTTP/2 and HTTP/1.1 over TLS (secure.ts). */
function serverFactory(o: ServerFactoryOptions): () => NetServer {
  const {
    tls,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout,
    sendTimeout,
    maxHeaderSize,
    maxConnections,
    onRequest,
    observe,
    onClientError,
    servers,
    writes,
    metrics,
  } = o;
  const sends = sendWatch(sendTimeout);
  // How often timeouts are checked; Node's 30 s default lets a slowloris linger.
  const connectionsCheckingInterval = headersTimeout > 0 ? Math.min(1000, Math.max(50, headersTimeout / 2)) : 1000;
  return () => {
    let server: NetServer;
    if (tls === undefined) {
      const plain = createServer(
        {
          insecureHTTPParser: false,
          headersTimeout,
          // With uploads on, kept per body by requestListener (body-deadline.ts).
          requestTimeout: writes === undefined ? requestTimeout : 0,
          keepAliveTimeout,
          connectionsCheckingInterval,
          maxHeaderSize,
          // A missing Host is refused by checkRequestHead (request-head.ts), as over TLS.
          requireHostHeader: false,
        },
        onRequest,
      );
      // With uploads on, a write's `Expect: 100-continue` is answered when the handler
      // reads the body (adapters/node.ts), so a 413 or 409 goes out before the bytes;
      // without uploads Node's own automatic 100 stays (nothing here is on that path).
      if (writes !== undefined) {
        plain.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
          if (writes.has(req.method ?? "")) deferContinue(req, res);
          else res.writeContinue();
          onRequest(req, res);
        });
      }
      plain.on("clientError", onClientError);
      plain.on("connection", sends.watch);
      if (metrics !== undefined) plain.on("connection", (socket: Socket) => metrics.connection(socket, "http/1.1"));
      servers.push(plain);
      server = plain;
    } else {
      const transport = secureTransport({
        credentials: tls.credentials,
        headersTimeout,
        requestTimeout,
        writes,
        keepAliveTimeout,
        connectionsCheckingInterval,
        maxHeaderSize,
        sendTimeout,
        onClientError,
        ...(metrics === undefined
          ? {}
          : { onSecure: (socket: TLSSocket) => metrics.connection(socket, socket.alpnProtocol === "h2" ? "h2" : "http/1.1") }),
        // An HTTP/2 header list past maxHeaderSize, refused by the transport: logged like any answer.
        onRefused: (req, res) => {
          observe(req, res);
          refuseHeadersTooLarge(req, res);
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
      if (server.listening) o.report(`wharf: ${err.message}`);
    });
    return server;
  };
}

/**
 * Binds `port`; when it was not asked for (`fixed` false) and something else has
 * it, the next free one (saying so, in `movedFrom`), as dev servers do. A port
 * asked for is that port or an error.
 */
async function bindFirstFree(
  make: () => NetServer,
  discard: () => Promise<void>,
  host: string | undefined,
  port: number,
  fixed: boolean,
  reusePort: boolean,
): Promise<{ addresses: BoundAddress[]; movedFrom: number | undefined }> {
  for (let candidate = port; ; candidate++) {
    try {
      const addresses = await bind(make, discard, host, candidate, reusePort);
      return { addresses, movedFrom: candidate !== port ? port : undefined };
    } catch (err) {
      await discard();
      if (fixed || codeOf(err) !== "EADDRINUSE" || candidate >= port + PORT_TRIES - 1) throw err;
    }
  }
}
