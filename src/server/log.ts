/**
 * The access log: one line per request, in a fixed, greppable shape.
 *
 *     2026-11-26T10:00:00.000Z ::1 "GET /a%20b HTTP/1.1" 200 1234 1.2ms
 *
 * `--log-format` picks another shape (see {@link accessLogFormatter}): `dev`
 * (short, coloured on a terminal), Apache's `common` and `combined`, or `json`.
 *
 * Pure functions only; src/server/serve.ts decides when a line is written.
 */
import { escapeLogField } from "../core/text.js";

/** Everything one access-log line says about a request. */
export interface AccessLogEntry {
  /** When the request arrived. */
  readonly time: Date;
  /** The peer's address; `undefined` when the socket is already gone. */
  readonly remoteAddress: string | undefined;
  /**
   * With `trustProxy`: the client's address as the trusted proxy forwarded it
   * (src/http/forwarded.ts), the peer's when it is not a trusted proxy. Unset
   * without `trustProxy`.
   */
  readonly clientAddress?: string | undefined;
  /** `"-"` when unknown (a request the parser refused). */
  readonly method: string;
  /** The request-target as received, still percent-encoded; `"-"` when unknown. */
  readonly target: string;
  /** `"1.1"`, `"1.0"`; `"-"` when unknown (a request the parser refused). */
  readonly httpVersion: string;
  readonly status: number;
  /** Body bytes actually written. */
  readonly bytes: number;
  /** From arrival until the response finished or the connection closed. */
  readonly durationMs: number;
  /** The connection closed before the response was complete. */
  readonly aborted: boolean;
  /** The `Referer` request header (combined and JSON formats). */
  readonly referer?: string | undefined;
  /** The `User-Agent` request header (combined and JSON formats). */
  readonly userAgent?: string | undefined;
  /**
   * The user the request was authenticated as (common, combined, JSON): only once
   * authentication accepted it, never a name a client merely sent.
   */
  readonly user?: string | undefined;
}

/** The characters {@link escapeLogField} escapes that JSON.stringify leaves raw. */
const UNSAFE_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number): string => c.charCodeAt(0).toString(16).padStart(width, "0");

/**
 * `JSON.stringify(value)` with DEL, the C1 controls, line separators and bidi
 * controls written as `\uNNNN` escapes too: still the same JSON (parsing it gives
 * back the exact strings), but nothing in the line can move the terminal's cursor,
 * break the line or reorder what the operator sees.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}

/**
 * `1.2ms` below a second's worth of tenths, whole milliseconds above. In integer
 * tenths, not `toFixed(1)`, which measured about 0.9 µs a call on Node 20 (a line
 * per request); a tie may round the other way, which a log's tenth can spare.
 */
export function formatDuration(ms: number): string {
  if (ms >= 999.95) return `${Math.round(ms)}ms`;
  const tenths = Math.round(ms * 10);
  return `${Math.floor(tenths / 10)}.${tenths % 10}ms`;
}

let isoSecond = -1;
let isoPrefix = "";

/**
 * `time.toISOString()`, its part up to the second kept from the line before: the
 * lines of one second share it (nginx keeps its time strings the same way).
 */
export function isoTime(time: Date): string {
  const ms = time.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond || isoPrefix === "") {
    const full = time.toISOString();
    // Years past 9999 are written with a sign and six digits: not cached.
    if (full.length !== 24) return full;
    isoSecond = second;
    isoPrefix = full.slice(0, 20);
  }
  const rest = ms - second * 1000;
  return `${isoPrefix}${rest < 10 ? "00" : rest < 100 ? "0" : ""}${rest}Z`;
}

/**
 * A dual-stack socket reports IPv4 peers as `::ffff:127.0.0.1`; the operator
 * reading the log wants to see `127.0.0.1`.
 */
export function displayAddress(address: string | undefined): string {
  if (address === undefined || address === "") return "-";
  if (!address.startsWith("::")) return address; // (no regular expression for most)
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * Who sent the request: the peer, or with a trusted proxy in between
 * `client via peer` (`203.0.113.7 via 10.0.0.5`), so that both are in the line.
 */
function whoSent(e: AccessLogEntry): string {
  const peer = displayAddress(e.remoteAddress);
  if (e.clientAddress === undefined) return peer;
  const client = displayAddress(e.clientAddress);
  return client === peer ? peer : `${client} via ${peer}`;
}

/** Apache's `%h` behind a trusted proxy: the client (as mod_remoteip makes it), else the peer. */
function clientHost(e: AccessLogEntry): string {
  return displayAddress(e.clientAddress ?? e.remoteAddress);
}

/**
 * The request line as logged: `-` when nothing of it could be parsed (a request
 * the parser refused, as Apache logs it), without a version when it had none.
 */
function requestLine(e: AccessLogEntry): string {
  if (e.method === "-" && e.target === "-") return "-";
  const version = e.httpVersion === "-" ? "" : ` HTTP/${escapeLogField(e.httpVersion)}`;
  return `${escapeLogField(e.method)} ${escapeLogField(e.target)}${version}`;
}

/** One access-log line, without the trailing newline. */
export function formatAccessLog(entry: AccessLogEntry): string {
  const request = requestLine(entry);
  const line =
    `${isoTime(entry.time)} ${whoSent(entry)} "${request}" ` + `${entry.status} ${entry.bytes} ${formatDuration(entry.durationMs)}`;
  return entry.aborted ? `${line} (aborted)` : line;
}

/** The access-log shapes `--log-format` offers. */
export type LogFormat = "default" | "dev" | "common" | "combined" | "json";

export const LOG_FORMATS: readonly LogFormat[] = ["default", "dev", "common", "combined", "json"];

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Apache's `%t`: `[10/Oct/2000:13:55:36 +0000]`, in UTC. */
export function clfTime(time: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  return (
    `[${two(time.getUTCDate())}/${MONTHS[time.getUTCMonth()]}/${time.getUTCFullYear()}:` +
    `${two(time.getUTCHours())}:${two(time.getUTCMinutes())}:${two(time.getUTCSeconds())} +0000]`
  );
}

/** A quoted field of the common/combined formats; `-` when absent (Apache's convention). */
function quoted(value: string | undefined): string {
  return value === undefined || value === "" ? '"-"' : `"${escapeLogField(value)}"`;
}

/** Apache's Common Log Format line (`%h %l %u %t "%r" %>s %b`). */
function commonLine(e: AccessLogEntry): string {
  const request = requestLine(e);
  const user = e.user === undefined || e.user === "" ? "-" : escapeLogField(e.user).replace(/ /g, "\\x20");
  return `${clientHost(e)} - ${user} ${clfTime(e.time)} "${request}" ${e.status} ${e.bytes === 0 ? "-" : e.bytes}`;
}

const COLOURS: Readonly<Record<number, string>> = { 2: "32", 3: "36", 4: "33", 5: "31" };

/** A short size: `512 B`, `1.3 kB`, `4.0 MB`. */
function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * The formatter for `format`. `colour` (only when writing to a terminal, and not
 * with `NO_COLOR`) tints the `dev` status by class; no other format is coloured,
 * and request fields are escaped in every one, so a request can never colour the
 * operator's terminal itself.
 */
export function accessLogFormatter(format: LogFormat, colour = false): (entry: AccessLogEntry) => string {
  switch (format) {
    case "default":
      return formatAccessLog;
    case "common":
      return commonLine;
    case "combined":
      return (e) => `${commonLine(e)} ${quoted(e.referer)} ${quoted(e.userAgent)}`;
    case "json":
      // Every control character, line separator and bidi control escaped: one line, shown as it reads.
      return (e) =>
        safeJson({
          time: isoTime(e.time),
          remote: displayAddress(e.remoteAddress),
          ...(e.clientAddress === undefined ? {} : { client: displayAddress(e.clientAddress) }),
          method: e.method,
          target: e.target,
          protocol: e.httpVersion === "-" ? "-" : `HTTP/${e.httpVersion}`,
          status: e.status,
          bytes: e.bytes,
          durationMs: Math.round(e.durationMs * 10) / 10,
          ...(e.user === undefined ? {} : { user: e.user }),
          ...(e.referer === undefined ? {} : { referer: e.referer }),
          ...(e.userAgent === undefined ? {} : { userAgent: e.userAgent }),
          ...(e.aborted ? { aborted: true } : {}),
        });
    case "dev":
      return (e) => {
        const code = COLOURS[Math.floor(e.status / 100)];
        const status = colour && code !== undefined ? `\x1b[${code}m${e.status}\x1b[0m` : String(e.status);
        const line = `${escapeLogField(e.method)} ${escapeLogField(e.target)} ${status} ${formatDuration(e.durationMs)} - ${size(e.bytes)}`;
        return e.aborted ? `${line} (aborted)` : line;
      };
  }
}
