/**
 * The command line, as a table: each flag once, with its help and default, so
 * that parsing and `--help` can never disagree. Python's `http.server` flags
 * (`[port]`, `-b`, `-d`) mean what they mean there.
 */

import { availableParallelism } from "node:os";
import { closest } from "../core/suggest.js";
import { type CacheRule, parseCacheRule } from "../http/cache-policy.js";
import { corsPolicy } from "../features/cors.js";
import { parseHeaderFlag } from "../features/headers.js";
import { type LogFormat, LOG_FORMATS } from "../server/log.js";

/** What the command line asks the server to do. */
export interface CliOptions {
  readonly port: number;
  /** `undefined`: every interface, IPv6 and IPv4. */
  readonly host: string | undefined;
  /** As given, relative to the working directory. */
  readonly directory: string;
  /**
   * How the directory was named: `-d DIR`, a positional `DIR` (how serve, sirv and
   * http-server take it), or not at all. A positional one that does not exist gets
   * a message that also says what a port looks like.
   */
  readonly directoryFrom: "flag" | "positional" | "default";
  /**
   * Python's `-p/--protocol`: `HTTP/1.0` closes every connection after its
   * response, as Python's default handler does; `HTTP/1.1` keeps connections alive.
   */
  readonly protocol: "HTTP/1.0" | "HTTP/1.1";
  readonly quiet: boolean;
  readonly dotfiles: boolean;
  readonly followSymlinks: boolean;
  readonly listing: boolean;
  /** --readme: README.md rendered below a listing. */
  readonly readme: boolean;
  /** Processes sharing the port; 1 serves from this process. */
  readonly workers: number;
  readonly compression: boolean;
  /** `--cache GLOB=VALUE` rules, in order. */
  readonly cache: readonly CacheRule[];
  /** `--tls`: HTTPS with the development certificate (unless `tlsCert` is given). */
  readonly tls: boolean;
  /** Python 3.14's `--tls-cert`, `--tls-key`, `--tls-password-file`. */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly tlsPasswordFile: string | undefined;
  /** The flags for serving apps (docs/features.md); absent when none was given. */
  readonly app?: CliApp;
  /** Limits and timeouts given on the command line; absent ones keep serve()'s defaults. */
  readonly limits?: CliLimits;
}

/** The limit flags, in {@link import("../server/listen.js").ServeOptions}' units: bytes, counts, ms. */
export interface CliLimits {
  readonly maxHeaderSize?: number;
  readonly maxUrlLength?: number;
  readonly maxConnections?: number;
  readonly maxRanges?: number;
  readonly headersTimeout?: number;
  readonly requestTimeout?: number;
  readonly keepAliveTimeout?: number;
  readonly sendTimeout?: number;
  readonly shutdownTimeout?: number;
}

/** `-s`, `--cors`, `-H`, `--auth`, `-c`, `-o`, `--log-format`...: each absent unless given. */
export interface CliApp {
  /** `-s` alone: `true` (index.html). */
  readonly single?: string | true;
  readonly cleanUrls?: true;
  readonly trailingSlash?: "always" | "never";
  /** `--cors` alone: `"*"`. */
  readonly cors?: "*" | readonly string[];
  readonly headers?: readonly { readonly name: string; readonly value: string }[];
  readonly coopCoep?: true;
  readonly notFound?: string;
  readonly auth?: readonly string[];
  readonly authFile?: string;
  readonly insecureAuth?: true;
  readonly config?: string;
  readonly open?: true;
  readonly logFormat?: LogFormat;
}

export type CommandLine =
  | { readonly kind: "run"; readonly options: CliOptions }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "error"; readonly message: string };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/**
 * Applies a flag; returns a message when the value is not acceptable. `written` is
 * `"="` when the value was written as `--flag=value` (so `--single=` is an empty
 * value, not an absent one).
 */
type Setter = (o: Mutable<CliOptions>, value: string, written?: "=") => string | undefined;

interface Flag {
  readonly long: string;
  readonly short?: string;
  /** The placeholder in help; a flag with one takes a value. */
  readonly value?: string;
  /**
   * The value may be left out (`-s`, `-s app.html`). Written with `=` it is always
   * the value; written as the next argument, only when this accepts it, so that
   * `wharf -s 8080` serves an SPA on port 8080 rather than falling back to a file
   * named "8080" (argparse's `nargs="?"` would take it).
   */
  readonly optional?: (next: string) => boolean;
  readonly help: string;
  readonly default?: string;
  readonly set: Setter | "help" | "version";
}

export const DEFAULT_PORT = 8000;

/** A whole-number limit from `min` to `max`. */
function count(flag: string, key: keyof CliLimits, min: number, max: number): Setter {
  return (o, v) => {
    if (!/^\d{1,8}$/.test(v) || Number(v) < min || Number(v) > max) return `invalid --${flag} '${v}': must be a whole number from ${min} to ${max}`;
    o.limits = { ...o.limits, [key]: Number(v) };
    return undefined;
  };
}

/** A timeout in seconds (`10`, `2.5`), kept in ms. */
function seconds(flag: string, key: keyof CliLimits): Setter {
  return (o, v) => {
    if (!/^\d{1,6}(?:\.\d{1,3})?$/.test(v)) return `invalid --${flag} '${v}': must be seconds, like 10 or 2.5`;
    o.limits = { ...o.limits, [key]: Math.round(Number(v) * 1000) };
    return undefined;
  };
}

/** A bare host name or address with a dot (`example.com`, `localhost:3000`): not a path a person means. */
const HOSTISH = /^(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d{1,5})?$|^localhost:\d{1,5}$/i;

function setProtocol(o: Mutable<CliOptions>, flag: string, v: string): string | undefined {
  const version = v.toUpperCase();
  if (version !== "HTTP/1.0" && version !== "HTTP/1.1") return `invalid ${flag} '${v}': must be HTTP/1.0 or HTTP/1.1`;
  o.protocol = version;
  return undefined;
}

/**
 * Flags of other static servers that wharf spells differently, with what to type
 * instead. Unambiguous ones (`-p 8080`, `--port`, `-l 3000`, `--dir`) are simply
 * accepted; these would mean something else here, or nothing.
 */
const HABITS: Readonly<Record<string, string>> = {
  "-a": "-b ADDR (http-server's -a)",
  "--address": "-b/--bind ADDR",
  "--host": "-b/--bind ADDR",
  "-S": "--tls (http-server's -S)",
  "--ssl": "--tls",
  "-C": "--tls-cert FILE",
  "--cert": "--tls-cert FILE",
  "-K": "--tls-key FILE",
  "--key": "--tls-key FILE",
  "--spa": "-s/--single",
  "--silent": "-q/--quiet",
  "-g": "nothing: precompressed .gz/.br sidecars are served by default (wharf precompress DIR writes them)",
  "--gzip": "nothing: responses are compressed by default (--no-compression to turn it off)",
  "--brotli": "nothing: responses are compressed by default (--no-compression to turn it off)",
};

/** The message for a flag wharf does not know, with what was probably meant. */
function unknownFlag(shown: string): string {
  const habit = HABITS[shown];
  if (habit !== undefined) return `unknown option '${shown}'; wharf uses ${habit}`;
  if (shown.startsWith("--")) {
    const near = closest(shown.slice(2), FLAGS.map((f) => f.long));
    if (near !== undefined) return `unknown option '${shown}'; did you mean --${near}?`;
  }
  return `unknown option '${shown}'`;
}

/**
 * The long flag `name` means: its exact name, or, as argparse allows, a prefix
 * that only one flag has (`--dir` for `--directory`). Python users type those.
 */
function longFlag(name: string): { flag: Flag } | { error: string } {
  const exact = FLAGS.find((f) => f.long === name);
  if (exact !== undefined) return { flag: exact };
  const candidates = name === "" ? [] : FLAGS.filter((f) => f.long.startsWith(name));
  if (candidates.length === 1) return { flag: candidates[0]! };
  if (candidates.length > 1) return { error: `ambiguous option '--${name}': could be ${candidates.map((f) => `--${f.long}`).join(", ")}` };
  return { error: unknownFlag(`--${name}`) };
}

/** Sets the port from a flag (`-p`, `--port`, `-l`) as the positional one would. */
function setPort(o: Mutable<CliOptions>, flag: string, v: string): string | undefined {
  const port = parsePort(v);
  if (port === undefined) return `invalid ${flag} '${v}': must be a whole number from 0 to 65535`;
  o.port = port;
  return undefined;
}

export const FLAGS: readonly Flag[] = [
  { long: "bind", short: "b", value: "ADDR", default: "all interfaces, IPv6 and IPv4",
    help: "address to listen on (localhost: 127.0.0.1 and ::1)",
    set: (o, v) => { o.host = v; return undefined; } },
  { long: "directory", short: "d", value: "DIR", default: "the current directory",
    help: "directory to serve (also: wharf DIR)",
    set: (o, v) => {
      if (o.directoryFrom === "positional") return `two directories: '${o.directory}' and -d '${v}'`;
      o.directory = v;
      o.directoryFrom = "flag";
      return undefined;
    } },
  { long: "quiet", short: "q", default: "log every request to stderr",
    help: "no access log", set: (o) => { o.quiet = true; return undefined; } },
  { long: "port", short: "p", value: "PORT", default: "8000, the next free one if busy",
    help: "the port, as [port] (-p HTTP/1.x: --protocol)",
    set: (o, v) => {
      // `-p` is http-server's port flag and Python's --protocol: a version is Python's.
      if (/^HTTP\//i.test(v)) return setProtocol(o, "-p", v);
      return setPort(o, "--port", v);
    } },
  { long: "protocol", value: "HTTP/1.x", default: "HTTP/1.1",
    help: "HTTP/1.0: close after each response (Python's -p)",
    set: (o, v) => setProtocol(o, "--protocol", v) },
  { long: "listen", short: "l", value: "[HOST:]PORT", help: "serve's -l: a port, or host:port (tcp:// optional)",
    set: (o, v) => {
      const m = /^(?:tcp:\/\/)?(?:(\[[^\]]+\]|[^:/\[\]]+):)?(\d{1,5})$/i.exec(v);
      if (m === null) {
        return `invalid --listen '${v}': wharf takes a port or HOST:PORT; for other addresses use -b ADDR and the port`;
      }
      if (m[1] !== undefined) o.host = m[1];
      return setPort(o, "--listen", m[2]!);
    } },
  { long: "dotfiles", default: "hidden, they answer 404",
    help: "serve dotfiles and dot-directories (.env, .git/)", set: (o) => { o.dotfiles = true; return undefined; } },
  { long: "follow-symlinks", default: "refused, they answer 404",
    help: "serve symlinks that lead out of the directory", set: (o) => { o.followSymlinks = true; return undefined; } },
  { long: "no-listing", default: "an HTML listing",
    help: "directories without index.html answer 404", set: (o) => { o.listing = false; return undefined; } },
  { long: "readme", default: "not shown",
    help: "show a directory's README.md below its listing", set: (o) => { o.readme = true; return undefined; } },
  { long: "workers", short: "w", value: "N", default: "1",
    help: "processes sharing the port; auto = one per CPU core",
    set: (o, v) => {
      const n = v === "auto" ? availableParallelism() : /^\d{1,4}$/.test(v) ? Number(v) : 0;
      if (n < 1 || n > 1024) return `invalid --workers '${v}': must be 'auto' or a whole number from 1 to 1024`;
      o.workers = n;
      return undefined;
    } },
  { long: "no-compression", default: "br/zstd/gzip as the client accepts",
    help: "never compress responses (sidecars included)",
    set: (o) => { o.compression = false; return undefined; } },
  { long: "cache", value: "GLOB=VALUE", default: "revalidate; fingerprinted names a year",
    help: "Cache-Control by glob, seconds or value (repeatable)",
    set: (o, v) => {
      const rule = parseCacheRule(v);
      if (rule === undefined) return `invalid --cache '${v}': expected GLOB=SECONDS or GLOB=VALUE, e.g. '*.png=3600'`;
      o.cache = [...o.cache, rule];
      return undefined;
    } },
  { long: "tls", default: "plain HTTP",
    help: "HTTPS and HTTP/2, certificate made for this machine",
    set: (o) => { o.tls = true; return undefined; } },
  { long: "tls-cert", value: "FILE", help: "HTTPS and HTTP/2 with this certificate chain (PEM)",
    set: (o, v) => { o.tlsCert = v; return undefined; } },
  { long: "tls-key", value: "FILE", default: "read from the --tls-cert file",
    help: "the certificate's private key (PEM)", set: (o, v) => { o.tlsKey = v; return undefined; } },
  { long: "tls-password-file", value: "FILE", help: "file holding the private key's password",
    set: (o, v) => { o.tlsPasswordFile = v; return undefined; } },
  { long: "single", short: "s", value: "[FILE]", optional: (v) => !/^\d+$/.test(v) && /\.html?$/i.test(v), default: "off; FILE: index.html",
    help: "SPA: HTML navigations to unknown paths get FILE",
    set: (o, v, written) => {
      if (v === "" && written === "=") return "invalid --single=: name a file (--single=app.html), or give -s alone for index.html";
      o.app = { ...o.app, single: v === "" ? true : v };
      return undefined;
    } },
  { long: "clean-urls", help: "/about serves about.html; .html redirects away",
    set: (o) => { o.app = { ...o.app, cleanUrls: true }; return undefined; } },
  { long: "trailing-slash", value: "always|never", help: "one spelling for every URL (301)",
    set: (o, v) => {
      if (v !== "always" && v !== "never") return `invalid --trailing-slash '${v}': must be 'always' or 'never'`;
      o.app = { ...o.app, trailingSlash: v };
      return undefined;
    } },
  // The value is taken when it is an origin, or looks like a host name that lacks
  // one (`--cors example.com`): that one is an error, not a directory to serve.
  { long: "cors", value: "[ORIGINS]", optional: (v) => v === "*" || /^(null|[a-z][a-z0-9+.-]*:\/\/)/i.test(v) || HOSTISH.test(v),
    help: "CORS for any origin, or for these (comma-separated)",
    set: (o, v) => {
      const origins = v === "" || v === "*" ? "*" : v.split(",").map((x) => x.trim()).filter((x) => x !== "");
      const bare = origins === "*" ? undefined : origins.find((x) => x !== "null" && !x.includes("://"));
      if (bare !== undefined) return `invalid --cors '${v}': an origin has a scheme, like https://${bare}`;
      try {
        corsPolicy(origins);
      } catch (e) {
        return `invalid --cors '${v}': ${(e as Error).message.replace(/^wharf: option "cors" /, "")}`;
      }
      o.app = { ...o.app, cors: origins };
      return undefined;
    } },
  { long: "header", short: "H", value: "'NAME: VALUE'", help: "add a response header (repeatable)",
    set: (o, v) => {
      const header = parseHeaderFlag(v);
      if (header === undefined) return `invalid --header '${v}': expected 'Name: value' with a valid name and no line breaks`;
      o.app = { ...o.app, headers: [...(o.app?.headers ?? []), header] };
      return undefined;
    } },
  { long: "coop-coep", help: "cross-origin isolation (SharedArrayBuffer)",
    set: (o) => { o.app = { ...o.app, coopCoep: true }; return undefined; } },
  { long: "404", value: "FILE", default: "404.html if present", help: "page sent with status 404",
    set: (o, v) => { o.app = { ...o.app, notFound: v }; return undefined; } },
  { long: "auth", value: "USER:PASSWORD", help: "HTTP Basic authentication (repeatable)",
    set: (o, v) => {
      if (v.indexOf(":") <= 0) return `invalid --auth '${v.replace(/:.*/, ":...")}': expected USER:PASSWORD`;
      o.app = { ...o.app, auth: [...(o.app?.auth ?? []), v] };
      return undefined;
    } },
  { long: "auth-file", value: "FILE", help: "htpasswd file (bcrypt, apr1 or SHA)",
    set: (o, v) => { o.app = { ...o.app, authFile: v }; return undefined; } },
  { long: "insecure-auth", help: "allow auth without TLS beyond localhost",
    set: (o) => { o.app = { ...o.app, insecureAuth: true }; return undefined; } },
  { long: "config", short: "c", value: "FILE", default: "wharf.json, else DIR/serve.json",
    help: "configuration file", set: (o, v) => { o.app = { ...o.app, config: v }; return undefined; } },
  { long: "open", short: "o", help: "open the browser once serving",
    set: (o) => { o.app = { ...o.app, open: true }; return undefined; } },
  { long: "log-format", value: "FORMAT", default: "default, wharf's own line",
    help: `access log: ${LOG_FORMATS.join(", ")}`,
    set: (o, v) => {
      if (!(LOG_FORMATS as readonly string[]).includes(v)) return `invalid --log-format '${v}': must be one of ${LOG_FORMATS.join(", ")}`;
      o.app = { ...o.app, logFormat: v as LogFormat };
      return undefined;
    } },
  { long: "max-header-size", value: "BYTES", default: "16384", help: "larger request heads answer 431",
    set: count("max-header-size", "maxHeaderSize", 1024, 16_777_216) },
  { long: "max-url-length", value: "BYTES", default: "8192", help: "longer request targets answer 414",
    set: count("max-url-length", "maxUrlLength", 1, 16_777_216) },
  { long: "max-connections", value: "N", default: "10000", help: "connections at once, per process; 0: no limit",
    set: count("max-connections", "maxConnections", 0, 10_000_000) },
  { long: "max-ranges", value: "N", default: "100", help: "more ranges in one request get the whole file",
    set: count("max-ranges", "maxRanges", 0, 10_000) },
  { long: "headers-timeout", value: "SECONDS", default: "10", help: "time to send the request head (slowloris)",
    set: seconds("headers-timeout", "headersTimeout") },
  { long: "request-timeout", value: "SECONDS", default: "30", help: "time to send the whole request",
    set: seconds("request-timeout", "requestTimeout") },
  { long: "send-timeout", value: "SECONDS", default: "30", help: "a client that takes nothing for this long is cut",
    set: seconds("send-timeout", "sendTimeout") },
  { long: "keep-alive-timeout", value: "SECONDS", default: "5", help: "idle connections are closed after this",
    set: seconds("keep-alive-timeout", "keepAliveTimeout") },
  { long: "shutdown-timeout", value: "SECONDS", default: "10", help: "on a signal, time for responses to finish",
    set: seconds("shutdown-timeout", "shutdownTimeout") },
  { long: "help", short: "h", help: "show this help and exit", set: "help" },
  { long: "version", short: "V", help: "show the version and exit", set: "version" },
];

const EXAMPLES: readonly (readonly [string, string])[] = [
  ["wharf", "serve the current directory on port 8000"],
  ["wharf 3000 -d public", "serve ./public on port 3000"],
  ["wharf dist", "serve ./dist (a number would be the port)"],
  ["wharf 0 -b localhost", "this machine only, on any free port"],
  ["wharf -q -b 0.0.0.0", "IPv4 only, no access log"],
  ["wharf --workers auto", "one process per CPU core on one port"],
  ["wharf --cache '*.png=3600'", "images cached for an hour"],
  ["wharf --tls", "https:// and HTTP/2, certificate made for you"],
  ["wharf -s dist", "a single-page app: deep links get index.html"],
  ["wharf --cors -H 'X-A: 1'", "CORS for any origin, and a header"],
  ["wharf precompress dist", "write .br/.gz beside files, then serve them"],
];

// Why `curl localhost:8000/deep/link` gets 404 under -s: said in --help, since it
// is the first thing a user tries (features/spa.ts has the rule).
const SPA_NOTE: readonly string[] = [
  "single-page apps (-s):",
  "  The fallback answers HTML navigations only: requests whose Accept takes",
  "  text/html, as a browser's page loads do. curl sends Accept: */*, so",
  "  `curl http://localhost:8000/deep/link` gets 404; add -H 'Accept: text/html'",
  "  to see the page. Missing scripts, images and fetch() calls also keep their",
  "  404 instead of getting index.html (as serve -s does for every path), so they",
  "  fail with a clear 404, not a page parsed as JavaScript or JSON.",
];

function flagName(f: Flag): string {
  return f.short === undefined ? `--${f.long}` : `-${f.short}/--${f.long}`;
}

/** The `--help` text, generated from {@link FLAGS}. */
export function helpText(): string {
  const usage = FLAGS.map((f) => `[${f.short === undefined ? `--${f.long}` : `-${f.short}`}${f.value ? ` ${f.value}` : ""}]`);
  const column = (left: string, right: string): string => `  ${left.padEnd(23)}  ${right}`;
  // Wrapped like argparse's: continuation lines line up after `usage: wharf `.
  const usageLines = [...usage, "[port]", "[DIR]"].reduce<string[]>((acc, word) => {
    const last = acc[acc.length - 1]!;
    if (last.length + 1 + word.length <= 80) acc[acc.length - 1] = `${last} ${word}`;
    else acc.push(`${" ".repeat("usage: wharf".length)} ${word}`);
    return acc;
  }, ["usage: wharf"]);
  const lines = [
    ...usageLines,
    "",
    "Serve a directory over HTTP, or HTTPS and HTTP/2.",
    "",
    "positional arguments:",
    column("port", `port to listen on; 0 picks a free one (default: ${DEFAULT_PORT})`),
    column("DIR", "directory to serve, as -d DIR (default: .)"),
    "",
    "options:",
    ...FLAGS.map((f) => {
      const names = `${f.short === undefined ? "    " : `-${f.short}, `}--${f.long}${f.value ? ` ${f.value}` : ""}`;
      if (f.default === undefined) return column(names, f.help);
      const line = column(names, `${f.help} (default: ${f.default})`);
      // Keep to 80 columns: a long default goes on a line of its own.
      return line.length <= 80 ? line : `${column(names, f.help)}\n${column("", `(default: ${f.default})`)}`;
    }),
    "",
    "examples:",
    ...EXAMPLES.map(([cmd, what]) => column(cmd, what)),
    "",
    ...SPA_NOTE,
  ];
  return `${lines.join("\n")}\n`;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/**
 * Parses the arguments after `wharf`. Pure: no defaults are read from the
 * environment; the directory stays relative.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  return parse(argv, new Set());
}

/**
 * {@link parseCommandLine}, and the long names of the flags actually written
 * (`"port"` for the positional port), so that a configuration file can fill in
 * only what the command line did not say.
 */
export function parseCommandLineWithSources(argv: readonly string[]): { readonly line: CommandLine; readonly given: ReadonlySet<string> } {
  const given = new Set<string>();
  return { line: parse(argv, given), given };
}

function parse(argv: readonly string[], given: Set<string>): CommandLine {
  const o: Mutable<CliOptions> = {
    port: DEFAULT_PORT, host: undefined, directory: ".", directoryFrom: "default", protocol: "HTTP/1.1",
    quiet: false, dotfiles: false, followSymlinks: false, listing: true, readme: false, workers: 1,
    compression: true, cache: [],
    tls: false, tlsCert: undefined, tlsKey: undefined, tlsPasswordFile: undefined,
  };
  let portSeen = false;
  let onlyPositionals = false;

  // Returns the outcome when parsing must stop here, else undefined.
  const apply = (flag: Flag, shown: string, value: string | undefined, written?: "="): CommandLine | undefined => {
    if (flag.set === "help" || flag.set === "version") return { kind: flag.set };
    given.add(flag.long);
    if (flag.value !== undefined && flag.optional === undefined && (value === undefined || value === "")) {
      return { kind: "error", message: `option ${flagName(flag)} needs a value: ${shown} ${flag.value}` };
    }
    const problem = flag.set(o, value ?? "", written);
    if (problem === undefined && (flag.long === "port" || flag.long === "listen") && value !== undefined && !/^HTTP\//i.test(value)) {
      // `-p 8080` is the port: the positional one may not name another.
      if (portSeen) return { kind: "error", message: `two ports: ${shown} ${value} and the one given before` };
      portSeen = true;
      given.add("port");
    }
    return typeof problem === "string" ? { kind: "error", message: problem } : undefined;
  };

  let i = 0;
  // The next argument as a flag's value, unless it is a flag itself (`-b -q`): like
  // argparse, say that the value is missing rather than bind to "-q".
  const next = (): string | undefined => {
    const value = argv[i + 1];
    if (value === undefined || (value.startsWith("-") && value !== "-")) return undefined;
    i++;
    return value;
  };
  // For a flag whose value is optional: the next argument only if the flag accepts it.
  const nextFor = (flag: Flag): string | undefined => {
    const value = argv[i + 1];
    if (flag.optional === undefined) return next();
    if (value === undefined || value.startsWith("-") || !flag.optional(value)) return undefined;
    i++;
    return value;
  };

  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    // `-1` is a bad port, not an unknown flag; say so.
    if (onlyPositionals || arg === "-" || !arg.startsWith("-") || /^-\d+$/.test(arg)) {
      // A number is the port, as in Python; anything else is the directory, as
      // serve, sirv and http-server take it (`wharf dist`, `wharf .`).
      if (arg === "" || /^[-+]?\d[\d.]*$/.test(arg)) {
        if (portSeen) return { kind: "error", message: `unexpected argument '${arg}' (the port is already ${o.port})` };
        const port = parsePort(arg);
        if (port === undefined) return { kind: "error", message: `invalid port '${arg}': must be a whole number from 0 to 65535` };
        o.port = port;
        portSeen = true;
        given.add("port");
      } else {
        if (o.directoryFrom !== "default") return { kind: "error", message: `unexpected argument '${arg}' (the directory is already '${o.directory}')` };
        o.directory = arg;
        o.directoryFrom = "positional";
        given.add("directory");
      }
    } else if (arg === "--") {
      onlyPositionals = true;
    } else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const found = longFlag(eq === -1 ? arg.slice(2) : arg.slice(2, eq));
      if ("error" in found) return { kind: "error", message: found.error };
      const { flag } = found;
      const name = flag.long;
      if (flag.value === undefined && eq !== -1) return { kind: "error", message: `option --${name} takes no value` };
      const value = flag.value === undefined ? undefined : eq !== -1 ? arg.slice(eq + 1) : nextFor(flag);
      const stop = apply(flag, `--${name}`, value, eq !== -1 ? "=" : undefined);
      if (stop) return stop;
    } else {
      // A group of short flags, like `-qb ::1` or `-b::1`: a flag that takes a value
      // takes the rest of the group, or else the next argument.
      for (let j = 1; j < arg.length; j++) {
        const flag = FLAGS.find((f) => f.short === arg[j]);
        if (flag === undefined) return { kind: "error", message: unknownFlag(`-${arg[j]}`) };
        if (flag.value === undefined) {
          const stop = apply(flag, `-${arg[j]}`, undefined);
          if (stop) return stop;
          continue;
        }
        const stop = apply(flag, `-${arg[j]}`, j + 1 < arg.length ? arg.slice(j + 1) : nextFor(flag));
        if (stop) return stop;
        break;
      }
    }
  }
  // As Python 3.14's http.server says it.
  for (const [flag, given] of [["--tls-key", o.tlsKey], ["--tls-password-file", o.tlsPasswordFile]] as const) {
    if (given !== undefined && o.tlsCert === undefined) return { kind: "error", message: `${flag} requires --tls-cert to be set` };
  }
  return { kind: "run", options: o };
}
