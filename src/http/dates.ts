/**
 * HTTP-date (RFC 9110 §5.6.7): formatting as IMF-fixdate, and strict parsing of the
 * three formats a recipient must accept.
 *
 * The parser is positional and hand-written on purpose. `Date.parse` accepts almost
 * anything ("2024", "Feb 31 2024", local-time forms) and rolls invalid fields over, so
 * a garbled If-Modified-Since could silently turn into a real comparison; here
 * anything that is not exactly one of the three formats is `undefined`, and the
 * callers ignore it as RFC 9110 §13.1.3/§13.1.4 require.
 */

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const DAY_NAMES_LONG = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** The longest valid form is RFC 850 with "Wednesday" (33 chars); anything far longer is junk. */
const MAX_DATE_LENGTH = 64;
const MS_PER_DAY = 86_400_000;
/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what a 4-digit year can express. */
const MIN_MS = -62_167_219_200_000;
const MAX_MS = 253_402_300_799_000;

/** Floors to a whole second: HTTP dates have one-second resolution (RFC 9110 §5.6.7). */
export function toWholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/**
 * Formats `ms` (since the epoch) as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`,
 * the only format a sender may generate (RFC 9110 §5.6.7). Fractions of a second are
 * floored. Times outside years 0000–9999 are clamped to that range, since IMF-fixdate
 * has exactly four year digits; `Date.prototype.toUTCString` would emit `-000001` or
 * `10000` instead.
 * @throws RangeError when `ms` is not a finite number.
 */
export function formatHttpDate(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatHttpDate: not a finite time: ${ms}`);
  const d = new Date(Math.min(MAX_MS, Math.max(MIN_MS, toWholeSecond(ms))));
  const day = DAY_NAMES[d.getUTCDay()] ?? "Sun";
  const month = MONTHS[d.getUTCMonth()] ?? "Jan";
  return (
    `${day}, ${pad(d.getUTCDate(), 2)} ${month} ${pad(d.getUTCFullYear(), 4)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)} GMT`
  );
}

/**
 * Parses an HTTP-date in any of the formats of RFC 9110 §5.6.7 and returns ms since the
 * epoch, or `undefined` when `value` is not exactly one of them:
 *
 * - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
 * - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
 * - obsolete asctime: `Sun Nov  6 08:49:37 1994`
 *
 * HTTP-date is case-sensitive (§5.6.7) and so is this parser. Day, month and time are
 * range-checked (no 31 Feb, no 25:00:00); second 60, the leap second the ABNF allows,
 * counts as :00 of the next minute, as in POSIX time. The day name must be a real day
 * name but, as in Go's `time.Parse`, is not checked against the date: it carries no
 * information and clients that get it wrong still mean the date.
 *
 * @param nowMs the current time, used only for RFC 850's two-digit year: a year that
 *   would be more than 50 years in the future means the most recent past year with the
 *   same last two digits (§5.6.7). Injected so that tests do not depend on the clock.
 */
export function parseHttpDate(value: string, nowMs: number = Date.now()): number | undefined {
  if (value.length > MAX_DATE_LENGTH) return undefined;
  const comma = value.indexOf(",");
  if (comma === 3) return parseImfFixdate(value);
  if (comma > 3) return parseRfc850(value, comma, nowMs);
  if (comma === -1) return parseAsctime(value);
  return undefined;
}

/** `Sun, 06 Nov 1994 08:49:37 GMT`: fixed positions, 29 characters. */
function parseImfFixdate(s: string): number | undefined {
  if (s.length !== 29 || !isDayName(s.slice(0, 3))) return undefined;
  if (s.slice(3, 5) !== ", " || s[7] !== " " || s[11] !== " " || s[16] !== " ") return undefined;
  if (s.slice(25) !== " GMT") return undefined;
  return build(digits(s, 12, 4), monthIndex(s.slice(8, 11)), digits(s, 5, 2), s, 17);
}

/** `Sunday, 06-Nov-94 08:49:37 GMT`: the full day name, then 24 fixed characters (comma included). */
function parseRfc850(s: string, comma: number, nowMs: number): number | undefined {
  if (!DAY_NAMES_LONG.includes(s.slice(0, comma))) return undefined;
  const r = s.slice(comma + 1);
  if (r.length !== 23 || r[0] !== " " || r[3] !== "-" || r[7] !== "-" || r[10] !== " ") return undefined;
  if (r.slice(19) !== " GMT") return undefined;
  const month = monthIndex(r.slice(4, 7));
  const day = digits(r, 1, 2);
  const yy = digits(r, 8, 2);
  if (yy < 0 || month < 0 || day < 1) return undefined;
  // RFC 9110 §5.6.7: the year with these two last digits that is not more than 50 years
  // after now. Start a century ahead and step back while it is too far ahead. The
  // comparison uses the unvalidated date, so that 29-Feb-00 is not rejected for 2100
  // before 2000 (a leap year) is tried; the chosen year is validated by build().
  const now = new Date(nowMs);
  const limit = new Date(nowMs);
  limit.setUTCFullYear(now.getUTCFullYear() + 50);
  if (Number.isNaN(limit.getTime())) return undefined; // a clock outside Date's range
  let year = now.getUTCFullYear() - (now.getUTCFullYear() % 100) + 100 + yy;
  while (daysFromCivil(year, month + 1, day) * MS_PER_DAY > limit.getTime()) year -= 100;
  return build(year, month, day, r, 11);
}

/** `Sun Nov  6 08:49:37 1994`: fixed positions, 24 characters; the day may be space-padded. */
function parseAsctime(s: string): number | undefined {
  if (s.length !== 24 || !isDayName(s.slice(0, 3))) return undefined;
  if (s[3] !== " " || s[7] !== " " || s[10] !== " " || s[19] !== " ") return undefined;
  // date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
  const day = s[8] === " " ? digits(s, 9, 1) : digits(s, 8, 2);
  return build(digits(s, 20, 4), monthIndex(s.slice(4, 7)), day, s, 11);
}

/**
 * Validates the fields and the `HH:MM:SS` found at `s[at..at+8]`, and computes the time.
 * Negative arguments are the "not digits" results of {@link digits}/{@link monthIndex}.
 */
function build(year: number, month: number, day: number, s: string, at: number): number | undefined {
  if (s[at + 2] !== ":" || s[at + 5] !== ":") return undefined;
  const hour = digits(s, at, 2);
  const minute = digits(s, at + 3, 2);
  const second = digits(s, at + 6, 2);
  if (year < 0 || month < 0 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  return daysFromCivil(year, month + 1, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
}

/** The value of `count` ASCII digits at `s[at]`, or -1 if any of them is not a digit. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    n = n * 10 + c;
  }
  return n;
}

function monthIndex(name: string): number {
  return (MONTHS as readonly string[]).indexOf(name);
}

function isDayName(name: string): boolean {
  return (DAY_NAMES as readonly string[]).includes(name);
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (month 1–12), exact for any year.
 * Howard Hinnant's `days_from_civil`; avoids `Date.UTC`, which maps years 0–99 to 19xx.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * File times before this are not modification dates but placeholders that
 * reproducible builds write into every file: 0 (`ko`, `kaniko --reproducible`, a
 * tar made with `--mtime=@0`), 1 second (the Nix store), 1980-01-01 00:00:01
 * (Cloud Native Buildpacks, and the zip format's own epoch). Sent as
 * Last-Modified, such a date says nothing, survives every deploy unchanged (an
 * `If-Modified-Since` client never sees the new files: paketo-buildpacks/nginx
 * #447, NixOS/nixpkgs#25485) and lets a cache compute years of heuristic
 * freshness (RFC 9111 §4.2.2). A real date from `SOURCE_DATE_EPOCH` (a release
 * or commit date) is later and is kept. 1980-01-02 00:00:00 UTC.
 */
export const PLACEHOLDER_MTIME_BEFORE_MS = 315_619_200_000;

/**
 * The Last-Modified to send for a file modified at `mtimeMs`: the time itself, or
 * `undefined` for a placeholder ({@link PLACEHOLDER_MTIME_BEFORE_MS}); then no
 * Last-Modified is sent and preconditions use the ETag alone (RFC 9110 §13.1.3:
 * If-Modified-Since is ignored without a modification date).
 */
export function lastModifiedOf(mtimeMs: number): number | undefined {
  return mtimeMs < PLACEHOLDER_MTIME_BEFORE_MS ? undefined : mtimeMs;
}
