/**
 * The header parsers under generated input: Range, If-Match/If-None-Match,
 * HTTP dates and the preconditions built on them never throw, and what they
 * return is bounded by what they were given. Where a value is valid, the result
 * is checked against a reference written the obvious way.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { formatHttpDate, parseHttpDate, toWholeSecond } from "../../src/http/dates.js";
import { parseEntityTag, parseEntityTagList } from "../../src/http/etag.js";
import { evaluateIfRange, evaluatePreconditions } from "../../src/http/preconditions.js";
import { type ByteRange, COALESCE_GAP, evaluateRange } from "../../src/http/range.js";
import { anyDate, anyRange, anyTagList, entityTag, httpTime, type SpecModel, validRange, validTagList } from "./arbitraries.js";
import { runs } from "./settings.js";

const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
);
const maxRanges = fc.constantFrom(0, 1, 2, 5, 100, Number.POSITIVE_INFINITY);

/** The ranges the specs ask for, clamped to `size` and merged as RFC 9110 §15.3.7.2 allows. */
function referenceRanges(specs: readonly SpecModel[], size: number): ByteRange[] {
  const wanted: ByteRange[] = [];
  for (const s of specs) {
    if (s.kind === "suffix") {
      if (s.length > 0) wanted.push({ start: Math.max(0, size - s.length), end: size });
    } else if (s.first < size) {
      wanted.push({ start: s.first, end: s.last === undefined ? size : Math.min(size, s.last + 1) });
    }
  }
  wanted.sort((a, b) => a.start - b.start);
  const merged: ByteRange[] = [];
  for (const r of wanted) {
    const last = merged.at(-1);
    if (last !== undefined && r.start - last.end < COALESCE_GAP)
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else merged.push(r);
  }
  return merged;
}

describe("Range", () => {
  test("never throws; a partial answer is 1..maxRanges sorted, disjoint ranges within the size", () => {
    fc.assert(
      fc.property(anyRange, size, maxRanges, (header, n, max) => {
        const outcome = evaluateRange(header, n, { maxRanges: max });
        const where = `${JSON.stringify(header.slice(0, 80))} size ${n} max ${max}`;
        if (outcome.kind !== "partial") {
          assert.ok(outcome.kind === "full" || outcome.kind === "unsatisfiable", where);
          if (outcome.kind === "unsatisfiable") assert.ok(n > 0, `${where}: 416 for an empty file`);
          return;
        }
        const { ranges } = outcome;
        assert.ok(ranges.length >= 1 && ranges.length <= max, `${where}: ${ranges.length} ranges`);
        let total = 0;
        let previousEnd = -Infinity;
        for (const r of ranges) {
          assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end), `${where}: ${JSON.stringify(r)}`);
          assert.ok(r.start >= 0 && r.start < r.end && r.end <= n, `${where}: ${JSON.stringify(r)} outside 0..${n}`);
          // Sorted and at least COALESCE_GAP apart: closer ranges must have been merged.
          assert.ok(r.start - previousEnd >= COALESCE_GAP, `${where}: ${JSON.stringify(ranges)} not coalesced`);
          previousEnd = r.end;
          total += r.end - r.start;
        }
        assert.ok(total <= n, `${where}: ${total} bytes of a ${n}-byte file`);
      }),
      runs(3000),
    );
  });

  test("a valid header gets exactly the requested bytes, merged (reference model)", () => {
    fc.assert(
      fc.property(validRange, size, maxRanges, ({ header, specs }, n, max) => {
        const got = evaluateRange(header, n, { maxRanges: max });
        const where = `${JSON.stringify(header)} size ${n} max ${max}`;
        if (n === 0 || specs.length > max) return assert.deepEqual(got, { kind: "full" }, where);
        const want = referenceRanges(specs, n);
        if (want.length === 0) return assert.deepEqual(got, { kind: "unsatisfiable" }, where);
        assert.deepEqual(got, { kind: "partial", ranges: want }, where);
      }),
      runs(3000),
    );
  });

  test("numbers past 2^53 are larger than any file: a huge first-pos is 416, a huge last-pos or suffix the whole file", () => {
    // Digits a double cannot hold exactly, with optional leading zeros (issue 10 item 14).
    const huge = fc
      .tuple(fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) + 1n, max: 10n ** 400n }), fc.nat({ max: 3 }))
      .map(([n, zeros]) => "0".repeat(zeros) + n.toString());
    const whole = (n: number) => ({ kind: "partial", ranges: [{ start: 0, end: n }] });
    fc.assert(
      fc.property(huge, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 2000 }), (digits, n, first) => {
        const at = (header: string) => `${header.slice(0, 60)} size ${n}`;
        assert.deepEqual(evaluateRange(`bytes=${digits}-`, n), { kind: "unsatisfiable" }, at(`bytes=${digits}-`));
        assert.deepEqual(evaluateRange(`bytes=${digits}-${digits}`, n), { kind: "unsatisfiable" }, at(`bytes=${digits}-${digits}`));
        assert.deepEqual(evaluateRange(`bytes=-${digits}`, n), whole(n), at(`bytes=-${digits}`));
        const open = evaluateRange(`bytes=${first}-${digits}`, n);
        assert.deepEqual(
          open,
          first < n ? { kind: "partial", ranges: [{ start: first, end: n }] } : { kind: "unsatisfiable" },
          at(`bytes=${first}-${digits}`),
        );
      }),
      runs(500),
    );
  });

  test("a header with more specs than the limit is refused whatever follows (the rest is never read)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.string({ unit: "binary", maxLength: 50 }), (max, tail) => {
        const header = `bytes=${"0-0,".repeat(max + 1)}${tail}`;
        assert.deepEqual(evaluateRange(header, 100, { maxRanges: max }), { kind: "full" }, JSON.stringify(header));
      }),
      runs(500),
    );
  });
});

describe("If-Match / If-None-Match lists", () => {
  test("never throw; every tag is a well-formed entity-tag found in the input, in order", () => {
    fc.assert(
      fc.property(anyTagList, (value) => {
        const list = parseEntityTagList(value);
        if (list.kind === "any") return assert.equal(value.replace(/^[ \t]+|[ \t]+$/g, ""), "*");
        let at = 0;
        for (const tag of list.tags) {
          const text = `${tag.weak ? "W/" : ""}${tag.opaque}`;
          assert.deepEqual(parseEntityTag(text), tag, `${JSON.stringify(value)}: ${JSON.stringify(text)} is not one tag`);
          const found = value.indexOf(text, at);
          assert.ok(found >= 0, `${JSON.stringify(value)}: ${JSON.stringify(text)} not found after ${at}`);
          at = found + text.length;
        }
        // Each tag takes at least its two quotes.
        assert.ok(list.tags.length <= value.length / 2, JSON.stringify(value));
      }),
      runs(1000),
    );
  });

  test("a valid list parses back to exactly its tags", () => {
    fc.assert(
      fc.property(validTagList, ({ header, tags }) => {
        assert.deepEqual(parseEntityTagList(header), { kind: "tags", tags }, JSON.stringify(header));
      }),
      runs(2000),
    );
  });
});

describe("HTTP dates", () => {
  test("never throw; a result is a whole second within years 0000-9999", () => {
    fc.assert(
      fc.property(anyDate, fc.integer({ min: 0, max: 4_102_444_800_000 }), (value, now) => {
        const ms = parseHttpDate(value, now);
        if (ms === undefined) return;
        assert.ok(Number.isSafeInteger(ms) && ms % 1000 === 0, `${JSON.stringify(value)} -> ${ms}`);
        assert.ok(ms >= -62_167_219_200_000 && ms <= 253_402_300_800_000, `${JSON.stringify(value)} -> ${ms}`);
      }),
      runs(3000),
    );
  });

  test("formatting then parsing gives the same second, in all three formats", () => {
    fc.assert(
      fc.property(httpTime, (ms) => {
        const imf = formatHttpDate(ms);
        assert.equal(parseHttpDate(imf), toWholeSecond(ms), imf);
        const d = new Date(toWholeSecond(ms));
        const [day, dd, mon, yyyy, time] = imf.replace(",", "").split(" ") as [string, string, string, string, string];
        const asctime = `${day} ${mon} ${String(d.getUTCDate()).padStart(2, " ")} ${time} ${yyyy}`;
        assert.equal(parseHttpDate(asctime), toWholeSecond(ms), asctime);
        // RFC 850 has a two-digit year: parsed relative to a "now" in the same year it names.
        const long = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][d.getUTCDay()]!;
        const rfc850 = `${long}, ${dd}-${mon}-${yyyy.slice(2)} ${time} GMT`;
        if (d.getUTCFullYear() >= 1000) assert.equal(parseHttpDate(rfc850, toWholeSecond(ms)), toWholeSecond(ms), rfc850);
      }),
      runs(2000),
    );
  });

  test("anything longer than the longest date is refused without being read", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 65, maxLength: 300 }), (value) => {
        assert.equal(parseHttpDate(`Sun, 06 Nov 1994 08:49:37 GMT${value}`), undefined);
      }),
      runs(300),
    );
  });
});

describe("preconditions over generated headers", () => {
  const header = fc.option(fc.oneof(anyTagList, anyDate), { nil: undefined });
  const validators = fc.record({
    etag: fc.option(entityTag, { nil: undefined }),
    lastModifiedMs: fc.option(httpTime, { nil: undefined }),
  });
  test("evaluatePreconditions and evaluateIfRange never throw and return a known outcome", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "HEAD", "PUT"),
        header,
        header,
        header,
        header,
        header,
        validators,
        (method, im, inm, ims, ius, ir, v) => {
          const headers: Record<string, string | undefined> = {
            "if-match": im,
            "if-none-match": inm,
            "if-modified-since": ims,
            "if-unmodified-since": ius,
          };
          const outcome = evaluatePreconditions(method, (n) => headers[n], v);
          assert.ok(["proceed", "not-modified", "precondition-failed"].includes(outcome.kind));
          if (outcome.kind === "not-modified") assert.notEqual(method, "PUT");
          assert.ok(["apply-range", "send-full"].includes(evaluateIfRange(ir, v).kind));
        },
      ),
      runs(2000),
    );
  });
});
