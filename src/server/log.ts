/**
 * The access log: one line per request, in a fixed, greppable shape.
 *
 *     2026-11-26T10:00:00.000Z ::1 "GET /a%20b HTTP/1.1" 200 1234 1.2ms
 *
 * Pure functions only; src/server/listen.ts decides when a line is written.
 */

/** Everything one access-log line says about a request. */
export interface AccessLogEntry {
  /** When the request arrived. */
  readonly time: Date;
  /** The peer's address; `undefined` when the socket is already gone. */
  readonly remoteAddress: string | undefined;
  readonly method: string;
  /** The request-target as received, still percent-encoded. */
  readonly target: string;
  /** `"1.1"`, `"1.0"`. */
  readonly httpVersion: string;
  readonly status: number;
  /** Body bytes actually written. */
  readonly bytes: number;
  /** From arrival until the response finished or the connection closed. */
  readonly durationMs: number;
  /** The connection closed before the response was complete. */
  readonly aborted: boolean;
}

// C0 controls, DEL and the C1 block: a request-target carrying ESC (or its 8-bit
// cousin CSI, 0x9b, which the parser hands us as U+009B) could recolour or rewrite
// the operator's terminal; CR/LF could forge whole log lines. The quote and the
// backslash are escaped so that the quoted field can be parsed back unambiguously.
// Anything else (already percent-encoded text, unicode) is left as is, so
// `%1b[31m` stays readable as the harmless text it is.
const UNSAFE = /[\x00-\x1f"\\\x7f-\x9f]/g;

/**
 * Makes `s` safe to put between double quotes in a log line: every control
 * character becomes `\xNN`, `"` becomes `\"` and `\` becomes `\\`.
 */
export function escapeLogField(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '"') return '\\"';
    if (c === "\\") return "\\\\";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** `1.2ms` below a second's worth of tenths, whole milliseconds above. */
function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
}

/**
 * A dual-stack socket reports IPv4 peers as `::ffff:127.0.0.1`; the operator
 * reading the log wants to see `127.0.0.1`.
 */
export function displayAddress(address: string | undefined): string {
  if (address === undefined || address === "") return "-";
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** One access-log line, without the trailing newline. */
export function formatAccessLog(entry: AccessLogEntry): string {
  const request = `${escapeLogField(entry.method)} ${escapeLogField(entry.target)} HTTP/${escapeLogField(entry.httpVersion)}`;
  const line =
    `${entry.time.toISOString()} ${displayAddress(entry.remoteAddress)} "${request}" ` +
    `${entry.status} ${entry.bytes} ${formatDuration(entry.durationMs)}`;
  return entry.aborted ? `${line} (aborted)` : line;
}
