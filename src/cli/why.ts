/**
 * `wharf why PATH [-d DIR] [flags]`: what wharf would answer for a URL path,
 * and why, without starting a server. The flags, the environment and the
 * configuration file are read as `wharf` reads them; the request runs through
 * a chain built for tracing (handler/explain.ts) — the same features and the
 * same static handler, each writing its decisions down — so the trace can
 * never drift from what the server does. Exit 0 when the path would be
 * served (2xx or 3xx), 1 when not, 2 for a usage error.
 */
import { statSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import { OPTIONS } from "../config/registry.js";
import type { WharfRequest } from "../core/types.js";
import { buildFeatures } from "../features/index.js";
import { explanationReasons, traceRequest } from "../handler/explain.js";
import { resolveOptions, type StaticOptions } from "../handler/options.js";
import { adviceFor } from "../responders/explanation.js";
import { parseCommandLine } from "./flags.js";
import { settle } from "./settings.js";

/** A browser's page load: what a person checking a link means by default. */
const NAVIGATION = "text/html,application/xhtml+xml,*/*;q=0.8";

export const WHY_USAGE = `usage: wharf why PATH [-d DIR] [--accept TYPES] [flags]

Print how wharf decides what to answer for the URL path PATH (or a whole URL),
without starting a server: decoding, redirects, rewrites and the SPA fallback,
the file, directory or sidecar found, each visibility rule, and the result.
The flags are wharf's own (--dotfiles, --clean-urls, -s, ...), and the
environment and the configuration file count as when serving.

  --accept TYPES   the request's Accept (default: a browser's page load,
                   ${NAVIGATION})

Exit status: 0 when the path would be served (2xx or 3xx), 1 when not,
2 for a usage error.

examples:
  wharf why /Images/logo.png -d public
  wharf why /about --clean-urls
  wharf why http://localhost:8000/deep/link -s --accept '*/*'
`;

/** The handler's options among everything settled: the ones the registry says the handler takes. */
const HANDLER_OPTIONS = new Set<string>(OPTIONS.filter((o) => o.layer === "handler").map((o) => o.name));

/** `http://host:port/a?b` → `/a?b`, as written (no normalising: the trace shows the decoding). */
function targetOf(path: string): string {
  const m = /^https?:\/\/[^/?#]*/i.exec(path);
  const rest = m === null ? path : path.slice(m[0].length) || "/";
  const hash = rest.indexOf("#");
  return hash < 0 ? rest : rest.slice(0, hash);
}

function request(target: string, accept: string): WharfRequest {
  const q = target.indexOf("?");
  const pathname = q < 0 ? target : target.slice(0, q);
  const headers: Record<string, string> = { accept };
  // A browser says a page load is one (spa.ts reads it); a script's request does not.
  if (accept === NAVIGATION) Object.assign(headers, { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" });
  return {
    method: "GET",
    target,
    pathname,
    search: q < 0 ? "" : target.slice(q),
    header: (name) => headers[name],
    remoteAddress: undefined,
  };
}

/** Runs `wharf why` with the arguments after `why`; resolves with the exit code. */
export async function whyCommand(
  argv: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const [path, ...rest] = argv;
  if (path === "--help" || path === "-h") {
    out(WHY_USAGE);
    return 0;
  }
  if (path === undefined || !/^(\/|https?:\/\/)/i.test(path)) {
    err(`wharf why: ${path === undefined ? "name a URL path" : `'${path}' is not a URL path`}, like /index.html\n${WHY_USAGE}`);
    return 2;
  }
  let accept = NAVIGATION;
  const flags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--accept" && rest[i + 1] !== undefined) accept = rest[++i]!;
    else if (arg.startsWith("--accept=")) accept = arg.slice("--accept=".length);
    else flags.push(arg);
  }
  const cli = parseCommandLine(flags);
  if (cli.kind === "help") {
    out(WHY_USAGE);
    return 0;
  }
  if (cli.kind !== "run") {
    err(`wharf why: ${cli.kind === "error" ? cli.message : "--version is not a why flag"}\n`);
    return 2;
  }
  try {
    const { options } = await settle(cli.options, undefined, env, process.cwd());
    if (!statSync(options.root, { throwIfNoEntry: false })?.isDirectory()) {
      err(`wharf why: no directory '${options.root}'\n`);
      return 2;
    }
    const handlerOptions = Object.fromEntries(Object.entries(options).filter(([name]) => HANDLER_OPTIONS.has(name))) as StaticOptions;
    // Who may ask is not what a path leads to: no secret path, CORS or authentication.
    const { auth: _auth, authFile: _authFile, cors: _cors, secretPath: _secret, ...paths } = handlerOptions;
    const resolved = resolveOptions(paths);
    const target = targetOf(path);
    const req = request(target, accept);
    const { trace, reply } = await traceRequest(resolved, buildFeatures(paths), req, "all");
    const lines = [
      `GET ${target} in ${resolved.root}`,
      `  accept: ${accept}${accept === NAVIGATION ? " (a browser's page load; --accept to change)" : ""}`,
    ];
    for (const step of trace.steps) lines.push(`  ${step}`);
    if (trace.dropped > 0) lines.push(`  ... ${trace.dropped} more steps`);
    const served = reply.status < 400;
    const location = reply.headers["location"];
    lines.push(
      `result: ${reply.status} ${STATUS_CODES[reply.status] ?? ""}${location === undefined ? "" : ` to ${location}`}: ${served ? "served" : "not served"}`,
    );
    if (!served) {
      for (const reason of explanationReasons(trace, req.pathname)) {
        const advice = adviceFor(reason);
        lines.push(`  why: ${advice.problem}`, `  fix: ${advice.fix}`);
      }
    }
    out(`${lines.join("\n")}\n`);
    return served ? 0 : 1;
  } catch (e) {
    // A bad option in the configuration file, a root that cannot be read: one line.
    err(`wharf why: ${e instanceof Error ? e.message.replace(/^wharf: /, "") : String(e)}\n`);
    return 2;
  }
}
