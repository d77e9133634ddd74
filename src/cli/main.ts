/**
 * `wharf`: parse the command line, hand over to {@link serve}, and turn every
 * failure a person can cause into one line on stderr. Exit codes: 0 done,
 * 1 runtime error (port in use, missing directory), 2 usage error.
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { optionSpec } from "../config/registry.js";
import { ConfigError } from "../config/types.js";
import { humanSize } from "../core/text.js";
import { DEFAULT_UPLOAD_MAX_SIZE } from "../features/upload/rules.js";
import { OptionError } from "../handler/options.js";
import { metricsAddress } from "../server/metrics.js";
import { type RunningServer, type ServeOptions, serve } from "../server/serve.js";
import { delays, onShutdownSignals } from "../server/shutdown.js";
import type { TlsCredentials } from "../tls/credentials.js";
import { PACKAGE_NAME } from "./about.js";
import { helpText, parseCommandLine } from "./flags.js";
import { healthcheckCommand } from "./healthcheck.js";
import { type Opener, systemOpener } from "./open.js";
import { precompressCommand } from "./precompress.js";
import { settle } from "./settings.js";
import { expiryLines, qrLines, shareArgs, shareLines, uploadAudience } from "./share.js";
import { type CliTls, cliTls } from "./tls.js";
import { whyCommand } from "./why.js";
import { isWorker, runPrimary, runWorker } from "./workers.js";

/** Where {@link main} writes; both default to the process's streams. */
export interface CliIO {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** `-o/--open`; tests pass one that only records the URL. */
  readonly open?: Opener;
  /** PORT, WHARF_*; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

const SHUTDOWN_TIMEOUT = optionSpec("shutdownTimeout").default as number;

/** The version in our package.json: next to dist/ when installed, one level further up when run from build/. */
function version(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === "string") return pkg.version;
    } catch {
      // Not there; try the next place.
    }
  }
  return "unknown";
}

function hostPort(address: string, port: number): string {
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/** The lines printed once the server listens: every URL and every socket, then `extra` (TLS). */
export function startupLines(root: string, server: Pick<RunningServer, "urls" | "addresses">, extra: readonly string[] = []): string[] {
  const [first = "", ...others] = server.urls;
  const bound = server.addresses.map((a) => hostPort(a.address, a.port)).join(" and ");
  const stack = server.addresses.some((a) => a.address === "::")
    ? ", IPv6 and IPv4"
    : server.addresses.some((a) => a.address === "0.0.0.0")
      ? ", IPv4 only"
      : "";
  return [
    `Serving ${root} at ${first} (bound to ${bound}${stack})`,
    ...others.map((url) => `  also at ${url}`),
    ...extra,
    "Press Ctrl+C to stop.",
  ];
}

/** The banner's line naming the features on (`spa, cors, compression`). */
function featureLines(features: readonly string[]): string[] {
  return features.length === 0 ? [] : [`  features: ${features.join(", ")}`];
}

/** The banner's live-reload line: on, and how much of the tree is followed. */
export function liveLines(live: RunningServer["live"], pollMs: number | undefined): string[] {
  if (live === undefined) return [];
  const n = `${live.directories.toLocaleString("en-US")} director${live.directories === 1 ? "y" : "ies"}`;
  return [
    live.mode === "watch"
      ? `  live reload: on, watching ${n}`
      : `  live reload: on, polling ${n} every ${pollMs !== undefined && pollMs > 0 ? pollMs : 1000} ms`,
  ];
}

/** The banner's lines on uploads: where, and who may write (a warning when anyone may). */
export function uploadLines(o: ServeOptions): string[] {
  const upload = o.upload;
  if (upload === undefined || upload === false) return [];
  const where = upload === true ? "anywhere" : `under ${(typeof upload === "string" ? [upload] : upload).join(", ")}`;
  const max = o.uploadMaxSize === 0 ? "no size limit" : `up to ${humanSize(o.uploadMaxSize ?? DEFAULT_UPLOAD_MAX_SIZE)}`;
  const extras = [o.mkdir === true ? "folders" : "", o.delete === true ? "delete" : ""].filter((x) => x !== "");
  const who =
    o.uploadAuth !== undefined
      ? "writes need an --upload-auth account"
      : o.auth !== undefined || o.authFile !== undefined
        ? "writes need an --auth account"
        : o.uploadAnonymous === true
          ? "anyone who can reach this server may write"
          : "writes from this machine only";
  const lines = [
    `  uploads: ${where}, ${max}, on conflict ${o.onConflict ?? "error"}${extras.length > 0 ? `, ${extras.join(", ")}` : ""}; ${who}`,
  ];
  if (o.uploadAnonymous === true && o.uploadAuth === undefined && o.auth === undefined && o.authFile === undefined) {
    lines.push("  WARNING: --upload-anonymous: anyone on the network can write files here, without a password");
  }
  return lines;
}

/** The banner's line saying where the metrics are. */
function metricsLines(server: Pick<RunningServer, "metricsUrl">): string[] {
  return server.metricsUrl === undefined ? [] : [`  metrics at ${server.metricsUrl}`];
}

/** One line a person can act on, and the exit code, for an error that stopped wharf. */
export function describeError(err: unknown): { message: string; exitCode: 1 | 2 } {
  const message = err instanceof Error ? err.message.replace(/^wharf: /, "") : String(err);
  // The command line only produces valid options, so an OptionError is a usage error
  // in the options themselves (a library caller's), reported the same way.
  if (err instanceof OptionError || err instanceof ConfigError) return { message, exitCode: 2 };
  const coded = typeof (err as { code?: unknown } | null)?.code === "string";
  return { message: coded ? message : `unexpected error: ${message}`, exitCode: 1 };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The page options (`-s FILE`, `--404 FILE`, or the same keys in a configuration
 * file) that name a file the root does not have: caught at start-up, not on the
 * first request that needs it. `-s` alone (index.html) is not checked here: the
 * fallback then simply finds nothing, as with serve.
 */
function missingPage(options: ServeOptions & { readonly root: string }): string | undefined {
  const pages = [
    ["-s/--single", options.single],
    ["--404", options.notFound],
  ] as const;
  for (const [flag, file] of pages) {
    if (typeof file !== "string") continue;
    const path = resolve(options.root, ...file.split("/").filter((s) => s !== ""));
    let ok = false;
    try {
      ok = statSync(path).isFile();
    } catch {
      // missing: reported below
    }
    if (!ok) return `${flag} ${file}: no such file in ${options.root}`;
  }
  return undefined;
}

/**
 * Runs wharf with `argv` (the arguments after the program name). Resolves with the
 * exit code: at once for `--help`, `--version` and errors; when serving, once a
 * signal has shut the server down.
 */
export async function main(argv: readonly string[], io: CliIO = {}): Promise<number> {
  const out = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = io.stderr ?? ((text: string) => void process.stderr.write(text));
  if (argv[0] === "precompress") return precompressCommand(argv.slice(1), out, err);
  if (argv[0] === "why") return whyCommand(argv.slice(1), out, err, io.env ?? process.env);
  if (argv[0] === "healthcheck") return healthcheckCommand(argv.slice(1), { out, err, env: io.env ?? process.env, cwd: process.cwd() });
  // `wharf share [DIR]`: a preset of ordinary flags, which the person's own override.
  const sharing = argv[0] === "share";
  const cli = parseCommandLine(sharing ? shareArgs(argv.slice(1)) : argv);
  switch (cli.kind) {
    case "help":
      out(helpText());
      return 0;
    case "version":
      out(`wharf ${version()}\n`);
      return 0;
    case "error":
      err(`wharf: ${cli.message}\nTry 'wharf --help'.\n`);
      return 2;
  }
  // `wharf dist`: a word that is not a port is a directory; if there is none by that
  // name, the person may have meant a port, so say what a port looks like.
  if (cli.directoryFrom === "positional" && !isDirectory(resolve(cli.options.root!))) {
    err(`wharf: no directory '${cli.options.root}' (a port is a whole number from 0 to 65535)\nTry 'wharf --help'.\n`);
    return 2;
  }
  // The flags, then the environment and the configuration file (src/cli/settings.ts).
  const settled = (tls: TlsCredentials | undefined) => settle(cli.options, tls, io.env ?? process.env, process.cwd());
  if (isWorker) {
    const credentials = cliTls(cli.options, true).then((tls) => tls?.credentials);
    return runWorker(
      credentials.then(async (c) => (await settled(c)).options),
      (e) => ({ option: e instanceof OptionError || e instanceof ConfigError }),
    );
  }
  let tls: CliTls | undefined;
  try {
    tls = await cliTls(cli.options, false);
  } catch (e) {
    err(`wharf: ${describeError(e).message}\n`);
    if (process.env["WHARF_DEBUG"]) err(`${(e as Error)?.stack ?? ""}\n`);
    return 1;
  }
  for (const warning of tls?.warnings ?? []) err(`wharf: warning: ${warning}\n`);
  let settings: Awaited<ReturnType<typeof settled>>;
  try {
    settings = await settled(tls?.credentials);
  } catch (e) {
    const { message, exitCode } = describeError(e);
    err(`wharf: ${message}\n`);
    return exitCode;
  }
  const {
    options,
    config,
    settings: { workers = 1, open, shutdownTimeout = SHUTDOWN_TIMEOUT, shutdownDelay = 0 },
  } = settings;
  const page = missingPage(options);
  if (page !== undefined) {
    err(`wharf: ${page}\n`);
    return 2;
  }
  // One line per serve.json key wharf cannot honour exactly.
  for (const note of config?.notes ?? []) err(`wharf: ${config!.path.replace(/^.*[\\/]/, "")}: ${note}\n`);
  const tlsLines = [...settings.lines, ...(tls?.lines ?? [])];
  // One process makes one secret and one timer: workers would each make their own.
  // Each worker would also watch the tree and name itself differently: a page
  // served by one and listening to another would reload for ever (--live).
  const single = [
    ["--secret-path", options.secretPath === true],
    ["--expire", options.expire !== undefined],
    ["--qr", options.qr === true],
    ["--live", options.live === true],
  ].find(([, on]) => on);
  if (workers > 1 && single !== undefined) {
    err(`wharf: ${single[0]} ${single[0] === "--live" ? "runs in" : "works with"} one process: drop --workers\n`);
    return 2;
  }
  if (workers > 1) {
    return runPrimary({
      workers,
      shutdownTimeout,
      shutdownDelay,
      metrics: options.metrics === undefined ? undefined : metricsAddress(options.metrics),
      ready: (server) => {
        if (server.movedFrom !== undefined) out(`port ${server.movedFrom} is in use; serving on ${server.addresses[0]?.port}\n`);
        const lines = startupLines(options.root, server, [
          ...featureLines(server.features),
          ...uploadLines(options),
          ...tlsLines,
          ...metricsLines(server),
        ]);
        const sharing = server.mode === "reuseport" ? "each with its own socket (SO_REUSEPORT)" : "sharing one socket (cluster)";
        lines.splice(-1, 0, `  ${workers} worker processes, ${sharing}`);
        out(`${lines.join("\n")}\n`);
      },
      failed: (e) => {
        err(`wharf: ${e.message.replace(/^wharf: /, "")}\n`);
        return e.option ? 2 : 1;
      },
      write: (line) => err(`${line}\n`),
    });
  }
  let server: RunningServer;
  try {
    server = await serve(io.stderr === undefined ? options : { log: (line) => err(`${line}\n`), ...options });
  } catch (e) {
    const { message, exitCode } = describeError(e);
    err(`wharf: ${message}\n`);
    if (process.env["WHARF_DEBUG"]) err(`${(e as Error)?.stack ?? ""}\n`);
    return exitCode;
  }
  // The signals are ours before the banner says so: an orchestrator (or a test) may
  // send SIGTERM the moment it reads "Press Ctrl+C", and Node's default would kill
  // the process without the drain or the graceful close.
  const stopped = new Promise<number>((done) => {
    let signalled = false;
    // --expire: the server stops by itself; say so and end as a signal's close would.
    if (server.expiresAt !== undefined) {
      void server.closed.then(() => {
        if (signalled) return;
        stop();
        err("wharf: expired (--expire); stopped\n");
        done(0);
      });
    }
    // SIGTERM (an orchestrator) drains first: readiness 503 for --shutdown-delay; Ctrl+C closes now.
    const stop = onShutdownSignals(
      (signal) => {
        signalled = true;
        return delays(signal) ? server.drain() : server.close();
      },
      {
        shutdownTimeout,
        shutdownDelay,
        inFlight: () => server.inFlight,
        write: (line) => err(`${line}\n`),
        exit: (code) => {
          stop();
          done(code);
        },
      },
    );
  });
  if (server.movedFrom !== undefined) out(`port ${server.movedFrom} is in use; serving on ${server.port}\n`);
  const sharingLines = sharing
    ? shareLines({
        root: options.root,
        host: options.host,
        secretPath: server.secretPath !== undefined,
        auth: server.features.includes("auth"),
        upload: uploadAudience(options),
        expiresAt: server.expiresAt,
      })
    : [];
  const extra = [
    ...featureLines(server.features),
    ...liveLines(server.live, options.livePoll),
    ...uploadLines(options),
    ...tlsLines,
    ...metricsLines(server),
    ...sharingLines,
    ...expiryLines(server.expiresAt),
    ...(options.qr === true ? qrLines(server) : []),
  ];
  out(`${startupLines(options.root, server, extra).join("\n")}\n`);
  if (open === true) (io.open ?? systemOpener)(server.urls[0] ?? "", (line) => err(`wharf: ${line}\n`));
  return stopped;
}
