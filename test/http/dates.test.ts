import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatHttpDate, parseHttpDate, toWholeSecond } from "../../src/http/dates.js";

/** The RFC 9110 §5.6.7 example instant: Sun, 06 Nov 1994 08:49:37 GMT. */
const RFC_EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37);
/** A fixed "now" for the RFC 850 two-digit-year rule. */
const NOW = Date.UTC(2025, 5, 1);
/** Date.UTC maps years 0-99 to 19xx; setUTCFullYear does not. */
function utcFull(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month, day);
}
const YEAR_0 = utcFull(0, 0, 1);

describe("formatHttpDate", () => {
  const rows: { name: string; ms: number; want: string }[] = [
    { name: "RFC 9110 example", ms: RFC_EXAMPLE, want: "Sun, 06 Nov 1994 08:49:37 GMT" },
    { name: "fraction floored, not rounded", ms: RFC_EXAMPLE + 999, want: "Sun, 06 Nov 1994 08:49:37 GMT" },
    { name: "epoch", ms: 0, want: "Thu, 01 Jan 1970 00:00:00 GMT" },
    { name: "just before the epoch floors down", ms: -1, want: "Wed, 31 Dec 1969 23:59:59 GMT" },
    { name: "leap day", ms: Date.UTC(2024, 1, 29, 23, 5, 9), want: "Thu, 29 Feb 2024 23:05:09 GMT" },
    { name: "single-digit fields padded", ms: Date.UTC(2001, 0, 2, 3, 4, 5), want: "Tue, 02 Jan 2001 03:04:05 GMT" },
    { name: "year 0 keeps four digits", ms: YEAR_0, want: "Sat, 01 Jan 0000 00:00:00 GMT" },
    { name: "before year 0 clamps", ms: YEAR_0 - 86_400_000, want: "Sat, 01 Jan 0000 00:00:00 GMT" },
    { name: "after year 9999 clamps", ms: Date.UTC(10000, 0, 1), want: "Fri, 31 Dec 9999 23:59:59 GMT" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = formatHttpDate(row.ms);
      assert.equal(got, row.want, `formatHttpDate(${row.ms}): got ${got}, want ${row.want}`);
    });
  }

  for (const ms of [Number.NaN, Number.POSITIVE_INFINITY]) {
    test(`throws on ${ms}`, () => {
      assert.throws(() => formatHttpDate(ms), RangeError, `formatHttpDate(${ms}) should throw`);
    });
  }
});

describe("parseHttpDate", () => {
  const rows: { name: string; input: string; want: number | undefined }[] = [
    // The three formats of RFC 9110 §5.6.7, all naming the same instant.
    { name: "IMF-fixdate", input: "Sun, 06 Nov 1994 08:49:37 GMT", want: RFC_EXAMPLE },
    { name: "RFC 850", input: "Sunday, 06-Nov-94 08:49:37 GMT", want: RFC_EXAMPLE },
    { name: "asctime, space-padded day", input: "Sun Nov  6 08:49:37 1994", want: RFC_EXAMPLE },
    { name: "asctime, zero-padded day", input: "Sun Nov 06 08:49:37 1994", want: RFC_EXAMPLE },
    { name: "asctime, two-digit day", input: "Wed Nov 16 08:49:37 1994", want: Date.UTC(1994, 10, 16, 8, 49, 37) },
    { name: "epoch", input: "Thu, 01 Jan 1970 00:00:00 GMT", want: 0 },
    { name: "before the epoch", input: "Wed, 31 Dec 1969 23:59:59 GMT", want: -1000 },
    { name: "year 0000 is not read as 1900", input: "Sat, 01 Jan 0000 00:00:00 GMT", want: YEAR_0 },
    { name: "year 0099 is not read as 1999", input: "Thu, 31 Dec 0099 00:00:00 GMT", want: utcFull(99, 11, 31) },
    { name: "last representable second", input: "Fri, 31 Dec 9999 23:59:59 GMT", want: 253_402_300_799_000 },
    { name: "leap day 2024", input: "Thu, 29 Feb 2024 00:00:00 GMT", want: Date.UTC(2024, 1, 29) },
    { name: "leap day 2000 (divisible by 400)", input: "Tue, 29 Feb 2000 00:00:00 GMT", want: Date.UTC(2000, 1, 29) },
    { name: "leap second rolls to the next minute", input: "Wed, 31 Dec 2008 23:59:60 GMT", want: Date.UTC(2009, 0, 1) },
    // The day name is checked for syntax but not against the date (as Go does).
    { name: "wrong but valid day name accepted", input: "Mon, 06 Nov 1994 08:49:37 GMT", want: RFC_EXAMPLE },

    // RFC 850's two-digit year, with now = 2025-06-01: at most 50 years ahead.
    { name: "RFC 850 year 75 -> 2075 (within 50 years)", input: "Tuesday, 01-Jan-75 00:00:00 GMT", want: Date.UTC(2075, 0, 1) },
    { name: "RFC 850 year 76 -> 1976", input: "Thursday, 01-Jan-76 00:00:00 GMT", want: Date.UTC(1976, 0, 1) },
    { name: "RFC 850 late in 2075 -> 1975", input: "Thursday, 06-Nov-75 00:00:00 GMT", want: Date.UTC(1975, 10, 6) },
    { name: "RFC 850 year 25 -> 2025", input: "Sunday, 01-Jun-25 00:00:00 GMT", want: NOW },
    { name: "RFC 850 29-Feb-00 -> 2000, a leap year", input: "Tuesday, 29-Feb-00 00:00:00 GMT", want: Date.UTC(2000, 1, 29) },
    { name: "RFC 850 Wednesday (longest name)", input: "Wednesday, 09-Nov-94 08:49:37 GMT", want: Date.UTC(1994, 10, 9, 8, 49, 37) },

    // Invalid values, which Date.parse would have rolled over or accepted.
    { name: "31 Feb", input: "Sat, 31 Feb 2024 00:00:00 GMT", want: undefined },
    { name: "31 Apr", input: "Wed, 31 Apr 2024 00:00:00 GMT", want: undefined },
    { name: "29 Feb in a common year", input: "Wed, 29 Feb 2023 00:00:00 GMT", want: undefined },
    { name: "29 Feb 1900 (divisible by 100)", input: "Thu, 29 Feb 1900 00:00:00 GMT", want: undefined },
    { name: "day 00", input: "Sun, 00 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "day 32", input: "Sun, 32 Dec 1994 08:49:37 GMT", want: undefined },
    { name: "hour 24", input: "Sun, 06 Nov 1994 24:00:00 GMT", want: undefined },
    { name: "hour 25", input: "Sun, 06 Nov 1994 25:00:00 GMT", want: undefined },
    { name: "minute 60", input: "Sun, 06 Nov 1994 08:60:37 GMT", want: undefined },
    { name: "second 61", input: "Sun, 06 Nov 1994 08:49:61 GMT", want: undefined },
    { name: "asctime 31 Feb", input: "Sat Feb 31 00:00:00 2024", want: undefined },
    { name: "RFC 850 31-Jun", input: "Sunday, 31-Jun-25 00:00:00 GMT", want: undefined },

    // Anything that is not exactly one of the three formats.
    { name: "empty", input: "", want: undefined },
    { name: "a number", input: "784111777", want: undefined },
    { name: "ISO 8601", input: "1994-11-06T08:49:37Z", want: undefined },
    { name: "Date.parse-style", input: "Nov 6 1994", want: undefined },
    { name: "lower-case gmt (HTTP-date is case-sensitive)", input: "Sun, 06 Nov 1994 08:49:37 gmt", want: undefined },
    { name: "lower-case month", input: "Sun, 06 nov 1994 08:49:37 GMT", want: undefined },
    { name: "lower-case day name", input: "sun, 06 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "UTC instead of GMT", input: "Sun, 06 Nov 1994 08:49:37 UTC", want: undefined },
    { name: "numeric zone", input: "Sun, 06 Nov 1994 08:49:37 +0000", want: undefined },
    { name: "unknown day name", input: "Sux, 06 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "unknown month", input: "Sun, 06 Noe 1994 08:49:37 GMT", want: undefined },
    { name: "one-digit day in IMF-fixdate", input: "Sun, 6 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "two-digit year in IMF-fixdate", input: "Sun, 06 Nov 94 08:49:37 GMT", want: undefined },
    { name: "leading space", input: " Sun, 06 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "trailing space", input: "Sun, 06 Nov 1994 08:49:37 GMT ", want: undefined },
    { name: "double space", input: "Sun,  06 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "signed digits", input: "Sun, +6 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "time without seconds", input: "Sun, 06 Nov 1994 08:49 GMT", want: undefined },
    { name: "time with dots", input: "Sun, 06 Nov 1994 08.49.37 GMT", want: undefined },
    { name: "joined duplicate field", input: "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "RFC 850 with short day name", input: "Sun, 06-Nov-94 08:49:37 GMT", want: undefined },
    { name: "RFC 850 with four-digit year", input: "Sunday, 06-Nov-1994 08:49:37 GMT", want: undefined },
    { name: "RFC 850 with long day name in IMF layout", input: "Sunday, 06 Nov 1994 08:49:37 GMT", want: undefined },
    { name: "asctime with one space before one-digit day", input: "Sun Nov 6 08:49:37 1994", want: undefined },
    { name: "asctime with a zone", input: "Sun Nov  6 08:49:37 1994 GMT", want: undefined },
    { name: "asctime with a comma", input: "Sun, Nov  6 08:49:37 1994", want: undefined },
    { name: "over 64 chars", input: `Sun, 06 Nov 1994 08:49:37 GMT${" ".repeat(40)}`, want: undefined },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = parseHttpDate(row.input, NOW);
      assert.equal(got, row.want, `parseHttpDate(${JSON.stringify(row.input)}): got ${got}, want ${row.want}`);
    });
  }

  test("a huge input is rejected", () => {
    const input = `Sun, 06 Nov 1994 08:49:37 GMT${",".repeat(1_000_000)}`;
    const got = parseHttpDate(input, NOW);
    assert.equal(got, undefined, `got ${got}, want undefined`);
  });

  test("defaults now to the clock (RFC 850 year 94 is 1994 today)", () => {
    const got = parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT");
    assert.equal(got, RFC_EXAMPLE, `got ${got}, want ${RFC_EXAMPLE}`);
  });

  test("round-trips formatHttpDate at whole seconds", () => {
    for (const ms of [0, RFC_EXAMPLE + 123, Date.UTC(2038, 0, 19, 3, 14, 8), -86_400_001, 253_402_300_799_000]) {
      const text = formatHttpDate(ms);
      const got = parseHttpDate(text, NOW);
      assert.equal(got, toWholeSecond(ms), `parseHttpDate(formatHttpDate(${ms}) = ${text}): got ${got}, want ${toWholeSecond(ms)}`);
    }
  });
});

describe("toWholeSecond", () => {
  const rows: { name: string; ms: number; want: number }[] = [
    { name: "already whole", ms: 5000, want: 5000 },
    { name: "floors up to 999 ms", ms: 5999, want: 5000 },
    { name: "zero", ms: 0, want: 0 },
    { name: "negative floors away from zero", ms: -1, want: -1000 },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = toWholeSecond(row.ms);
      assert.equal(got, row.want, `toWholeSecond(${row.ms}): got ${got}, want ${row.want}`);
    });
  }
});
