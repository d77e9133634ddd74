/**
 * `metrics` (`--metrics [ADDR:]PORT`): Prometheus metrics of the server, on a
 * listener of their own (loopback unless an address is given), never on the
 * port that serves files: a scrape must not be reachable by the clients it counts.
 *
 * The exposition is prom-client's (the Node ecosystem's client), loaded only when
 * metrics are on (test/package/deps.test.ts). Every label's values come from a
 * fixed set, so no request can add a series (static-web-server 125; Caddy 7208
 * saw a cardinality attack through the Host label): no host, no path, no user;
 * a method outside RFC 9110's (and PATCH) counts as `OTHER`, a status outside
 * 100-599 as `other`, a coding outside wharf's as `other`.
 *
 * Nothing here runs without metrics: serve() decides once, at startup, whether to
 * add the middleware, the response hook and the counting caches; off, the hot
 * path is what it was (docs/benchmarks.md measures both).
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Server, Socket } from "node:net";
import type * as PromClient from "prom-client";
import type { NodeRequest, NodeResponse } from "../adapters/node.js";
import { OptionError, ServeError } from "../core/errors.js";
import type { Middleware, Reply } from "../core/types.js";
import { isListingReply } from "../responders/listing/resource.js";
import type { HandlerCaches } from "../responders/static.js";
import { type BoundAddress, bind, urlsOf } from "./bind.js";
import type { AccessLogEntry } from "./log.js";

/** Where the metrics listener binds: `host` undefined is both loopbacks. */
export interface MetricsAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * Reads `[ADDR:]PORT` (`9100`, `127.0.0.1:9100`, `[::1]:9100`, `0.0.0.0:9100`),
 * or a port number. Throws {@link OptionError} for anything else.
 */
export function metricsAddress(value: unknown): MetricsAddress {
  const bad = (): OptionError => new OptionError("metrics", "must be a port or ADDR:PORT (127.0.0.1:9100, [::1]:9100)");
  const port = (text: string): number => {
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw bad();
    return Number(text);
  };
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw bad();
    return { host: undefined, port: value };
  }
  if (typeof value !== "string") throw bad();
  const text = value.trim();
  if (/^\d+$/.test(text)) return { host: undefined, port: port(text) };
  const v6 = /^\[([0-9a-fA-F:.%a-zA-Z0-9]+)\]:(\d+)$/.exec(text);
  if (v6 !== null) return { host: v6[1]!, port: port(v6[2]!) };
  const named = /^([^:\s[\]]+):(\d+)$/.exec(text);
  if (named !== null) return { host: named[1]!, port: port(named[2]!) };
  throw bad();
}

/** The methods counted by name (RFC 9110 §9 and PATCH, RFC 5789); any other is `OTHER`. */
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);
/** The codings a response is counted under; anything else a handler set is `other`. */
const CODINGS: ReadonlySet<string> = new Set(["br", "zstd", "gzip"]);

/** What a request was, by its answer. */
export type RequestKind = "file" | "listing" | "redirect" | "not_found" | "error";

/**
 * The kind of a request from its status and whether its reply was a listing's:
 * 404 and 410 are `not_found`, any other 4xx or 5xx (a refused request, a client
 * that closed first: 499) `error`, 3xx but 304 `redirect`; the rest (200, 206,
 * 304, 204 to OPTIONS) `file`, or `listing` for a directory's page.
 */
export function requestKind(status: number, listing: boolean): RequestKind {
  if (status === 404 || status === 410) return "not_found";
  if (status >= 400) return "error";
  if (status >= 300 && status !== 304) return "redirect";
  return listing ? "listing" : "file";
}

/** The `method` label: the method itself when it is one of {@link METHODS}. */
export const methodLabel = (method: string): string => (METHODS.has(method) ? method : "OTHER");
/** The `code` label: the status, or `other` outside 100-599. */
const codeLabel = (status: number): string => (status >= 100 && status <= 599 && Number.isInteger(status) ? String(status) : "other");

/** Request duration buckets, in seconds: from a cached reply (well under 1 ms) to a slow download. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The connection protocols counted. */
export type ConnectionProtocol = "http/1.1" | "h2";

/** A server's metrics: the hooks serve() installs when they are on, and the registry they fill. */
export interface ServerMetrics {
  /** The outermost middleware: notes which responses are listings. */
  readonly middleware: Middleware;
  /** The Node handler, run so that {@link middleware} knows the response it answers. */
  wrap(handler: (req: NodeRequest, res: NodeResponse) => void): (req: NodeRequest, res: NodeResponse) => void;
  /** A request is over (its access-log entry); `res` is absent for one the parser refused. */
  record(entry: AccessLogEntry, res?: NodeResponse): void;
  /** A connection opened; counted until it closes. */
  connection(socket: Socket, protocol: ConnectionProtocol): void;
  /** The handler's caches, read at each scrape. */
  caches(c: HandlerCaches): void;
  /** Where the responses in flight are read, at each scrape. */
  inFlight(read: () => number): void;
  /** The exposition of this process's metrics. */
  readonly registry: PromClient.Registry;
}

/** The version in wharf's package.json (next to dist/, or one level further from build/). */
function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "wharf-server" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // Not there; try the next place.
    }
  }
  return "unknown";
}

/** One sample of a {@link tallied} metric. */
interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * A metric read from wharf's own tallies when scraped, in the shape prom-client's
 * Registry formats and its AggregatorRegistry sums (its `get()` contract).
 */
function tallied(name: string, type: "counter" | "histogram", help: string, samples: () => Sample[]): PromClient.Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum" as const,
    get: async () => ({ name, help, type, aggregator: "sum", values: samples() }),
  };
  return metric as unknown as PromClient.Metric;
}

/** prom-client, loaded on first use: serving without metrics never loads it. */
const loadClient = async (): Promise<typeof PromClient> => import("prom-client");

/** The reply a response was given, noted by the metrics middleware for `record`. */
const REPLY = Symbol("wharf.metricsReply");
interface Noted {
  [REPLY]?: Reply;
}

/**
 * Builds this process's metrics. With `aggregated`, this is a `--workers` worker:
 * the registry answers the primary's requests over the cluster channel
 * (prom-client's AggregatorRegistry), which sums the workers into one scrape.
 */
export async function createMetrics(aggregated = false): Promise<ServerMetrics> {
  const prom = await loadClient();
  const registry = new prom.Registry();
  if (aggregated) {
    prom.AggregatorRegistry.setRegistries([registry]);
    new prom.AggregatorRegistry(); // installs the worker's side of the channel
  }

  // The request series are tallied in plain numbers on the hot path and handed to
  // prom-client only when scraped: prom-client's own inc() and observe() hash their
  // labels on every call, which measured 12 to 17 µs of CPU per request, 27 to 38 %
  // of a cached 1 KiB file (docs/benchmarks.md); these tallies cost a Map update
  // and a bucket search. prom-client still formats, and sums the workers.
  const requestCounts = new Map<string, number>(); // "method code kind" -> count
  const durations = new Map<RequestKind, { readonly buckets: Float64Array; sum: number; count: number }>();
  const codingBytes = new Map<string, number>();
  registry.registerMetric(
    tallied(
      "wharf_http_requests_total",
      "counter",
      "HTTP requests answered, by method, status code and kind (file, listing, redirect, not_found, error).",
      () =>
        [...requestCounts].map(([key, value]) => {
          const [method = "", code = "", kind = ""] = key.split(" ");
          return { labels: { method, code, kind }, value };
        }),
    ),
  );
  registry.registerMetric(
    tallied(
      "wharf_http_request_duration_seconds",
      "histogram",
      "Time from a request's arrival until its response finished or its connection closed, by kind.",
      () =>
        [...durations].flatMap(([kind, d]) => {
          let cumulative = 0;
          return [
            ...DURATION_BUCKETS.map((le, i) => {
              cumulative += d.buckets[i]!;
              return { metricName: "wharf_http_request_duration_seconds_bucket", labels: { le, kind }, value: cumulative };
            }),
            { metricName: "wharf_http_request_duration_seconds_bucket", labels: { le: "+Inf", kind }, value: d.count },
            { metricName: "wharf_http_request_duration_seconds_sum", labels: { kind }, value: d.sum },
            { metricName: "wharf_http_request_duration_seconds_count", labels: { kind }, value: d.count },
          ];
        }),
    ),
  );
  registry.registerMetric(
    tallied(
      "wharf_http_response_bytes_total",
      "counter",
      "Response body bytes written, by content coding (identity, br, zstd, gzip).",
      () => [...codingBytes].map(([coding, value]) => ({ labels: { coding }, value })),
    ),
  );
  let readInFlight = (): number => 0;
  new prom.Gauge({
    name: "wharf_http_requests_in_flight",
    help: "Responses started and not yet finished.",
    registers: [registry],
    collect() {
      this.set(readInFlight());
    },
  });
  const connections = new prom.Gauge({
    name: "wharf_open_connections",
    help: "Client connections open, by protocol (http/1.1, h2).",
    labelNames: ["protocol"] as const,
    registers: [registry],
  });
  let caches: HandlerCaches | undefined;
  new prom.Gauge({
    name: "wharf_cache_bytes",
    help: "Bytes held by wharf's caches: resolved URLs (urls), file bodies (bodies), file metadata (metadata).",
    labelNames: ["cache"] as const,
    registers: [registry],
    collect() {
      if (caches === undefined) return;
      this.set({ cache: "urls" }, caches.resources.bytes);
      this.set({ cache: "bodies" }, caches.contents.bytes);
      this.set({ cache: "metadata" }, caches.contents.metadataBytes);
    },
  });
  // The caches count in plain integers (resources.ts, file-contents.ts); a scrape
  // moves what they counted since the last one into the counters.
  const seen = { urls: { hits: 0, misses: 0 }, files: { hits: 0, misses: 0 } };
  const countOf = (name: "urls" | "files"): { hits: number; misses: number } | undefined =>
    caches === undefined ? undefined : name === "urls" ? caches.resources : caches.contents;
  for (const result of ["hits", "misses"] as const) {
    new prom.Counter({
      name: `wharf_cache_${result}_total`,
      help:
        result === "hits"
          ? "Cache lookups answered from memory: resolved URLs (urls), file tags and bodies (files)."
          : "Cache lookups that had to resolve a URL (urls) or read a file (files).",
      labelNames: ["cache"] as const,
      registers: [registry],
      collect() {
        for (const name of ["urls", "files"] as const) {
          const now = countOf(name)?.[result] ?? 0;
          this.inc({ cache: name }, now - seen[name][result]);
          seen[name][result] = now;
        }
      },
    });
  }
  new prom.Gauge({
    name: "wharf_build_info",
    help: "Always 1; the labels say which wharf and which Node serve.",
    labelNames: ["version", "node"] as const,
    registers: [registry],
    // One process's value, not the workers' sum.
    aggregator: "first",
  }).set({ version: packageVersion(), node: process.versions.node }, 1);

  // The response being handled while the handler runs synchronously, for the
  // middleware: the chain's outermost step runs in that same call (compose.ts),
  // so it can note the reply a response was given before anything is awaited.
  // The reply says what the response alone cannot: whether it is a listing's, and
  // its coding (headers given to writeHead() whole are not readable back).
  // Noted on the response itself, under a symbol of this module, as the access log
  // notes its bytes (adapters/node.ts): a WeakMap entry per response, and a
  // closure to make it, cost about 1.2 µs a request (--cpu-prof, 1 KiB file).
  let current: NodeResponse | undefined;
  const middleware: Middleware = (_req, next) => {
    const res = current as Noted | undefined;
    const reply = next();
    if (res === undefined) return reply;
    if (reply instanceof Promise) return reply.then((r) => (res[REPLY] = r));
    res[REPLY] = reply;
    return reply;
  };

  return {
    registry,
    middleware,
    wrap: (handler) => (req, res) => {
      current = res;
      try {
        handler(req, res);
      } finally {
        current = undefined;
      }
    },
    record(entry, res) {
      const reply = res === undefined ? undefined : (res as Noted)[REPLY];
      const kind = requestKind(entry.status, reply !== undefined && isListingReply(reply));
      const key = `${methodLabel(entry.method)} ${codeLabel(entry.status)} ${kind}`;
      requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
      let d = durations.get(kind);
      if (d === undefined) durations.set(kind, (d = { buckets: new Float64Array(DURATION_BUCKETS.length), sum: 0, count: 0 }));
      const seconds = entry.durationMs / 1000;
      const bucket = DURATION_BUCKETS.findIndex((le) => seconds <= le);
      if (bucket >= 0) d.buckets[bucket]!++;
      d.sum += seconds;
      d.count++;
      if (entry.bytes > 0) {
        const header = reply?.headers["content-encoding"];
        const coding = header === undefined ? "identity" : CODINGS.has(header) ? header : "other";
        codingBytes.set(coding, (codingBytes.get(coding) ?? 0) + entry.bytes);
      }
    },
    connection(socket, protocol) {
      connections.inc({ protocol });
      socket.once("close", () => connections.dec({ protocol }));
    },
    caches(c) {
      caches = c;
    },
    inFlight(read) {
      readInFlight = read;
    },
  };
}

/** The metrics listener, bound. */
export interface MetricsListener {
  /** Its sockets (for the graceful close). */
  readonly servers: readonly (Server & { closeIdleConnections(): void; closeAllConnections(): void })[];
  readonly addresses: readonly BoundAddress[];
  /** `http://ADDR:PORT/metrics`, the first address bound. */
  readonly url: string;
}

/** How long a scrape may take to send its request and get its answer; Prometheus's own timeout is 10 s. */
const SCRAPE_TIMEOUT = 10_000;
/** Scrapers connected at once: a few Prometheus servers and a person with curl. */
const MAX_SCRAPERS = 64;

/**
 * Binds the metrics listener at `at` (both loopbacks when no address is given) and
 * answers `GET`/`HEAD /metrics` with `text()`: 404 elsewhere, 405 for other
 * methods, 503 when the metrics could not be gathered (a worker that did not
 * answer the primary in time).
 */
export async function listenMetrics(text: () => Promise<string>, contentType: string, at: MetricsAddress): Promise<MetricsListener> {
  const servers: (Server & { closeIdleConnections(): void; closeAllConnections(): void })[] = [];
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? "").split("?")[0];
    const plain = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
    if (path !== "/metrics") {
      res.writeHead(404, plain).end("Not found: the metrics are at /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...plain, allow: "GET, HEAD" }).end();
      return;
    }
    text().then(
      (body) => {
        const bytes = Buffer.from(body);
        res.writeHead(200, { "content-type": contentType, "content-length": bytes.length, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : bytes);
      },
      (error: unknown) => {
        res.writeHead(503, plain).end(`metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  };
  const make = (): Server => {
    const server = createServer(
      { headersTimeout: SCRAPE_TIMEOUT, requestTimeout: SCRAPE_TIMEOUT, keepAliveTimeout: 5_000, maxHeaderSize: 8192 },
      answer,
    );
    server.maxConnections = MAX_SCRAPERS;
    servers.push(server);
    return server;
  };
  const discard = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
  };
  const host = at.host?.replace(/^\[(.*)\]$/, "$1") ?? "localhost";
  let addresses: BoundAddress[];
  try {
    addresses = await bind(make, discard, host, at.port);
  } catch (error) {
    await discard();
    // Which listener: `metrics: port 9100 is already in use on 127.0.0.1`.
    if (error instanceof ServeError) throw new ServeError(error.code, `metrics: ${error.message}`, { cause: error });
    throw error;
  }
  return { servers, addresses, url: `${urlsOf(addresses, at.host === undefined ? undefined : host, "http")[0]}metrics` };
}

/**
 * The `--workers` primary's exposition: one scrape, every worker's metrics summed
 * (prom-client's AggregatorRegistry asks each worker over the cluster channel and
 * gives up after 5 s, which the listener answers 503).
 */
export async function workersMetrics(): Promise<{ readonly text: () => Promise<string>; readonly contentType: string }> {
  const prom = await loadClient();
  const aggregator = new prom.AggregatorRegistry();
  return { text: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}
