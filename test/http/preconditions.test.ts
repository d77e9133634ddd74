import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IfRangeOutcome, PreconditionOutcome, Validators } from "../../src/http/preconditions.js";
import { evaluateIfRange, evaluatePreconditions } from "../../src/http/preconditions.js";

const ETAG = { weak: false, opaque: '"abc"' } as const;
const WEAK_ETAG = { weak: true, opaque: '"abc"' } as const;
/** 2024-01-01 12:00:00.700 UTC: the 700 ms must not matter, HTTP dates have 1 s resolution. */
const LAST_MODIFIED = Date.UTC(2024, 0, 1, 12, 0, 0) + 700;
const AT = "Mon, 01 Jan 2024 12:00:00 GMT";
const BEFORE = "Mon, 01 Jan 2024 11:59:59 GMT";
const AFTER = "Mon, 01 Jan 2024 12:00:01 GMT";

const BOTH: Validators = { etag: ETAG, lastModifiedMs: LAST_MODIFIED };
const WEAK: Validators = { etag: WEAK_ETAG, lastModifiedMs: LAST_MODIFIED };
const NO_ETAG: Validators = { etag: undefined, lastModifiedMs: LAST_MODIFIED };
const NO_DATE: Validators = { etag: ETAG, lastModifiedMs: undefined };
/** A large file's content tag, and the size-and-mtime tag it was sent with before its hash was known. */
const FORMER: Validators = { etag: ETAG, lastModifiedMs: LAST_MODIFIED, formerEtag: { weak: false, opaque: '"4001000-19e807aec00"' } };

const PROCEED = "proceed";
const NOT_MODIFIED = "not-modified";
const FAILED = "precondition-failed";
const SAFE = ["GET", "HEAD"] as const;
const UNSAFE = ["POST", "PUT", "DELETE"] as const;

interface Row {
  readonly name: string;
  readonly methods?: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly validators?: Validators;
  readonly want: PreconditionOutcome["kind"];
}

const rows: readonly Row[] = [
  { name: "no conditional headers", headers: {}, want: PROCEED },
  { name: "no conditional headers, POST", methods: UNSAFE, headers: {}, want: PROCEED },

  // Step 1: If-Match, strong comparison (RFC 9110 §13.1.1).
  { name: "If-Match matches", headers: { "if-match": '"abc"' }, want: PROCEED },
  { name: "If-Match does not match", headers: { "if-match": '"xyz"' }, want: FAILED },
  { name: "If-Match does not match, PUT", methods: UNSAFE, headers: { "if-match": '"xyz"' }, want: FAILED },
  { name: "If-Match list with a match", headers: { "if-match": '"xyz", "abc"' }, want: PROCEED },
  { name: "If-Match *", headers: { "if-match": "*" }, want: PROCEED },
  { name: "If-Match * without an ETag", headers: { "if-match": "*" }, validators: NO_ETAG, want: PROCEED },
  { name: "If-Match weak tag never matches", headers: { "if-match": 'W/"abc"' }, want: FAILED },
  { name: "If-Match against a weak ETag never matches", headers: { "if-match": '"abc"' }, validators: WEAK, want: FAILED },
  { name: "If-Match without an ETag", headers: { "if-match": '"abc"' }, validators: NO_ETAG, want: FAILED },
  { name: "If-Match malformed (unquoted)", headers: { "if-match": "abc" }, want: FAILED },
  { name: "If-Match empty is treated as absent", headers: { "if-match": " " }, want: PROCEED },
  { name: "If-Match matches, If-Unmodified-Since ignored", headers: { "if-match": '"abc"', "if-unmodified-since": BEFORE }, want: PROCEED },
  { name: "If-Match fails before If-None-Match is looked at", headers: { "if-match": '"xyz"', "if-none-match": '"abc"' }, want: FAILED },
  { name: "If-Match passes, then If-None-Match matches", headers: { "if-match": '"abc"', "if-none-match": '"abc"' }, want: NOT_MODIFIED },

  // Step 2: If-Unmodified-Since, only without If-Match (RFC 9110 §13.1.4).
  { name: "If-Unmodified-Since equal (fraction ignored)", headers: { "if-unmodified-since": AT }, want: PROCEED },
  { name: "If-Unmodified-Since after", headers: { "if-unmodified-since": AFTER }, want: PROCEED },
  { name: "If-Unmodified-Since before", headers: { "if-unmodified-since": BEFORE }, want: FAILED },
  { name: "If-Unmodified-Since before, DELETE", methods: UNSAFE, headers: { "if-unmodified-since": BEFORE }, want: FAILED },
  { name: "If-Unmodified-Since unparseable is ignored", headers: { "if-unmodified-since": "yesterday" }, want: PROCEED },
  {
    name: "If-Unmodified-Since without Last-Modified is ignored",
    headers: { "if-unmodified-since": BEFORE },
    validators: NO_DATE,
    want: PROCEED,
  },
  {
    name: "If-Unmodified-Since fails before If-None-Match",
    headers: { "if-unmodified-since": BEFORE, "if-none-match": '"abc"' },
    want: FAILED,
  },

  // Step 3: If-None-Match, weak comparison (RFC 9110 §13.1.2).
  { name: "If-None-Match matches", headers: { "if-none-match": '"abc"' }, want: NOT_MODIFIED },
  { name: "If-None-Match weak tag matches weakly", headers: { "if-none-match": 'W/"abc"' }, want: NOT_MODIFIED },
  { name: "If-None-Match against a weak ETag", headers: { "if-none-match": '"abc"' }, validators: WEAK, want: NOT_MODIFIED },
  // Deno's ifNoneMatch() was inverted: a tag that does NOT match must send the body.
  { name: "If-None-Match does not match", headers: { "if-none-match": '"xyz"' }, want: PROCEED },
  { name: "If-None-Match list with a match", headers: { "if-none-match": '"xyz", W/"abc"' }, want: NOT_MODIFIED },
  { name: "If-None-Match list without a match", headers: { "if-none-match": '"x", "y", W/"z"' }, want: PROCEED },
  { name: "If-None-Match *", headers: { "if-none-match": "*" }, want: NOT_MODIFIED },
  { name: "If-None-Match * without an ETag", headers: { "if-none-match": "*" }, validators: NO_ETAG, want: NOT_MODIFIED },
  { name: "If-None-Match without an ETag", headers: { "if-none-match": '"abc"' }, validators: NO_ETAG, want: PROCEED },
  { name: "If-None-Match matches, POST -> 412", methods: UNSAFE, headers: { "if-none-match": '"abc"' }, want: FAILED },
  { name: "If-None-Match *, PUT -> 412", methods: UNSAFE, headers: { "if-none-match": "*" }, want: FAILED },
  { name: "If-None-Match does not match, POST", methods: UNSAFE, headers: { "if-none-match": '"xyz"' }, want: PROCEED },
  {
    name: "If-None-Match matches, If-Modified-Since says modified",
    headers: { "if-none-match": '"abc"', "if-modified-since": BEFORE },
    want: NOT_MODIFIED,
  },
  // RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present.
  {
    name: "If-Modified-Since ignored with If-None-Match present",
    headers: { "if-none-match": '"xyz"', "if-modified-since": AFTER },
    want: PROCEED,
  },
  {
    name: "malformed If-None-Match still overrides If-Modified-Since",
    headers: { "if-none-match": "abc", "if-modified-since": AFTER },
    want: PROCEED,
  },
  { name: "empty If-None-Match is treated as absent", headers: { "if-none-match": "", "if-modified-since": AFTER }, want: NOT_MODIFIED },

  // Step 4: If-Modified-Since, GET/HEAD only (RFC 9110 §13.1.3).
  { name: "If-Modified-Since equal (fraction ignored)", headers: { "if-modified-since": AT }, want: NOT_MODIFIED },
  { name: "If-Modified-Since after", headers: { "if-modified-since": AFTER }, want: NOT_MODIFIED },
  { name: "If-Modified-Since before", headers: { "if-modified-since": BEFORE }, want: PROCEED },
  { name: "If-Modified-Since in RFC 850 format", headers: { "if-modified-since": "Monday, 01-Jan-24 12:00:00 GMT" }, want: NOT_MODIFIED },
  { name: "If-Modified-Since in asctime format", headers: { "if-modified-since": "Mon Jan  1 12:00:00 2024" }, want: NOT_MODIFIED },
  { name: "If-Modified-Since unparseable is ignored", headers: { "if-modified-since": "yesterday" }, want: PROCEED },
  { name: "If-Modified-Since invalid date is ignored", headers: { "if-modified-since": "Mon, 31 Feb 2099 12:00:00 GMT" }, want: PROCEED },
  { name: "If-Modified-Since twice (joined) is ignored", headers: { "if-modified-since": `${AFTER}, ${AFTER}` }, want: PROCEED },
  {
    name: "If-Modified-Since without Last-Modified is ignored",
    headers: { "if-modified-since": AFTER },
    validators: NO_DATE,
    want: PROCEED,
  },
  { name: "If-Modified-Since ignored for POST", methods: UNSAFE, headers: { "if-modified-since": AFTER }, want: PROCEED },
  {
    name: "If-Modified-Since ignored for lower-case get (methods are case-sensitive)",
    methods: ["get"],
    headers: { "if-modified-since": AFTER },
    want: PROCEED,
  },
  {
    name: "If-None-Match with the former tag: 304",
    headers: { "if-none-match": '"4001000-19e807aec00"' },
    validators: FORMER,
    want: NOT_MODIFIED,
  },
  {
    name: "If-None-Match with the current tag, a former one known: 304",
    headers: { "if-none-match": '"abc"' },
    validators: FORMER,
    want: NOT_MODIFIED,
  },
  {
    name: "If-None-Match with another tag, a former one known: proceed",
    headers: { "if-none-match": '"4001000-0"' },
    validators: FORMER,
    want: PROCEED,
  },
  {
    name: "If-Match with the former tag holds",
    methods: UNSAFE,
    headers: { "if-match": '"4001000-19e807aec00"' },
    validators: FORMER,
    want: PROCEED,
  },
  {
    name: "If-Match with the former tag, weak: 412",
    methods: UNSAFE,
    headers: { "if-match": 'W/"4001000-19e807aec00"' },
    validators: FORMER,
    want: FAILED,
  },
];

describe("evaluatePreconditions", () => {
  for (const row of rows) {
    for (const method of row.methods ?? SAFE) {
      test(`${method} ${row.name}`, () => {
        const header = (name: string): string | undefined => {
          assert.equal(name, name.toLowerCase(), `header(${name}) asked with a non-lower-case name`);
          return row.headers[name];
        };
        const got = evaluatePreconditions(method, header, row.validators ?? BOTH).kind;
        assert.equal(got, row.want, `${method} ${JSON.stringify(row.headers)}: got ${got}, want ${row.want}`);
      });
    }
  }
});

describe("evaluateIfRange", () => {
  const APPLY = "apply-range";
  const FULL = "send-full";
  const ifRangeRows: { name: string; input: string | undefined; validators?: Validators; want: IfRangeOutcome["kind"] }[] = [
    { name: "absent", input: undefined, want: APPLY },
    { name: "absent, no validators", input: undefined, validators: { etag: undefined, lastModifiedMs: undefined }, want: APPLY },
    { name: "strong tag matches", input: '"abc"', want: APPLY },
    { name: "strong tag with OWS", input: ' "abc" ', want: APPLY },
    { name: "strong tag differs", input: '"xyz"', want: FULL },
    { name: "weak tag never matches", input: 'W/"abc"', want: FULL },
    { name: "weak current ETag never matches", input: '"abc"', validators: WEAK, want: FULL },
    { name: "weak tag against weak ETag", input: 'W/"abc"', validators: WEAK, want: FULL },
    { name: "tag without a current ETag", input: '"abc"', validators: NO_ETAG, want: FULL },
    { name: "a list is not an entity-tag", input: '"abc", "xyz"', want: FULL },
    { name: "star is not an entity-tag", input: "*", want: FULL },
    { name: "unterminated tag", input: '"abc', want: FULL },
    { name: "date equals Last-Modified (fraction ignored)", input: AT, want: APPLY },
    { name: "date in RFC 850 format", input: "Monday, 01-Jan-24 12:00:00 GMT", want: APPLY },
    { name: "date after Last-Modified", input: AFTER, want: FULL },
    { name: "date before Last-Modified", input: BEFORE, want: FULL },
    { name: "date without Last-Modified", input: AT, validators: NO_DATE, want: FULL },
    { name: "unparseable", input: "yesterday", want: FULL },
    { name: "empty", input: "", want: FULL },
    { name: "the former tag of the same bytes still resumes", input: '"4001000-19e807aec00"', validators: FORMER, want: APPLY },
    { name: "the current tag, a former one known", input: '"abc"', validators: FORMER, want: APPLY },
    { name: "another size-and-mtime tag", input: '"4001000-19e807aec01"', validators: FORMER, want: FULL },
    { name: "the former tag, weak", input: 'W/"4001000-19e807aec00"', validators: FORMER, want: FULL },
  ];
  for (const row of ifRangeRows) {
    test(row.name, () => {
      const got = evaluateIfRange(row.input, row.validators ?? BOTH).kind;
      assert.equal(got, row.want, `evaluateIfRange(${JSON.stringify(row.input)}): got ${got}, want ${row.want}`);
    });
  }
});
