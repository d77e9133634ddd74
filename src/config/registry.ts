/**
 * Every option wharf takes, declared once: its name, which layer takes it, its
 * default, its command-line spellings with their help lines, its environment
 * variables and its wharf.json key. From this table come the flag parser and
 * `--help` (src/cli/flags.ts), the README's command-line table
 * (src/cli/readme.ts), the environment (./env.ts) and who wins between flags,
 * variables and a configuration file (./merge.ts). What cannot come from it —
 * the JSON Schema's shapes, the TSDoc of StaticOptions and ServeOptions, the
 * defaults resolveOptions() and serve() apply — is checked against it by
 * test/config/registry.test.ts.
 *
 * Every source is a partial {@link Settings}: only what it actually says. The
 * layer that takes an option applies its default, once: resolveOptions() for
 * the handler's, serve() for the server's, the CLI for its own.
 */
import { availableParallelism } from "node:os";
import { corsPolicy } from "../features/cors.js";
import { parseHeaderFlag } from "../features/headers.js";
import { hostEntryProblem } from "../features/live/hosts.js";
import { DEFAULT_UPLOAD_MAX_SIZE, ON_CONFLICT, type OnConflict } from "../features/upload/rules.js";
import { parseCacheRule } from "../http/cache-policy.js";
import { proxyTrust } from "../http/forwarded.js";
import { ARCHIVE_FORMATS } from "../responders/archive/route.js";
import { LOG_FORMATS, type LogFormat } from "../server/log.js";
import { metricsAddress } from "../server/metrics.js";
import type { ServeOptions } from "../server/serve.js";

/** Options only the command line takes (serve() never sees them). */
export interface CliOnly {
  /** Processes sharing the port; 1 serves from this process. */
  readonly workers?: number;
  /** Open the browser once serving. */
  readonly open?: boolean;
  /** The configuration file, relative to the working directory. */
  readonly config?: string;
  /** Python 3.14's `--tls-cert`, `--tls-key`, `--tls-password-file`. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsPasswordFile?: string;
}

/**
 * What a source (the command line, the environment, a configuration file) says,
 * by option name: only what it says. `tls` from the command line is `"dev"`
 * (`--tls`); the CLI turns it into credentials before serve() sees it.
 */
export type Settings = ServeOptions & CliOnly;
export type SettingName = keyof Settings;

/** Which layer takes an option and applies its default. */
export type Layer = "handler" | "serve" | "cli";

/** A value read from text (a flag's or a variable's), or what it must be instead. */
export type Parsed<T> = { readonly value: T } | { readonly problem: string };

/** The state a flag writes to while the command line is parsed. */
export interface ParseState {
  readonly options: { -readonly [K in SettingName]?: Settings[K] };
  /** How the directory was named, for the message when it is not there. */
  directoryFrom?: "flag" | "positional";
}

/**
 * Applies a flag; returns a message when the value is not acceptable. `written` is
 * `"="` when the value was written as `--flag=value` (so `--single=` is an empty
 * value, not an absent one).
 */
export type Setter = (state: ParseState, value: string, written?: "=") => string | undefined;

/** One spelling of an option on the command line. */
export interface FlagSpec {
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
  /** The `--help` line. */
  readonly help: string;
  /** The default as `--help` says it; for a limit, made from the option's default. */
  readonly default?: string;
  /** The README's meaning (Markdown), when it says more than {@link help}. */
  readonly doc?: string;
  /** The README's default column, when it differs from {@link default}. */
  readonly docDefault?: string;
  readonly set: Setter;
}

/** One option. */
export interface OptionSpec {
  readonly name: SettingName;
  readonly layer: Layer;
  /**
   * The value the layer applies when no source sets it (`undefined`: none, or
   * off). For the handler's and serve()'s options the test checks it against
   * their TSDoc `@default`, the schema's `default` and, for the handler, what
   * resolveOptions() applies.
   */
  readonly default?: unknown;
  readonly flags?: readonly FlagSpec[];
  /** Environment variables, the later winning (`PORT`, then `WHARF_PORT`). */
  readonly env?: readonly string[];
  /** Reads a variable's value. */
  readonly parse?: (text: string) => Parsed<unknown>;
  /** A password: never echoed in a message, never trimmed. */
  readonly secret?: true;
  /** A path: relative to the working directory on the command line and in variables. */
  readonly path?: true;
  /** The wharf.json key (the JSON Schema has a property by this name). */
  readonly configKey?: string;
  /**
   * How sources combine; by default the highest one wins (flag > variable > file).
   * Rule lists join instead: `later-wins` puts the higher source's rules after
   * (headers: the later rule wins per name), `first-wins` before (cache: the first
   * match wins).
   */
  readonly combine?: "later-wins" | "first-wins";
}

// ---- values: one reader each, shared by flags and variables -----------------

/** A whole number from `min` to `max`, of at most `digits` digits. */
function whole(min: number, max: number, digits = 8): (text: string) => Parsed<number> {
  return (text) => {
    const n = Number(text);
    const shaped = text.length >= 1 && text.length <= digits && /^\d+$/.test(text);
    return shaped && n >= min && n <= max ? { value: n } : { problem: `must be a whole number from ${min} to ${max}` };
  };
}

const port = whole(0, 65535, 5);

/** Seconds (`10`, `2.5`), kept in milliseconds. */
function seconds(text: string): Parsed<number> {
  if (!/^\d{1,6}(?:\.\d{1,3})?$/.test(text)) return { problem: "must be seconds, like 10 or 2.5" };
  return { value: Math.round(Number(text) * 1000) };
}

function nonEmpty(text: string): Parsed<string> {
  return text === "" ? { problem: "must not be empty" } : { value: text };
}

function explainMode(text: string): Parsed<"auto" | "on" | "off"> {
  return text === "auto" || text === "on" || text === "off" ? { value: text } : { problem: "must be auto, on or off" };
}

function logFormat(text: string): Parsed<LogFormat> {
  return (LOG_FORMATS as readonly string[]).includes(text)
    ? { value: text as LogFormat }
    : { problem: `must be one of ${LOG_FORMATS.join(", ")}` };
}

/** `--trust-proxy`'s comma-separated list, each item checked. */
function trustList(text: string): Parsed<string[]> {
  const items = text
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
  if (items.length === 0) return { problem: "name addresses, CIDR ranges, 'loopback' or 'private'" };
  const got = proxyTrust(items);
  return "problem" in got ? { problem: got.problem } : { value: items };
}

function headerName(text: string): Parsed<string> {
  const got = proxyTrust(["loopback"], text);
  return "problem" in got ? { problem: got.problem } : { value: text.toLowerCase() };
}

/** `[ADDR:]PORT` for the metrics listener, kept as written (serve() reads it). */
function metricsListen(text: string): Parsed<string> {
  try {
    metricsAddress(text);
    return { value: text };
  } catch {
    return { problem: "must be PORT or ADDR:PORT, like 9100 or 0.0.0.0:9100" };
  }
}

function account(text: string): Parsed<string> {
  return text.indexOf(":") > 0 ? { value: text } : { problem: "expected USER:PASSWORD" };
}

function onConflict(text: string): Parsed<OnConflict> {
  return (ON_CONFLICT as readonly string[]).includes(text)
    ? { value: text as OnConflict }
    : { problem: `must be one of ${ON_CONFLICT.join(", ")}` };
}

/** Bytes, with an optional binary suffix: `1048576`, `512K`, `100M`, `2G` (`0`: no limit). */
function byteSize(text: string): Parsed<number> {
  const match = /^(\d{1,15})([KMGT]?)(?:i?B)?$/i.exec(text);
  if (match === null) return { problem: "must be bytes, like 1048576, 100M or 2G" };
  const n = Number(match[1]) * 1024 ** "_KMGT".indexOf(match[2]!.toUpperCase() || "_");
  return Number.isSafeInteger(n) ? { value: n } : { problem: "too large" };
}

function protocol(text: string): Parsed<boolean> {
  const version = text.toUpperCase();
  if (version !== "HTTP/1.0" && version !== "HTTP/1.1") return { problem: "must be HTTP/1.0 or HTTP/1.1" };
  // Python's default handler speaks HTTP/1.0 and closes every connection.
  return { value: version === "HTTP/1.1" };
}

/** The longest timer Node keeps (2^31 - 1 ms, 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration (`90s`, `30m`, `1h`, `1h30m`, `2d`), kept in milliseconds: units
 * from days down to seconds, each once, in that order. A bare number is refused
 * rather than guessed (seconds? minutes?).
 */
export function duration(text: string): Parsed<number> {
  const m = /^(?:(\d{1,5})d)?(?:(\d{1,5})h)?(?:(\d{1,5})m)?(?:(\d{1,7})s)?$/.exec(text);
  const bad = { problem: "must be a duration like 90s, 30m, 1h or 1h30m (d, h, m, s), or never" };
  if (text === "" || m === null) return bad;
  const [d = 0, h = 0, min = 0, sec = 0] = m.slice(1).map((x) => Number(x ?? 0));
  const ms = (((d * 24 + h) * 60 + min) * 60 + sec) * 1000;
  if (ms < 1000) return { problem: "must be at least 1s" };
  if (ms > MAX_TIMER_MS) return { problem: "must be at most 24d" };
  return { value: ms };
}

// ---- setters -----------------------------------------------------------------

/** Sets `name` to what `read` makes of the value; the message names `shown`. */
function store<K extends SettingName>(name: K, shown: string, read: (text: string) => Parsed<Settings[K]>): Setter {
  return (s, v) => {
    const got = read(v);
    if ("problem" in got) return `invalid ${shown} '${v}': ${got.problem}`;
    s.options[name] = got.value;
    return undefined;
  };
}

/** A flag without a value that sets `name` to `value`. */
function toggle<K extends SettingName>(name: K, value: Settings[K]): Setter {
  return (s) => {
    s.options[name] = value;
    return undefined;
  };
}

/** A whole-number limit of serve() with its flag; `--help` shows the default. */
function limit(
  long: string,
  name: SettingName,
  value: string,
  help: string,
  dflt: number,
  min: number,
  max: number,
  doc?: string,
): OptionSpec {
  const flag: FlagSpec = {
    long,
    value,
    default: String(dflt),
    help,
    ...(doc === undefined ? {} : { doc }),
    set: store(name, `--${long}`, whole(min, max)),
  };
  return { name, layer: "serve", default: dflt, flags: [flag] };
}

/** A timeout flag in seconds, kept in ms; `--help` shows the default in seconds. */
function timeout(long: string, name: SettingName, help: string, ms: number, doc?: string): OptionSpec {
  const flag: FlagSpec = {
    long,
    value: "SECONDS",
    default: String(ms / 1000),
    help,
    ...(doc === undefined ? {} : { doc }),
    set: store(name, `--${long}`, seconds),
  };
  return { name, layer: "serve", default: ms, flags: [flag] };
}

/** A bare host name or address with a dot (`example.com`, `localhost:3000`): not a path a person means. */
function hostish(text: string): boolean {
  const colon = text.lastIndexOf(":");
  const host = colon < 0 ? text : text.slice(0, colon);
  if (colon >= 0 && !/^\d{1,5}$/.test(text.slice(colon + 1))) return false;
  if (host.toLowerCase() === "localhost") return colon >= 0;
  const labels = host.split(".");
  // Split by hand, not one regular expression: fuzz/regex-safety allows no nested quantifiers.
  return labels.length >= 2 && labels.every((l) => /^[a-z0-9-]+$/i.test(l)) && /^[a-z]{2,}$/i.test(labels.at(-1) ?? "");
}

/** The default port; serve() moves on to the next free one when it is busy and none was asked for. */
export const DEFAULT_PORT = 8000;

// ---- the table ---------------------------------------------------------------

/**
 * Every option, in `--help` order (Python's own flags first). Options without
 * flags are the library's alone; they are here so that their defaults and
 * documentation are checked too.
 */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "host",
    layer: "serve",
    env: ["WHARF_HOST"],
    parse: nonEmpty,
    configKey: "host",
    flags: [
      {
        long: "bind",
        short: "b",
        value: "ADDR",
        default: "all interfaces, IPv6 and IPv4",
        help: "address to listen on (localhost: 127.0.0.1 and ::1)",
        doc: "address to listen on: `127.0.0.1`, `::1`, `localhost` (both loopbacks), a host name",
        docDefault: "every interface, IPv6 and IPv4 on one socket (`0.0.0.0` where IPv6 is off)",
        set: toggleValue("host"),
      },
    ],
  },
  {
    name: "root",
    layer: "handler",
    env: ["WHARF_DIRECTORY"],
    parse: nonEmpty,
    path: true,
    configKey: "directory",
    flags: [
      {
        long: "directory",
        short: "d",
        value: "DIR",
        default: "the current directory",
        help: "directory to serve (also: wharf DIR)",
        doc: "directory to serve (Python's flag; `--dir` works, as argparse accepts any unambiguous prefix)",
        set: (s, v) => {
          if (s.directoryFrom === "positional") return `two directories: '${s.options.root}' and -d '${v}'`;
          s.options.root = v;
          s.directoryFrom = "flag";
          return undefined;
        },
      },
    ],
  },
  {
    name: "log",
    layer: "serve",
    flags: [
      {
        long: "quiet",
        short: "q",
        default: "log every request to stderr",
        help: "no access log",
        docDefault: "log to stderr",
        set: toggle("log", false),
      },
    ],
  },
  {
    name: "port",
    layer: "serve",
    default: DEFAULT_PORT,
    env: ["PORT", "WHARF_PORT"],
    parse: port,
    configKey: "port",
    flags: [
      {
        long: "port",
        short: "p",
        value: "PORT",
        default: "8000, the next free one if busy",
        help: "the port, as [port] (-p HTTP/1.x: --protocol)",
        doc: "the port, as `[port]` (http-server's `-p`); `-p HTTP/1.0` is Python's `--protocol`",
        docDefault: "`8000`",
        set: (s, v) => {
          // `-p` is http-server's port flag and Python's --protocol: a version is Python's.
          if (/^HTTP\//i.test(v)) return store("keepAlive", "-p", protocol)(s, v);
          return store("port", "--port", port)(s, v);
        },
      },
      {
        long: "listen",
        short: "l",
        value: "[HOST:]PORT",
        help: "serve's -l: a port, or host:port (tcp:// optional)",
        doc: "serve's `-l`: a port, or `host:port` (`tcp://` optional)",
        set: (s, v) => {
          const m = /^(?:tcp:\/\/)?(?:(\[[^\]]+\]|[^:/[\]]+):)?(\d{1,5})$/i.exec(v);
          if (m === null) return `invalid --listen '${v}': wharf takes a port or HOST:PORT; for other addresses use -b ADDR and the port`;
          if (m[1] !== undefined) s.options.host = m[1];
          return store("port", "--listen", port)(s, m[2]!);
        },
      },
    ],
  },
  {
    name: "keepAlive",
    layer: "serve",
    default: true,
    flags: [
      {
        long: "protocol",
        value: "HTTP/1.x",
        default: "HTTP/1.1",
        help: "HTTP/1.0: close after each response (Python's -p)",
        doc: "Python's `-p/--protocol`: `HTTP/1.0` closes each connection after its response",
        docDefault: "`HTTP/1.1` (keep-alive)",
        set: store("keepAlive", "--protocol", protocol),
      },
    ],
  },
  {
    name: "dotfiles",
    layer: "handler",
    default: "ignore",
    configKey: "dotfiles",
    flags: [
      {
        long: "dotfiles",
        default: "hidden, they answer 404",
        help: "serve dotfiles and dot-directories (.env, .git/)",
        doc: "serve dotfiles and dot-directories (`.env`, `.git/`)",
        docDefault: "hidden (404); `/.well-known/` always served",
        set: toggle("dotfiles", "allow"),
      },
    ],
  },
  {
    name: "symlinks",
    layer: "handler",
    default: "inside-root",
    configKey: "symlinks",
    flags: [
      {
        long: "follow-symlinks",
        default: "refused, they answer 404",
        help: "serve symlinks that lead out of the directory",
        docDefault: "refused (404)",
        set: toggle("symlinks", "follow"),
      },
    ],
  },
  // One option, two flags: `--readme` turns the listing into its object form, and
  // `--no-listing` wins over it in either order (no listing has no README to show).
  {
    name: "listing",
    layer: "handler",
    default: true,
    configKey: "listing",
    flags: [
      {
        long: "no-listing",
        default: "an HTML listing",
        help: "directories without index.html answer 404",
        doc: "a directory without `index.html` answers 404",
        docDefault: "listed",
        set: toggle("listing", false),
      },
      {
        long: "readme",
        default: "not shown",
        help: "show a directory's README.md below its listing",
        doc: "a directory's `README.md` rendered below its listing (Markdown, raw HTML off, links sanitised)",
        docDefault: "off",
        set: (s) => {
          const before = s.options.listing;
          if (before === false) return undefined;
          s.options.listing = { ...(typeof before === "object" ? before : {}), readme: true };
          return undefined;
        },
      },
    ],
  },
  {
    name: "archive",
    layer: "handler",
    default: [],
    configKey: "archive",
    flags: [
      {
        long: "archive",
        value: "FORMATS",
        default: "off",
        help: "?download=zip|tar on directories: zip, tar or zip,tar",
        doc: "`?download=zip` / `?download=tar` on directories: `zip`, `tar` or `zip,tar`",
        docDefault: "off",
        set: (s, v) => {
          const asked = v.split(",").map((f) => f.trim().toLowerCase());
          const bad = asked.find((f) => !(ARCHIVE_FORMATS as readonly string[]).includes(f));
          if (bad !== undefined) return `invalid --archive '${v}': must be zip, tar or zip,tar`;
          s.options.archive = ARCHIVE_FORMATS.filter((f) => asked.includes(f) || (s.options.archive ?? []).includes(f));
          return undefined;
        },
      },
    ],
  },
  {
    name: "archiveMaxBytes",
    layer: "handler",
    default: 4 * 1024 ** 3,
    configKey: "archiveMaxBytes",
    flags: [
      {
        long: "archive-max-bytes",
        value: "BYTES",
        default: "4294967296 (4 GiB)",
        help: "larger archives are cut short; 0: no limit",
        doc: "an archive with more file bytes is cut short; `0`: no limit",
        docDefault: "4294967296 (4 GiB)",
        set: (s, v) => {
          if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v)))
            return `invalid --archive-max-bytes '${v}': must be a whole number of bytes`;
          s.options.archiveMaxBytes = Number(v);
          return undefined;
        },
      },
    ],
  },
  {
    name: "workers",
    layer: "cli",
    default: 1,
    flags: [
      {
        long: "workers",
        short: "w",
        value: "N",
        default: "1",
        help: "processes sharing the port; auto = one per CPU core",
        doc: "processes sharing the port; `auto` = one per CPU core",
        docDefault: "`1`",
        set: (s, v) => {
          const n = v === "auto" ? availableParallelism() : /^\d{1,4}$/.test(v) ? Number(v) : 0;
          if (n < 1 || n > 1024) return `invalid --workers '${v}': must be 'auto' or a whole number from 1 to 1024`;
          s.options.workers = n;
          return undefined;
        },
      },
    ],
  },
  {
    name: "compression",
    layer: "handler",
    default: true,
    configKey: "compression",
    flags: [
      {
        long: "no-compression",
        default: "br/zstd/gzip as the client accepts",
        help: "never compress responses (sidecars included)",
        doc: "never compress (sidecars included)",
        docDefault: "br, zstd (where Node has it) or gzip, as the client accepts",
        set: (s) => {
          s.options.compression = false;
          s.options.precompressed = false;
          return undefined;
        },
      },
    ],
  },
  { name: "precompressed", layer: "handler", default: true },
  {
    name: "digest",
    layer: "handler",
    default: false,
    configKey: "digest",
    flags: [
      {
        long: "digest",
        help: "Repr-Digest (SHA-256 of what is sent) when known",
        doc: "`Repr-Digest: sha-256=:…:` (RFC 9530) of the bytes sent, when known; `Want-Repr-Digest`/`Want-Content-Digest` choose sha-256, sha-512 or none",
        docDefault: "off",
        set: toggle("digest", true),
      },
    ],
  },
  {
    name: "cache",
    layer: "handler",
    default: [],
    configKey: "cache",
    combine: "first-wins",
    flags: [
      {
        long: "cache",
        value: "GLOB=VALUE",
        default: "revalidate; fingerprinted names a year",
        help: "Cache-Control by glob, seconds or value (repeatable)",
        doc: "`Cache-Control` for matching files: seconds (`public, max-age=N`) or a whole value; repeatable, first match wins",
        docDefault: "`no-cache`; fingerprinted names a year, `immutable`",
        set: (s, v) => {
          const rule = parseCacheRule(v);
          if (rule === undefined) return `invalid --cache '${v}': expected GLOB=SECONDS or GLOB=VALUE, e.g. '*.png=3600'`;
          s.options.cache = [...(s.options.cache ?? []), rule];
          return undefined;
        },
      },
    ],
  },
  {
    name: "tls",
    layer: "serve",
    flags: [
      {
        long: "tls",
        default: "plain HTTP",
        help: "HTTPS and HTTP/2, certificate made for this machine",
        doc: "HTTPS and HTTP/2 with a development certificate made for this machine (see below)",
        set: toggle("tls", "dev"),
      },
    ],
  },
  {
    name: "tlsCert",
    layer: "cli",
    flags: [
      {
        long: "tls-cert",
        value: "FILE",
        help: "HTTPS and HTTP/2 with this certificate chain (PEM)",
        doc: "HTTPS and HTTP/2 with this certificate chain (PEM), as in Python 3.14",
        set: toggleValue("tlsCert"),
      },
    ],
  },
  {
    name: "tlsKey",
    layer: "cli",
    flags: [
      {
        long: "tls-key",
        value: "FILE",
        default: "read from the --tls-cert file",
        help: "the certificate's private key (PEM)",
        doc: "its private key (PEM)",
        docDefault: "read from the `--tls-cert` file",
        set: toggleValue("tlsKey"),
      },
    ],
  },
  {
    name: "tlsPasswordFile",
    layer: "cli",
    flags: [
      {
        long: "tls-password-file",
        value: "FILE",
        help: "file holding the private key's password",
        doc: "a file holding the key's password",
        set: toggleValue("tlsPasswordFile"),
      },
    ],
  },
  {
    name: "single",
    layer: "handler",
    default: false,
    configKey: "single",
    flags: [
      {
        long: "single",
        short: "s",
        value: "[FILE]",
        optional: (v) => !/^\d+$/.test(v) && /\.html?$/i.test(v),
        default: "off; FILE: index.html",
        help: "SPA: HTML navigations to unknown paths get FILE",
        doc: "single-page app: HTML navigations (`Accept: text/html`) to unknown paths get FILE (200); assets, JSON and plain `curl` keep their 404 (see [Serving apps](#serving-apps))",
        docDefault: "off; FILE `index.html`",
        set: (s, v, written) => {
          if (v === "" && written === "=") return "invalid --single=: name a file (--single=app.html), or give -s alone for index.html";
          s.options.single = v === "" ? true : v;
          return undefined;
        },
      },
    ],
  },
  {
    name: "cleanUrls",
    layer: "handler",
    default: false,
    configKey: "cleanUrls",
    flags: [
      {
        long: "clean-urls",
        help: "/about serves about.html; .html redirects away",
        doc: "`/about` serves `about.html`; `/about.html` redirects to `/about` (query kept)",
        docDefault: "off",
        set: toggle("cleanUrls", true),
      },
    ],
  },
  {
    name: "trailingSlash",
    layer: "handler",
    configKey: "trailingSlash",
    flags: [
      {
        long: "trailing-slash",
        value: "always|never",
        help: "one spelling for every URL (301)",
        docDefault: "directories get a slash",
        set: (s, v) => {
          if (v !== "always" && v !== "never") return `invalid --trailing-slash '${v}': must be 'always' or 'never'`;
          s.options.trailingSlash = v;
          return undefined;
        },
      },
    ],
  },
  // The value is taken when it is an origin, or looks like a host name that lacks
  // one (`--cors example.com`): that one is an error, not a directory to serve.
  {
    name: "cors",
    layer: "handler",
    default: false,
    configKey: "cors",
    flags: [
      {
        long: "cors",
        value: "[ORIGINS]",
        optional: (v) => v === "*" || /^(null|[a-z][a-z0-9+.-]*:\/\/)/i.test(v) || hostish(v),
        help: "CORS for any origin, or for these (comma-separated)",
        doc: "CORS with working preflights; any origin, or these (comma-separated, with credentials)",
        docDefault: "off",
        set: (s, v) => {
          const origins =
            v === "" || v === "*"
              ? "*"
              : v
                  .split(",")
                  .map((x) => x.trim())
                  .filter((x) => x !== "");
          const bare = origins === "*" ? undefined : origins.find((x) => x !== "null" && !x.includes("://"));
          if (bare !== undefined) return `invalid --cors '${v}': an origin has a scheme, like https://${bare}`;
          try {
            corsPolicy(origins);
          } catch (e) {
            return `invalid --cors '${v}': ${(e as Error).message.replace(/^wharf: option "cors" /, "")}`;
          }
          s.options.cors = origins;
          return undefined;
        },
      },
    ],
  },
  {
    name: "headers",
    layer: "handler",
    default: [],
    configKey: "headers",
    combine: "later-wins",
    flags: [
      {
        long: "header",
        short: "H",
        value: "'NAME: VALUE'",
        help: "add a response header (repeatable)",
        doc: "a response header (repeatable)",
        set: (s, v) => {
          const header = parseHeaderFlag(v);
          if (header === undefined) return `invalid --header '${v}': expected 'Name: value' with a valid name and no line breaks`;
          // All of them one rule for every path; the later flag wins for the same name.
          const before = s.options.headers?.[0]?.headers ?? {};
          s.options.headers = [{ source: "**", headers: { ...before, [header.name]: header.value } }];
          return undefined;
        },
      },
    ],
  },
  {
    name: "coopCoep",
    layer: "handler",
    default: false,
    configKey: "coopCoep",
    flags: [
      {
        long: "coop-coep",
        help: "cross-origin isolation (SharedArrayBuffer)",
        doc: "cross-origin isolation headers (SharedArrayBuffer)",
        docDefault: "off",
        set: toggle("coopCoep", true),
      },
    ],
  },
  // `--explain` alone is `on`; a value is taken only when it is a mode, so
  // `wharf --explain dist` still serves dist.
  {
    name: "explain",
    layer: "handler",
    default: "auto",
    configKey: "explain",
    flags: [
      {
        long: "explain",
        value: "[auto|on|off]",
        optional: (v) => "value" in explainMode(v),
        default: "auto, clients on this machine",
        help: "404s and 400s say why: to this machine, all, none",
        doc: "404 and 400 pages say the reason and the fix: `auto` to clients on this machine (loopback), `on` (or the flag alone) to everyone, `off` to nobody; behind a reverse proxy on the same host, use `off`",
        docDefault: "`auto`: loopback clients",
        set: (s, v) => {
          const got = v === "" ? { value: "on" as const } : explainMode(v);
          if ("problem" in got) return `invalid --explain '${v}': ${got.problem}`;
          s.options.explain = got.value;
          return undefined;
        },
      },
    ],
  },
  {
    name: "live",
    layer: "handler",
    default: false,
    configKey: "live",
    flags: [
      {
        long: "live",
        help: "reload pages (or swap stylesheets) when files change",
        doc: "reload open pages, or swap their stylesheets, when a served file changes; turns on `--allowed-hosts`",
        docDefault: "off",
        set: toggle("live", true),
      },
    ],
  },
  {
    name: "liveIgnore",
    layer: "handler",
    default: [],
    configKey: "liveIgnore",
    flags: [
      {
        long: "live-ignore",
        value: "GLOB",
        help: "do not watch these paths for --live (repeatable)",
        doc: "paths `--live` does not watch (repeatable; dotfiles and `node_modules` never are)",
        set: (s, v) => {
          if (v === "") return "invalid --live-ignore '': must not be empty";
          s.options.liveIgnore = [...(s.options.liveIgnore ?? []), v];
          return undefined;
        },
      },
    ],
  },
  {
    name: "livePoll",
    layer: "handler",
    default: 0,
    configKey: "livePoll",
    flags: [
      {
        long: "live-poll",
        value: "MS",
        help: "poll for --live every MS ms instead of watching",
        doc: "poll the tree every MS milliseconds instead of watching it (network and WSL drives)",
        docDefault: "watch",
        set: store("livePoll", "--live-poll", (t) => {
          const got = whole(50, 3_600_000)(t);
          return got;
        }),
      },
    ],
  },
  {
    name: "allowedHosts",
    layer: "handler",
    configKey: "allowedHosts",
    flags: [
      {
        long: "allowed-hosts",
        value: "LIST",
        help: "answer only these Host names (comma-separated)",
        doc: "answer only these `Host` names, comma-separated (`*.example.com`, `all`); localhost, IP addresses and this machine's names always; on with `--live`",
        docDefault: "off (on with `--live`)",
        set: (s, v) => {
          const names = v
            .split(",")
            .map((x) => x.trim())
            .filter((x) => x !== "");
          if (names.length === 0) return `invalid --allowed-hosts '${v}': must name at least one host`;
          const problem = names.map(hostEntryProblem).find((p) => p !== undefined);
          if (problem !== undefined) return `invalid --allowed-hosts '${v}': ${problem}`;
          s.options.allowedHosts = [...(s.options.allowedHosts ?? []), ...names];
          return undefined;
        },
      },
    ],
  },
  {
    name: "notFound",
    layer: "handler",
    default: false,
    configKey: "notFound",
    flags: [
      {
        long: "404",
        value: "FILE",
        default: "404.html if present",
        help: "page sent with status 404",
        docDefault: "`404.html` if present",
        set: toggleValue("notFound"),
      },
    ],
  },
  { name: "redirects", layer: "handler", default: [], configKey: "redirects" },
  { name: "rewrites", layer: "handler", default: [], configKey: "rewrites" },
  {
    name: "auth",
    layer: "handler",
    env: ["WHARF_AUTH"],
    parse: account,
    secret: true,
    configKey: "auth",
    flags: [
      {
        long: "auth",
        value: "USER:PASSWORD",
        help: "HTTP Basic authentication (repeatable)",
        docDefault: "off",
        set: (s, v) => {
          const got = account(v);
          // Never the password itself in a message.
          if ("problem" in got) return `invalid --auth '${v.replace(/:.*/, ":...")}': ${got.problem}`;
          const before = s.options.auth;
          s.options.auth = [...(Array.isArray(before) ? (before as readonly string[]) : []), got.value];
          return undefined;
        },
      },
    ],
  },
  {
    name: "authFile",
    layer: "handler",
    env: ["WHARF_AUTH_FILE"],
    parse: nonEmpty,
    path: true,
    configKey: "authFile",
    flags: [
      {
        long: "auth-file",
        value: "FILE",
        help: "htpasswd file (bcrypt, apr1 or SHA)",
        doc: "htpasswd file (bcrypt, `$apr1$`, `{SHA}`)",
        set: toggleValue("authFile"),
      },
    ],
  },
  {
    name: "insecureAuth",
    layer: "serve",
    default: false,
    configKey: "insecureAuth",
    flags: [
      {
        long: "insecure-auth",
        help: "allow auth without TLS beyond localhost",
        doc: "allow auth without TLS on a non-loopback address",
        docDefault: "refused",
        set: toggle("insecureAuth", true),
      },
    ],
  },
  // Uploads (src/features/upload): nothing is written unless --upload is given.
  {
    name: "upload",
    layer: "handler",
    default: false,
    configKey: "upload",
    flags: [
      {
        long: "upload",
        value: "[URLPATH]",
        // Taken when it is a URL path (`--upload /inbox`); `--upload DIR` still names the directory to serve.
        optional: (v) => v.startsWith("/"),
        help: "accept uploads, anywhere or under URLPATH",
        doc: "accept uploads (PUT, POST from the listing page) everywhere, or under each URLPATH given (repeatable)",
        docDefault: "off: nothing is written",
        set: (s, v) => {
          if (v === "") {
            s.options.upload ??= true;
            return undefined;
          }
          if (!v.startsWith("/")) return `invalid --upload '${v}': a URL path starts with /`;
          const before = s.options.upload;
          s.options.upload = [...(Array.isArray(before) ? (before as readonly string[]) : []), v];
          return undefined;
        },
      },
    ],
  },
  {
    name: "mkdir",
    layer: "handler",
    default: false,
    configKey: "mkdir",
    flags: [{ long: "mkdir", help: "uploads may create directories (folders)", docDefault: "off", set: toggle("mkdir", true) }],
  },
  {
    name: "delete",
    layer: "handler",
    default: false,
    configKey: "delete",
    flags: [{ long: "delete", help: "DELETE removes files where uploads go", docDefault: "off", set: toggle("delete", true) }],
  },
  {
    name: "onConflict",
    layer: "handler",
    default: "error",
    env: ["WHARF_ON_CONFLICT"],
    parse: onConflict,
    configKey: "onConflict",
    flags: [
      {
        long: "on-conflict",
        value: "MODE",
        default: "error",
        help: "existing name: error (409), rename, overwrite",
        doc: "an upload to an existing name: `error` (409), `rename` (`name (1).ext`) or `overwrite`",
        docDefault: "`error`",
        set: store("onConflict", "--on-conflict", onConflict),
      },
    ],
  },
  {
    name: "uploadMaxSize",
    layer: "handler",
    default: DEFAULT_UPLOAD_MAX_SIZE,
    env: ["WHARF_UPLOAD_MAX_SIZE"],
    parse: byteSize,
    configKey: "uploadMaxSize",
    flags: [
      {
        long: "upload-max-size",
        value: "BYTES",
        default: String(DEFAULT_UPLOAD_MAX_SIZE),
        help: "largest upload (K, M, G suffixes); 0: no limit",
        doc: "largest upload, in bytes or with a `K`, `M`, `G` suffix (`0`: no limit); larger ones get 413",
        docDefault: "1 GiB",
        set: store("uploadMaxSize", "--upload-max-size", byteSize),
      },
    ],
  },
  {
    name: "uploadAuth",
    layer: "handler",
    env: ["WHARF_UPLOAD_AUTH"],
    parse: account,
    secret: true,
    configKey: "uploadAuth",
    flags: [
      {
        long: "upload-auth",
        value: "USER:PASSWORD",
        help: "account for writes only",
        docDefault: "writes use --auth",
        set: (s, v) => {
          const got = account(v);
          if ("problem" in got) return `invalid --upload-auth '${v.replace(/:.*/, ":...")}': ${got.problem}`;
          const before = s.options.uploadAuth;
          s.options.uploadAuth = [...(Array.isArray(before) ? (before as readonly string[]) : []), got.value];
          return undefined;
        },
      },
    ],
  },
  {
    name: "uploadAnonymous",
    layer: "handler",
    default: false,
    configKey: "uploadAnonymous",
    flags: [
      {
        long: "upload-anonymous",
        help: "uploads from anywhere, no password",
        doc: "accept uploads from other machines without credentials (the banner warns)",
        docDefault: "loopback only",
        set: toggle("uploadAnonymous", true),
      },
    ],
  },
  {
    name: "config",
    layer: "cli",
    env: ["WHARF_CONFIG"],
    parse: nonEmpty,
    flags: [
      {
        long: "config",
        short: "c",
        value: "FILE",
        default: "wharf.json, else DIR/serve.json",
        help: "configuration file",
        docDefault: "`wharf.json`, else `DIR/serve.json`",
        set: toggleValue("config"),
      },
    ],
  },
  {
    name: "open",
    layer: "cli",
    default: false,
    flags: [{ long: "open", short: "o", help: "open the browser once serving", doc: "open the browser", set: toggle("open", true) }],
  },
  {
    name: "qr",
    layer: "serve",
    default: false,
    flags: [
      {
        long: "qr",
        default: "off",
        help: "QR code of the LAN address (terminal, listings)",
        doc: "a QR code of the first private LAN address (with the secret path), in the terminal and on listing pages",
        docDefault: "off",
        set: toggle("qr", true),
      },
      { long: "no-qr", help: "no QR code (wharf share shows one)", set: toggle("qr", false) },
    ],
  },
  {
    name: "secretPath",
    layer: "handler",
    flags: [
      {
        long: "secret-path",
        help: "serve only under a random /<22 characters>/ prefix",
        doc: "everything under a random 128-bit prefix, `/<22 characters>/`; any other path is 404 (see [Sharing](docs/features.md#sharing))",
        docDefault: "off",
        set: toggle("secretPath", true),
      },
      { long: "no-secret-path", help: "serve at / (wharf share adds a secret path)", set: toggle("secretPath", false) },
    ],
  },
  {
    name: "expire",
    layer: "serve",
    flags: [
      {
        long: "expire",
        value: "DURATION",
        help: "stop after 90s, 30m, 1h, 1h30m, ...; never",
        doc: "stop gracefully after this long: `90s`, `30m`, `1h`, `1h30m`, `2d`; `never` (for `wharf share`)",
        docDefault: "never",
        set: (s, v) => {
          if (v === "never") {
            delete s.options.expire;
            return undefined;
          }
          return store("expire", "--expire", duration)(s, v);
        },
      },
    ],
  },
  {
    name: "logFormat",
    layer: "serve",
    default: "default",
    env: ["WHARF_LOG_FORMAT"],
    parse: logFormat,
    configKey: "logFormat",
    flags: [
      {
        long: "log-format",
        value: "FORMAT",
        default: "default, wharf's own line",
        help: `access log: ${LOG_FORMATS.join(", ")}`,
        doc: LOG_FORMATS.map((f) => `\`${f}\``)
          .join(", ")
          .replace(/, ([^,]*)$/, " or $1"),
        docDefault: "`default`: wharf's own line",
        set: store("logFormat", "--log-format", logFormat),
      },
    ],
  },
  {
    name: "metrics",
    layer: "serve",
    env: ["WHARF_METRICS"],
    parse: metricsListen,
    configKey: "metrics",
    flags: [
      {
        long: "metrics",
        value: "PORT",
        default: "off",
        help: "Prometheus /metrics on PORT (loopback) or ADDR:PORT",
        doc: "Prometheus metrics at `/metrics` on a listener of their own: `9100` (both loopbacks) or `ADDR:PORT` (`0.0.0.0:9100`)",
        docDefault: "off",
        set: store("metrics", "--metrics", metricsListen),
      },
    ],
  },
  limit("max-header-size", "maxHeaderSize", "BYTES", "larger request heads answer 431", 16_384, 1024, 16_777_216),
  limit("max-url-length", "maxUrlLength", "BYTES", "longer request targets answer 414", 8192, 1, 16_777_216),
  limit(
    "max-connections",
    "maxConnections",
    "N",
    "connections at once, per process; 0: no limit",
    10_000,
    0,
    10_000_000,
    "connections at once, per process (`0`: no limit)",
  ),
  // 0 is allowed: ranges off (http/range.ts), every Range header ignored.
  {
    ...limit(
      "max-ranges",
      "maxRanges",
      "N",
      "more ranges in one request get the whole file; 0: off",
      100,
      0,
      10_000,
      "more ranges in one request get the whole file (`0`: ranges off, every `Range` ignored)",
    ),
    layer: "handler",
  },
  timeout("headers-timeout", "headersTimeout", "time to send the request head (slowloris)", 10_000),
  timeout(
    "request-timeout",
    "requestTimeout",
    "time to send the whole request",
    30_000,
    "time to send the whole request; with `--upload`, an upload's body is cut only when no byte of it came for this long",
  ),
  timeout(
    "send-timeout",
    "sendTimeout",
    "a client that takes nothing for this long is cut",
    30_000,
    "a client that takes none of its answer for this long is cut (`0`: never)",
  ),
  timeout("keep-alive-timeout", "keepAliveTimeout", "idle connections are closed after this", 5_000),
  timeout("shutdown-timeout", "shutdownTimeout", "on a signal, time for responses to finish", 10_000),
  {
    ...timeout(
      "shutdown-delay",
      "shutdownDelay",
      "on SIGTERM, not ready but serving this long",
      0,
      "on SIGTERM, `/__wharf/readyz` answers 503 and serving goes on this long before the graceful close; Ctrl+C skips it",
    ),
    env: ["WHARF_SHUTDOWN_DELAY"],
    parse: seconds,
  },
  {
    name: "health",
    layer: "serve",
    default: false,
    configKey: "health",
    flags: [
      {
        long: "health",
        help: "probes at /__wharf/livez and /__wharf/readyz",
        doc: "answer `GET`/`HEAD` `/__wharf/livez` and `/__wharf/readyz` before auth and rewrites, not logged (see [In production](#in-production))",
        docDefault: "off: ordinary paths",
        set: toggle("health", true),
      },
    ],
  },
  {
    name: "logHealth",
    layer: "serve",
    default: false,
    configKey: "logHealth",
    flags: [
      {
        long: "log-health",
        help: "log the health probes too",
        docDefault: "not logged",
        set: toggle("logHealth", true),
      },
    ],
  },
  {
    name: "trustProxy",
    layer: "handler",
    default: [],
    env: ["WHARF_TRUST_PROXY"],
    parse: trustList,
    configKey: "trustProxy",
    flags: [
      {
        long: "trust-proxy",
        value: "LIST",
        default: "none: the client is the peer",
        help: "proxies believed about the client (CIDRs)",
        doc: "proxies whose `Forwarded`/`X-Forwarded-For` is believed: addresses, CIDR ranges, `loopback`, `private` (comma-separated, repeatable)",
        docDefault: "none: the client is the peer",
        set: (s, v) => {
          const got = trustList(v);
          if ("problem" in got) return `invalid --trust-proxy '${v}': ${got.problem}`;
          s.options.trustProxy = [...(s.options.trustProxy ?? []), ...got.value];
          return undefined;
        },
      },
    ],
  },
  {
    name: "clientIpHeader",
    layer: "handler",
    env: ["WHARF_CLIENT_IP_HEADER"],
    parse: headerName,
    configKey: "clientIpHeader",
    flags: [
      {
        long: "client-ip-header",
        value: "NAME",
        default: "Forwarded or X-Forwarded-For",
        help: "the one header trusted proxies name the client in",
        doc: "the one header trusted proxies write the client in: `forwarded`, `x-forwarded-for`, or one holding a single address (`x-real-ip`)",
        docDefault: "`Forwarded` or `X-Forwarded-For`",
        set: store("clientIpHeader", "--client-ip-header", headerName),
      },
    ],
  },
  // The library's alone.
  { name: "index", layer: "handler", default: ["index.html", "index.htm"] },
  { name: "cacheControl", layer: "handler", default: "no-cache" },
  { name: "hashLimit", layer: "handler", default: 64 * 1024 * 1024 },
  { name: "revalidateMs", layer: "handler", default: 500 },
  { name: "cacheFileBytes", layer: "handler", default: 1024 * 1024 },
  { name: "cacheBytes", layer: "handler", default: 32 * 1024 * 1024 },
  { name: "fallthrough", layer: "handler", default: true },
  { name: "use", layer: "handler", default: [] },
  { name: "fs", layer: "handler" },
  { name: "unlisted", layer: "handler", default: [], configKey: "unlisted" },
  { name: "hiddenFiles", layer: "handler", default: [] },
];

/** A flag whose value is stored as written. */
function toggleValue(name: "host" | "tlsCert" | "tlsKey" | "tlsPasswordFile" | "notFound" | "authFile" | "config"): Setter {
  return (s, v) => {
    s.options[name] = v;
    return undefined;
  };
}

/** The option named `name`. */
export function optionSpec(name: SettingName): OptionSpec {
  const spec = OPTIONS.find((o) => o.name === name);
  if (spec === undefined) throw new Error(`wharf: no option ${name} in the registry`);
  return spec;
}

/** The names of the options only the command line takes. */
export const CLI_ONLY: ReadonlySet<SettingName> = new Set(OPTIONS.filter((o) => o.layer === "cli").map((o) => o.name));
