import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ByteRange, RangeOutcome } from "../../src/http/range.js";
import { COALESCE_GAP, evaluateRange, formatContentRange, formatUnsatisfiedRange } from "../../src/http/range.js";

const FULL: RangeOutcome = { kind: "full" };
const UNSATISFIABLE: RangeOutcome = { kind: "unsatisfiable" };
/** Ranges written as `[first, last]` INCLUSIVE, like the header, to keep rows readable. */
const partial = (...r: [number, number][]): RangeOutcome => ({
  kind: "partial",
  ranges: r.map(([first, last]) => ({ start: first, end: last + 1 })),
});
const specs = (n: number, spec: (i: number) => string): string => `bytes=${Array.from({ length: n }, (_, i) => spec(i)).join(",")}`;

describe("evaluateRange", () => {
  const rows: { name: string; header: string | undefined; size: number; maxRanges?: number; want: RangeOutcome }[] = [
    { name: "absent", header: undefined, size: 1000, want: FULL },

    // RFC 9110 §14.1.2 examples, on a 10000-byte representation.
    { name: "RFC: first 500 bytes", header: "bytes=0-499", size: 10000, want: partial([0, 499]) },
    { name: "RFC: second 500 bytes", header: "bytes=500-999", size: 10000, want: partial([500, 999]) },
    { name: "RFC: final 500 bytes (suffix)", header: "bytes=-500", size: 10000, want: partial([9500, 9999]) },
    { name: "RFC: final 500 bytes (open)", header: "bytes=9500-", size: 10000, want: partial([9500, 9999]) },
    { name: "RFC: first and last bytes", header: "bytes=0-0,-1", size: 10000, want: partial([0, 0], [9999, 9999]) },

    // sirv read these wrong.
    { name: "0-0 is ONE byte, not the whole file", header: "bytes=0-0", size: 1000, want: partial([0, 0]) },
    { name: "-500 is the LAST 500 bytes, not 0-500", header: "bytes=-500", size: 1000, want: partial([500, 999]) },

    { name: "open range from 0", header: "bytes=0-", size: 1000, want: partial([0, 999]) },
    { name: "last byte", header: "bytes=999-999", size: 1000, want: partial([999, 999]) },
    { name: "last-pos past the end is clamped", header: "bytes=900-2000", size: 1000, want: partial([900, 999]) },
    { name: "suffix longer than the file is the whole file", header: "bytes=-2000", size: 1000, want: partial([0, 999]) },
    { name: "unit is case-insensitive", header: "BYTES=0-1", size: 1000, want: partial([0, 1]) },
    { name: "unit is case-insensitive (mixed)", header: "Bytes=0-1", size: 1000, want: partial([0, 1]) },
    { name: "leading zeros", header: "bytes=000000000000000000000001-2", size: 1000, want: partial([1, 2]) },
    { name: "largest safe integer as last-pos", header: "bytes=0-9007199254740991", size: 1000, want: partial([0, 999]) },

    // Unsatisfiable (RFC 9110 §14.1.1): dropped; none left -> 416.
    { name: "first-pos at the size", header: "bytes=1000-1000", size: 1000, want: UNSATISFIABLE },
    { name: "open range at the size", header: "bytes=1000-", size: 1000, want: UNSATISFIABLE },
    { name: "far past the end", header: "bytes=5000-6000", size: 1000, want: UNSATISFIABLE },
    { name: "suffix of zero", header: "bytes=-0", size: 1000, want: UNSATISFIABLE },
    { name: "all unsatisfiable", header: "bytes=1000-,-0,2000-3000", size: 1000, want: UNSATISFIABLE },
    { name: "unsatisfiable dropped, satisfiable kept", header: "bytes=1000-,0-1,-0", size: 1000, want: partial([0, 1]) },

    // An empty representation: 200 with an empty body, never 206 or 416.
    { name: "size 0, 0-0", header: "bytes=0-0", size: 0, want: FULL },
    { name: "size 0, suffix", header: "bytes=-1", size: 0, want: FULL },
    { name: "size 0, open", header: "bytes=0-", size: 0, want: FULL },

    // Other units and invalid specifiers: the header is ignored.
    { name: "other unit", header: "items=0-1", size: 1000, want: FULL },
    { name: "unit with a suffix", header: "bytesx=0-1", size: 1000, want: FULL },
    { name: "no equals sign", header: "bytes 0-1", size: 1000, want: FULL },
    { name: "space before equals", header: "bytes =0-1", size: 1000, want: FULL },
    { name: "empty header", header: "", size: 1000, want: FULL },
    { name: "empty set", header: "bytes=", size: 1000, want: FULL },
    { name: "set of empty elements", header: "bytes= , ,", size: 1000, want: FULL },
    { name: "first > last", header: "bytes=5-4", size: 1000, want: FULL },
    { name: "one invalid spec invalidates the set", header: "bytes=0-1,5-4", size: 1000, want: FULL },
    { name: "letters", header: "bytes=a-b", size: 1000, want: FULL },
    { name: "no dash", header: "bytes=1", size: 1000, want: FULL },
    { name: "dash alone", header: "bytes=-", size: 1000, want: FULL },
    { name: "double dash", header: "bytes=--1", size: 1000, want: FULL },
    { name: "plus sign", header: "bytes=+1-2", size: 1000, want: FULL },
    { name: "plus sign on last-pos", header: "bytes=1-+2", size: 1000, want: FULL },
    { name: "negative suffix with a last-pos", header: "bytes=-1-2", size: 1000, want: FULL },
    { name: "decimal", header: "bytes=1.5-2", size: 1000, want: FULL },
    { name: "hex", header: "bytes=0x1-2", size: 1000, want: FULL },
    { name: "exponent", header: "bytes=1e3-", size: 10000, want: FULL },
    { name: "trailing junk", header: "bytes=0-1;", size: 1000, want: FULL },
    { name: "space inside a spec", header: "bytes=0 -1", size: 1000, want: FULL },
    { name: "space after the dash", header: "bytes=0- 1", size: 1000, want: FULL },
    { name: "specs without a comma", header: "bytes=0-1 5-6", size: 1000, want: FULL },

    // Numbers with more digits than a double holds (issue 10 item 14): still numbers,
    // larger than any file (RFC 9110 §14.1.1 sets no limit on their length).
    { name: "huge first-pos is unsatisfiable (416)", header: "bytes=99999999999999999999-", size: 1000, want: UNSATISFIABLE },
    {
      name: "huge first-pos with a huge last-pos is unsatisfiable",
      header: "bytes=99999999999999999999-99999999999999999999",
      size: 1000,
      want: UNSATISFIABLE,
    },
    { name: "first-pos MAX_SAFE_INTEGER + 1 is unsatisfiable", header: "bytes=9007199254740992-", size: 1000, want: UNSATISFIABLE },
    { name: "huge first-pos beside a satisfiable spec", header: "bytes=99999999999999999999-,0-1", size: 1000, want: partial([0, 1]) },
    {
      name: "huge last-pos below a huger first-pos is invalid",
      header: "bytes=99999999999999999999-99999999999999999998",
      size: 1000,
      want: FULL,
    },
    {
      name: "huge last-pos with leading zeros is compared by value",
      header: "bytes=99999999999999999999-0099999999999999999999",
      size: 1000,
      want: UNSATISFIABLE,
    },
    { name: "finite last-pos below a huge first-pos is invalid", header: "bytes=99999999999999999999-5", size: 1000, want: FULL },
    { name: "last-pos beyond MAX_SAFE_INTEGER is clamped", header: "bytes=0-9007199254740992", size: 1000, want: partial([0, 999]) },
    { name: "huge suffix is the whole representation", header: "bytes=-99999999999999999999", size: 1000, want: partial([0, 999]) },
    { name: "400-digit last-pos is clamped", header: `bytes=0-${"9".repeat(400)}`, size: 1000, want: partial([0, 999]) },

    // OWS and empty elements in the list (RFC 9110 §5.6.1.2).
    { name: "OWS around commas", header: "bytes=0-1 , 500-501", size: 1000, want: partial([0, 1], [500, 501]) },
    { name: "OWS at both ends and tabs", header: "bytes= 0-1,\t500-501 ", size: 1000, want: partial([0, 1], [500, 501]) },
    { name: "empty elements", header: "bytes=,0-1,,500-501,", size: 1000, want: partial([0, 1], [500, 501]) },

    // Sorting and coalescing (RFC 9110 §15.3.7.2), the Apache Killer defence.
    { name: "sorted", header: "bytes=500-501,0-1", size: 1000, want: partial([0, 1], [500, 501]) },
    { name: "adjacent ranges merge", header: "bytes=0-1,2-3", size: 1000, want: partial([0, 3]) },
    { name: "overlapping ranges merge", header: "bytes=0-499,100-599", size: 1000, want: partial([0, 599]) },
    { name: "contained range merges", header: "bytes=0-999,10-20", size: 1000, want: partial([0, 999]) },
    { name: "duplicates merge", header: "bytes=0-0,0-0", size: 1000, want: partial([0, 0]) },
    { name: "gap of 79 bytes merges", header: "bytes=0-0,80-80", size: 1000, want: partial([0, 80]) },
    { name: "gap of 80 bytes does not", header: "bytes=0-0,81-81", size: 1000, want: partial([0, 0], [81, 81]) },
    { name: "Apache Killer: 0-,0-,0-", header: "bytes=0-,0-,0-,0-,0-", size: 1000, want: partial([0, 999]) },
    { name: "suffix and open range overlap", header: "bytes=-500,0-", size: 1000, want: partial([0, 999]) },
    { name: "unordered chain merges", header: "bytes=200-299,0-99,100-199", size: 1000, want: partial([0, 299]) },

    // maxRanges (default 100), counted before satisfiability.
    {
      name: "100 specs allowed",
      header: specs(100, (i) => `${i * 100}-${i * 100}`),
      size: 10000,
      want: partial(...Array.from({ length: 100 }, (_, i): [number, number] => [i * 100, i * 100])),
    },
    { name: "101 specs ignored", header: specs(101, (i) => `${i * 100}-${i * 100}`), size: 10100, want: FULL },
    { name: "101 unsatisfiable specs ignored, not 416", header: specs(101, () => "5000-"), size: 1000, want: FULL },
    { name: "101 specs that would coalesce still ignored", header: specs(101, () => "0-0"), size: 1000, want: FULL },
    { name: "empty elements do not count", header: `bytes=${",".repeat(500)}0-0`, size: 1000, want: partial([0, 0]) },
    { name: "maxRanges 2, three specs", header: "bytes=0-0,200-200,400-400", size: 1000, maxRanges: 2, want: FULL },
    { name: "maxRanges 2, two specs", header: "bytes=0-0,200-200", size: 1000, maxRanges: 2, want: partial([0, 0], [200, 200]) },
    { name: "maxRanges 0 disables ranges", header: "bytes=0-0", size: 1000, maxRanges: 0, want: FULL },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const options = row.maxRanges === undefined ? undefined : { maxRanges: row.maxRanges };
      const got = evaluateRange(row.header, row.size, options);
      const input = `${JSON.stringify(row.header?.slice(0, 80))} size=${row.size}`;
      assert.deepEqual(got, row.want, `evaluateRange(${input}): got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`);
    });
  }
});

describe("evaluateRange against hostile headers", () => {
  // CVE-2011-3192: thousands of tiny ranges in one header.
  const header = (() => {
    let h = "bytes=0-0";
    for (let i = 2; h.length < 8192; i += 2) h += `,${i}-${i}`;
    return h;
  })();
  const last = Number(header.slice(header.lastIndexOf(",") + 1).split("-")[0]);

  test("8 KB of 0-0,2-2,... is ignored by default (too many ranges)", () => {
    const got = evaluateRange(header, 1_000_000);
    assert.deepEqual(got, FULL, `got ${JSON.stringify(got).slice(0, 200)}, want full`);
  });

  // How fast this is belongs to the benchmark and fuzz scripts, not to a timed unit test.
  test("8 KB of 0-0,2-2,... with no limit coalesces to one range", () => {
    const got = evaluateRange(header, 1_000_000, { maxRanges: Infinity });
    const want = partial([0, last]);
    assert.deepEqual(got, want, `got ${JSON.stringify(got).slice(0, 200)}, want ${JSON.stringify(want)}`);
  });

  test("8 KB of spread-out ranges in reverse order is sorted", () => {
    let h = "bytes=";
    let n = 0;
    while (h.length < 8192) {
      const start = (1000 - n) * 1000;
      h += `${n++ === 0 ? "" : ","}${start}-${start + 99}`;
    }
    const got = evaluateRange(h, 10_000_000, { maxRanges: Infinity });
    assert.equal(got.kind, "partial", `got ${got.kind}, want partial`);
    const ranges = got.kind === "partial" ? got.ranges : [];
    assert.equal(ranges.length, n, `got ${ranges.length} ranges, want ${n}`);
    assert.ok(
      ranges.every((r, i) => i === 0 || (ranges[i - 1]?.start ?? 0) < r.start),
      "ranges not ascending",
    );
  });

  test("invariants on pseudo-random headers: sorted, disjoint, gaps >= 80, within size", () => {
    let checked = 0;
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      const size = 1 + rand(5000);
      const parts = Array.from({ length: 1 + rand(20) }, () => {
        const a = rand(size + 100);
        switch (rand(3)) {
          case 0:
            return `${a}-${a + rand(300)}`;
          case 1:
            return `${a}-`;
          default:
            return `-${rand(size + 100)}`;
        }
      });
      const h = `bytes=${parts.join(", ")}`;
      const got = evaluateRange(h, size);
      if (got.kind !== "partial") continue;
      let prev: ByteRange | undefined;
      let total = 0;
      for (const r of got.ranges) {
        assert.ok(r.start >= 0 && r.start < r.end && r.end <= size, `${h} size=${size}: bad range ${JSON.stringify(r)}`);
        if (prev !== undefined) {
          assert.ok(r.start - prev.end >= COALESCE_GAP, `${h} size=${size}: ${JSON.stringify(prev)} then ${JSON.stringify(r)}`);
        }
        total += r.end - r.start;
        prev = r;
      }
      assert.ok(total <= size, `${h} size=${size}: ${total} bytes for a ${size}-byte file`);
      checked++;
    }
    assert.ok(checked > 250, `only ${checked} of 500 random headers gave a partial outcome`);
  });
});

describe("formatContentRange / formatUnsatisfiedRange", () => {
  const rows: { name: string; range: ByteRange; size: number; want: string }[] = [
    { name: "RFC example", range: { start: 0, end: 500 }, size: 10000, want: "bytes 0-499/10000" },
    { name: "first five of ten", range: { start: 0, end: 5 }, size: 10, want: "bytes 0-4/10" },
    { name: "one byte", range: { start: 0, end: 1 }, size: 10, want: "bytes 0-0/10" },
    { name: "last byte", range: { start: 9, end: 10 }, size: 10, want: "bytes 9-9/10" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = formatContentRange(row.range, row.size);
      assert.equal(got, row.want, `formatContentRange(${JSON.stringify(row.range)}, ${row.size}): got ${got}, want ${row.want}`);
    });
  }

  test("unsatisfied", () => {
    const got = formatUnsatisfiedRange(10);
    assert.equal(got, "bytes */10", `formatUnsatisfiedRange(10): got ${got}, want bytes */10`);
  });
});
