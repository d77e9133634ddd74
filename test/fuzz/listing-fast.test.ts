/**
 * The listing's fast paths give exactly the answers of the slow ones they stand
 * for, so that a 100,000-entry directory is listed quickly without deciding
 * anything differently (issue 13 item 5):
 * - `sortByName` (keys, the collator only where a key is not exact) against a
 *   sort by `compareNames` (the collator on every pair), and `firstByName` (a
 *   heap of the first `count`) against the first `count` of that sort;
 * - `linksBackTo` (a plain name is its own link) against building the link and
 *   resolving it with `resolveRequestPath`;
 * - `entryVisibility` (one more segment, no array) and `directoryVisibility`
 *   (what every entry shares decided once) against `visibilityOf` on the whole
 *   path, and `isHiddenBelow` against `isHidden(relativeSegments(...))`.
 */
import assert from "node:assert/strict";
import { sep } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { encodeSegment, isHidden, isHiddenBelow, linksBackTo, relativeSegments, resolveRequestPath } from "../../src/path/resolve.js";
import { directoryVisibility, entryVisibility, type VisibilityRules, visibilityOf } from "../../src/path/visibility.js";
import { compareNames, firstByName, nameKey, sortByName } from "../../src/responders/listing/order.js";
import { runs } from "./settings.js";

/** Every printable ASCII character, and some that are not: the alphabet of awkward names. */
const PRINTABLE = Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)).join("");
const AWKWARD = ["é", "É", "e\u0301", "\u212a", "İ", "ß", "ẞ", "ǅ", "日本", "١٢", "\t", "\u007f", "\ud800", "😀", "０", "²"];

const sortedByCollator = (names: readonly string[]): string[] => [...names].sort(compareNames);
const sortedByKeys = (names: readonly string[]): string[] => sortByName([...names], (n) => n);

describe("sortByName: the collator's order, through exact keys where they are exact", () => {
  test("every printable ASCII character against every other, alone and around digits", () => {
    const names: string[] = [];
    for (const a of PRINTABLE) for (const b of ["", "a", "A", "0", "9", "10", "_", " ", "."]) names.push(a + b, b + a);
    assert.deepEqual(sortedByKeys(names), sortedByCollator(names));
  });

  test("every name of up to three characters over letters, digits and punctuation", () => {
    const alphabet = ["a", "B", "z", "0", "1", "9", " ", "_", "-", ".", "~", "$", "(", "#"];
    const names: string[] = [""];
    for (let length = 1; length <= 3; length++) {
      for (let i = 0; i < alphabet.length ** length; i++) {
        let name = "";
        for (let n = i, k = 0; k < length; k++, n = Math.floor(n / alphabet.length)) name += alphabet[n % alphabet.length];
        names.push(name);
      }
    }
    assert.deepEqual(sortedByKeys(names), sortedByCollator(names));
  });

  test("runs of digits: leading zeros, nine digits and more, zeros alone", () => {
    const names = ["f", "f0", "f00", "f000", "f1", "f01", "f001", "f9", "f09", "f10", "f010", "f123456789", "f0123456789", "f1234567890"];
    names.push(
      "f9999999999",
      "f10000000000",
      "f99999999",
      "f100000000",
      "f000000000001",
      "f2.txt",
      "f2_txt",
      "f2 txt",
      "F2.TXT",
      "f2.10",
      "f2.9",
    );
    assert.deepEqual(sortedByKeys(names), sortedByCollator(names));
  });

  test("a key is exact only for printable ASCII with runs of at most nine digits", () => {
    const rows: Array<[string, boolean]> = [
      ["IMG_0001.JPG", true],
      ["report (final) v2.pdf", true],
      ["f123456789", true],
      ["f1234567890", false],
      ["café", false],
      ["\u212a.txt", false], // KELVIN SIGN: lower-cases to ASCII `k`, still the collator's
      ["tab\there", false],
      ["del\u007f", false],
    ];
    for (const [name, want] of rows)
      assert.equal(nameKey(name).exact, want, `nameKey(${JSON.stringify(name)}).exact: got ${!want}, want ${want}`);
  });

  test("random names, ASCII and not, in any mix", () => {
    const char = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...PRINTABLE) },
      { weight: 2, arbitrary: fc.constantFrom(..."0123456789") },
      { weight: 1, arbitrary: fc.constantFrom(...AWKWARD) },
    );
    const name = fc.array(char, { minLength: 1, maxLength: 14 }).map((cs) => cs.join(""));
    fc.assert(
      fc.property(fc.array(name, { minLength: 0, maxLength: 200 }), (names) => {
        assert.deepEqual(sortedByKeys(names), sortedByCollator(names));
      }),
      runs(300),
    );
  });
});

describe("firstByName: the first count of the sorted names, without sorting the rest", () => {
  test("random names and counts, in any order", () => {
    const char = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(..."aAb_.-0129 ") },
      { weight: 1, arbitrary: fc.constantFrom(...AWKWARD) },
    );
    const name = fc.array(char, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(""));
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 300 }), fc.nat({ max: 320 }), (names, count) => {
        const want = sortedByCollator(names).slice(0, count);
        assert.deepEqual(
          firstByName(names, (n) => n, count),
          want,
        );
      }),
      runs(300),
    );
  });

  test("10,000 names read in reverse, shuffled, or in order: the first 1,000", () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `f${i}.txt`);
    const want = sortedByCollator(names).slice(0, 1000);
    const shuffled = [...names];
    for (let i = shuffled.length - 1, seed = 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    for (const order of [names, [...names].reverse(), shuffled])
      assert.deepEqual(
        firstByName(order, (n) => n, 1000),
        want,
      );
  });
});

/** The link check written the slow way: build the link, resolve it, compare. */
function linksBackSlowly(name: string): boolean {
  const link = resolveRequestPath(`/${encodeSegment(name)}`);
  return link.kind === "ok" && link.segments.length === 1 && link.segments[0] === name;
}

describe("linksBackTo: the link of a name resolves back to it", () => {
  test("named cases", () => {
    const rows: Array<[string, boolean]> = [
      ["a.txt", true],
      ["", false],
      [".", false],
      ["..", false],
      ["...", true],
      [".env", true], // linkable; hidden is visibility's business
      ["a b", true],
      ["a%20b", true],
      ["a\\b", true],
      ["nul\u0000", false],
      ["lone\ud800", false],
      ["x".repeat(8191), true],
      ["x".repeat(8192), false],
      ["é".repeat(1000), true],
      ["é".repeat(1400), false], // 6 bytes of link per character: past the 8,192 limit
    ];
    for (const [name, want] of rows) {
      assert.equal(linksBackTo(name), want, `linksBackTo(${JSON.stringify(name.slice(0, 20))}…): got ${!want}, want ${want}`);
      assert.equal(linksBackSlowly(name), want, `slow check of ${JSON.stringify(name.slice(0, 20))}`);
    }
  });

  test("agrees with resolving the link on random names", () => {
    const name = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.constantFrom(".", "..", "", "a/b"),
    );
    fc.assert(
      fc.property(name, (n) => {
        assert.equal(linksBackTo(n), linksBackSlowly(n), JSON.stringify(n));
      }),
      runs(3000),
    );
  });
});

describe("entryVisibility and isHiddenBelow: the decision on the whole path", () => {
  const segment = fc.constantFrom("a", ".git", ".well-known", "b.txt", ".env", "well-known", "..x");
  const rules = (
    root: string,
    dotfiles: VisibilityRules["dotfiles"],
    symlinks: VisibilityRules["symlinks"],
    hidden: readonly string[],
  ): VisibilityRules => ({
    root,
    dotfiles,
    symlinks,
    hiddenFiles: new Set(hidden),
    fold: (p) => p,
  });

  test("isHiddenBelow is isHidden of the relative segments", () => {
    const root = fc.constantFrom(sep, `${sep}srv`, `${sep}srv${sep}.data`);
    fc.assert(
      fc.property(root, fc.array(segment, { maxLength: 4 }), (r, below) => {
        const candidate = below.length === 0 ? r : (r.endsWith(sep) ? r : r + sep) + below.join(sep);
        assert.equal(isHiddenBelow(r, candidate), isHidden(relativeSegments(r, candidate)), candidate);
      }),
      runs(2000),
    );
  });

  test("entryVisibility(segments, name) is visibilityOf([...segments, name])", () => {
    const real = fc.oneof(
      fc.array(segment, { maxLength: 4 }).map((s) => `${sep}srv${s.length === 0 ? "" : sep + s.join(sep)}`),
      fc.constantFrom(`${sep}etc${sep}passwd`, `${sep}srv-old${sep}a`, `${sep}srv${sep}wharf.json`, `${sep}srv${sep}wharf.json.gz`),
    );
    const policy = fc.record({
      dotfiles: fc.constantFrom("ignore", "deny", "allow") as fc.Arbitrary<VisibilityRules["dotfiles"]>,
      symlinks: fc.constantFrom("inside-root", "follow") as fc.Arbitrary<VisibilityRules["symlinks"]>,
      hidden: fc.constantFrom<string[]>([], [`${sep}srv${sep}wharf.json`]),
    });
    fc.assert(
      fc.property(policy, fc.array(segment, { maxLength: 3 }), segment, real, (p, segments, name, r) => {
        const rs = rules(`${sep}srv`, p.dotfiles, p.symlinks, p.hidden);
        assert.deepEqual(
          entryVisibility(rs, segments, name, r),
          visibilityOf(rs, [...segments, name], r),
          JSON.stringify({ segments, name, r }),
        );
      }),
      runs(3000),
    );
  });

  test("directoryVisibility(segments, dir)(name) is visibilityOf([...segments, name], dir/name), and a symlink's by its target", () => {
    const roots = [sep, `${sep}srv`, `${sep}srv${sep}.data`, `${sep}srv${sep}.well-known`];
    const dir = fc.oneof(
      fc.constantFrom(...roots),
      fc
        .tuple(fc.constantFrom(...roots), fc.array(segment, { minLength: 1, maxLength: 3 }))
        .map(([r, s]) => (r.endsWith(sep) ? r : r + sep) + s.join(sep)),
      fc.constantFrom(`${sep}etc`, `${sep}srv-old`, `${sep}srv-old${sep}.git`),
    );
    const name = fc.oneof(
      segment,
      fc.constantFrom("wharf.json", "wharf.json.br", "srv", ".well-known", "x", ".wharf-upload-3f9a", ".wharf-upload-"),
    );
    const policy = fc.record({
      root: fc.constantFrom(...roots),
      dotfiles: fc.constantFrom("ignore", "deny", "allow") as fc.Arbitrary<VisibilityRules["dotfiles"]>,
      symlinks: fc.constantFrom("inside-root", "follow") as fc.Arbitrary<VisibilityRules["symlinks"]>,
      hidden: fc.constantFrom<string[]>([], [`${sep}srv${sep}wharf.json`], [`${sep}wharf.json`, `${sep}srv${sep}a${sep}wharf.json`]),
    });
    const target = fc.option(
      fc.constantFrom(`${sep}srv${sep}a`, `${sep}srv${sep}.git${sep}config`, `${sep}etc${sep}passwd`, `${sep}srv${sep}wharf.json`),
      { nil: undefined },
    );
    fc.assert(
      fc.property(policy, fc.array(segment, { maxLength: 3 }), dir, name, target, (p, segments, d, n, link) => {
        const rs = rules(p.root, p.dotfiles, p.symlinks, p.hidden);
        const real = link ?? (d.endsWith(sep) ? d : d + sep) + n;
        assert.deepEqual(
          directoryVisibility(rs, segments, d)(n, link),
          visibilityOf(rs, [...segments, n], real),
          JSON.stringify({ p, segments, d, n, link }),
        );
      }),
      runs(5000),
    );
  });
});
