/**
 * `wharf healthcheck [URL]`: asks a running wharf whether it is ready, and exits
 * 0 (it answered 2xx) or 1 (anything else: refused, timed out, 503 while
 * draining, 404 because `--health` is off). For a container's `HEALTHCHECK` in
 * an image without curl or a shell (librephotos-docker 89): Docker reads exit 0
 * as healthy and 1 as unhealthy, and reserves 2, so even a usage error is 1.
 *
 * Without a URL it asks `/__wharf/readyz` of the server the same flags, `PORT`
 * / `WHARF_*` variables and configuration file would start: `wharf healthcheck
 * -p 8080`, or nothing at all in an image whose environment sets the port.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { READYZ } from "../server/health.js";
import { parseCommandLine } from "./flags.js";
import { settle } from "./settings.js";

/** Where {@link healthcheckCommand} writes and reads. */
export interface HealthcheckIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** How long the whole check may take, by default: well under Docker's own 30 s. */
export const HEALTHCHECK_TIMEOUT = 3000;

const USAGE = `Usage: wharf healthcheck [URL] [--timeout SECONDS] [wharf's own flags]

Exits 0 when URL answers 2xx, 1 otherwise (for a container's HEALTHCHECK).
URL defaults to /__wharf/readyz on the port and address the same flags,
PORT/WHARF_* variables and wharf.json would serve on (start wharf with --health).
--timeout: seconds for the whole check (default ${HEALTHCHECK_TIMEOUT / 1000}).
`;

/** The URL a server started with these settings answers probes at, seen from this machine. */
export function probeUrl(settings: {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  readonly https: boolean;
}): string {
  const raw = settings.host?.trim().replace(/^\[(.*)\]$/, "$1");
  // Every interface and `localhost` include the IPv4 loopback (a dual-stack `::` too).
  const wildcard = raw === undefined || raw === "" || raw === "::" || raw === "0.0.0.0" || raw.toLowerCase() === "localhost";
  const host = wildcard ? "127.0.0.1" : raw.includes(":") ? `[${raw}]` : raw;
  return `${settings.https ? "https" : "http"}://${host}:${settings.port ?? 8000}${READYZ}`;
}

/** One GET with a deadline: the status and up to 200 bytes of the body, or what went wrong. */
function probe(url: URL, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    // The development certificate is self-signed: a probe asks "do you answer?", not "who are you?".
    const req = request(url, { method: "GET", rejectUnauthorized: false, agent: false, headers: { "user-agent": "wharf-healthcheck" } });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length < 200) body += chunk;
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: body.slice(0, 200).trim() });
      });
      res.on("error", (e) => {
        clearTimeout(timer);
        resolve({ error: e.message });
      });
    });
    req.on("error", (e) => {
      clearTimeout(timer);
      resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message });
    });
    req.end();
  });
}

/** Runs `wharf healthcheck ...argv`; resolves with the exit code, 0 or 1. */
export async function healthcheckCommand(argv: readonly string[], io: HealthcheckIO): Promise<number> {
  let url: string | undefined;
  let timeoutMs = HEALTHCHECK_TIMEOUT;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") {
      io.out(USAGE);
      return 0;
    }
    const timeout = arg === "--timeout" ? argv[++i] : arg.startsWith("--timeout=") ? arg.slice("--timeout=".length) : undefined;
    if (timeout !== undefined || arg === "--timeout") {
      if (timeout === undefined || !/^\d{1,4}(?:\.\d{1,3})?$/.test(timeout) || Number(timeout) <= 0) {
        io.err(`wharf healthcheck: invalid --timeout '${timeout ?? ""}': must be seconds, like 3 or 0.5\n`);
        return 1;
      }
      timeoutMs = Math.round(Number(timeout) * 1000);
    } else if (/^https?:\/\//i.test(arg) && url === undefined) url = arg;
    else rest.push(arg);
  }
  if (url === undefined) {
    const line = parseCommandLine(rest);
    if (line.kind !== "run") {
      io.err(`wharf healthcheck: ${line.kind === "error" ? line.message : "takes a URL or wharf's flags"}\n${USAGE}`);
      return 1;
    }
    try {
      const { settings } = await settle(line.options, undefined, io.env, io.cwd);
      url = probeUrl({ port: settings.port, host: settings.host, https: settings.tls !== undefined || settings.tlsCert !== undefined });
    } catch (e) {
      io.err(`wharf healthcheck: ${e instanceof Error ? e.message.replace(/^wharf: /, "") : String(e)}\n`);
      return 1;
    }
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    io.err(`wharf healthcheck: not a URL: ${url}\n`);
    return 1;
  }
  const got = await probe(parsed, timeoutMs);
  if ("error" in got) {
    io.err(`wharf healthcheck: ${url}: ${got.error}\n`);
    return 1;
  }
  // The answer's first line, its control characters escaped: whatever answers at the
  // URL (not always wharf) must not write terminal escapes into the container's log.
  const said = (got.body.split("\n")[0] ?? "").replace(
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  const line = `${url}: ${got.status}${said === "" ? "" : ` ${said}`}\n`;
  if (got.status >= 200 && got.status < 300) {
    io.out(line);
    return 0;
  }
  io.err(`wharf healthcheck: ${line}${got.status === 404 ? "wharf healthcheck: is wharf running with --health?\n" : ""}`);
  return 1;
}
