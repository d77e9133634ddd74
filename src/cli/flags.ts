/**
 * The command line: a parser and `--help` over the flags of the option registry
 * (src/config/registry.ts), so that parsing, help and the README can never
 * disagree. Python's `http.server` flags (`[port]`, `-b`, `-d`) mean what they
 * mean there. The parser returns only what was written: a partial of the
 * options, which src/config/merge.ts lays over the environment and the
 * configuration file.
 */

import { DEFAULT_PORT, type FlagSpec, OPTIONS, type ParseState, type Settings } from "../config/registry.js";
import { closest } from "../core/suggest.js";

export { DEFAULT_PORT };

export type CommandLine =
  | {
      readonly kind: "run";
      /** Only the options the command line wrote; the directory (`root`) as written, relative. */
      readonly options: Settings;
      /**
       * How the directory was named: `-d DIR`, or a positional `DIR` (how serve, sirv
       * and http-server take it); absent when it was not. A positional one that does
       * not exist gets a message that also says what a port looks like.
       */
      readonly directoryFrom?: "flag" | "positional";
    }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "error"; readonly message: string };

/** A flag: one spelling of an option, or `--help`/`--version`. */
export type Flag = FlagSpec | (Omit<FlagSpec, "set"> & { readonly set: "help" | "version" });

/** Every flag, in the registry's order, then `--help` and `--version`. */
export const FLAGS: readonly Flag[] = [
  ...OPTIONS.flatMap((o) => o.flags ?? []),
  { long: "help", short: "h", help: "show this help and exit", set: "help" },
  { long: "version", short: "V", help: "show the version and exit", set: "version" },
];

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
    const near = closest(
      shown.slice(2),
      FLAGS.map((f) => f.long),
    );
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
  ["wharf share dist", "share ./dist: QR code, secret link, stops in 1h"],
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
  const usageLines = [...usage, "[port]", "[DIR]"].reduce<string[]>(
    (acc, word) => {
      const last = acc[acc.length - 1]!;
      if (last.length + 1 + word.length <= 80) acc[acc.length - 1] = `${last} ${word}`;
      else acc.push(`${" ".repeat("usage: wharf".length)} ${word}`);
      return acc;
    },
    ["usage: wharf"],
  );
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
 * Parses the arguments after `wharf` into the options they write, and nothing
 * else: no defaults, nothing from the environment; the directory stays relative.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const state: ParseState = { options: {} };
  const o = state.options;
  let portSeen = false;
  let onlyPositionals = false;

  // Returns the outcome when parsing must stop here, else undefined.
  const apply = (flag: Flag, shown: string, value: string | undefined, written?: "="): CommandLine | undefined => {
    if (flag.set === "help" || flag.set === "version") return { kind: flag.set };
    if (flag.value !== undefined && flag.optional === undefined && (value === undefined || value === "")) {
      return { kind: "error", message: `option ${flagName(flag)} needs a value: ${shown} ${flag.value}` };
    }
    const problem = flag.set(state, value ?? "", written);
    if (problem === undefined && (flag.long === "port" || flag.long === "listen") && value !== undefined && !/^HTTP\//i.test(value)) {
      // `-p 8080` is the port: the positional one may not name another.
      if (portSeen) return { kind: "error", message: `two ports: ${shown} ${value} and the one given before` };
      portSeen = true;
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
      } else {
        if (state.directoryFrom !== undefined)
          return { kind: "error", message: `unexpected argument '${arg}' (the directory is already '${o.root}')` };
        o.root = arg;
        state.directoryFrom = "positional";
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
  for (const [flag, given] of [
    ["--tls-key", o.tlsKey],
    ["--tls-password-file", o.tlsPasswordFile],
  ] as const) {
    if (given !== undefined && o.tlsCert === undefined) return { kind: "error", message: `${flag} requires --tls-cert to be set` };
  }
  return state.directoryFrom === undefined ? { kind: "run", options: o } : { kind: "run", options: o, directoryFrom: state.directoryFrom };
}
