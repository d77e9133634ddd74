import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EntityTag, EntityTagList } from "../../src/http/etag.js";
import { formatEntityTag, parseEntityTag, parseEntityTagList, strongMatch, trimOws, weakMatch } from "../../src/http/etag.js";

const strong = (opaque: string): EntityTag => ({ weak: false, opaque: `"${opaque}"` });
const weak = (opaque: string): EntityTag => ({ weak: true, opaque: `"${opaque}"` });
const show = (v: unknown): string => JSON.stringify(v);

describe("parseEntityTag", () => {
  const rows: { name: string; input: string; want: EntityTag | undefined }[] = [
    { name: "strong", input: '"xyzzy"', want: strong("xyzzy") },
    { name: "weak", input: 'W/"xyzzy"', want: weak("xyzzy") },
    { name: "empty opaque-tag is valid", input: '""', want: strong("") },
    { name: "weak empty", input: 'W/""', want: weak("") },
    {
      name: "every visible ASCII but DQUOTE",
      input: '"!#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"',
      want: strong("!#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"),
    },
    { name: "obs-text (latin1 bytes)", input: '"caf\u00e9\u00ff"', want: strong("caf\u00e9\u00ff") },
    { name: "W/ is case-sensitive", input: 'w/"x"', want: undefined },
    { name: "unquoted", input: "xyzzy", want: undefined },
    { name: "missing closing quote", input: '"xyzzy', want: undefined },
    { name: "space inside", input: '"a b"', want: undefined },
    { name: "tab inside", input: '"a\tb"', want: undefined },
    { name: "control char inside", input: '"a\u0001b"', want: undefined },
    { name: "DEL inside", input: '"a\u007fb"', want: undefined },
    { name: "beyond latin1", input: '"\u20ac"', want: undefined },
    { name: "trailing bytes", input: '"a"b', want: undefined },
    { name: "two tags", input: '"a","b"', want: undefined },
    { name: "leading space", input: ' "a"', want: undefined },
    { name: "W/ alone", input: "W/", want: undefined },
    { name: "space after W/", input: 'W/ "a"', want: undefined },
    { name: "star", input: "*", want: undefined },
    { name: "empty", input: "", want: undefined },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = parseEntityTag(row.input);
      assert.deepEqual(got, row.want, `parseEntityTag(${show(row.input)}): got ${show(got)}, want ${show(row.want)}`);
    });
  }
});

describe("parseEntityTagList", () => {
  const tags = (...t: EntityTag[]): EntityTagList => ({ kind: "tags", tags: t });
  const rows: { name: string; input: string; want: EntityTagList }[] = [
    { name: "star", input: "*", want: { kind: "any" } },
    { name: "star with OWS", input: " \t* ", want: { kind: "any" } },
    { name: "single strong", input: '"xyzzy"', want: tags(strong("xyzzy")) },
    {
      name: "RFC 9110 §13.1.1 list",
      input: '"xyzzy", "r2d2xxxx", "c3piozzzz"',
      want: tags(strong("xyzzy"), strong("r2d2xxxx"), strong("c3piozzzz")),
    },
    {
      name: "RFC 9110 §13.1.2 weak list",
      input: 'W/"xyzzy", W/"r2d2xxxx", W/"c3piozzzz"',
      want: tags(weak("xyzzy"), weak("r2d2xxxx"), weak("c3piozzzz")),
    },
    { name: "mixed, no spaces", input: '"a",W/"b"', want: tags(strong("a"), weak("b")) },
    { name: "tabs and spaces around commas", input: ' "a"\t ,\t"b" ', want: tags(strong("a"), strong("b")) },
    { name: "empty elements tolerated", input: ',, "a" ,, , "b",', want: tags(strong("a"), strong("b")) },
    { name: "commas inside a tag are not separators", input: '"a,b", "c"', want: tags(strong("a,b"), strong("c")) },
    { name: "empty value", input: "", want: tags() },
    { name: "only commas and spaces", input: " , ,", want: tags() },
    { name: "stops at an unquoted element, keeps earlier tags", input: '"a", junk, "b"', want: tags(strong("a")) },
    { name: "unquoted only", input: "xyzzy", want: tags() },
    { name: "two tags without a comma: keeps the first", input: '"a" "b"', want: tags(strong("a")) },
    { name: "tags glued together: keeps the first", input: '"a""b"', want: tags(strong("a")) },
    { name: "star inside a list is malformed", input: '"a", *', want: tags(strong("a")) },
    { name: "star then a tag is malformed", input: '*, "a"', want: tags() },
    { name: "unterminated last tag", input: '"a", "b', want: tags(strong("a")) },
    { name: "lower-case w/ is malformed", input: 'w/"a", "b"', want: tags() },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = parseEntityTagList(row.input);
      assert.deepEqual(got, row.want, `parseEntityTagList(${show(row.input)}): got ${show(got)}, want ${show(row.want)}`);
    });
  }

  test("hostile 64 KB values parse to a bounded result", () => {
    const rows: [string, number][] = [
      ['"a",'.repeat(16_384), 16_384],
      [`"${"a".repeat(65_536)}`, 0],
      [", ".repeat(32_768), 0],
      ['W/"'.repeat(21_845), 1], // W/"W/" is one valid tag; the rest lacks a comma
    ];
    for (const [input, count] of rows) {
      const got = parseEntityTagList(input);
      const n = got.kind === "tags" ? got.tags.length : -1;
      assert.equal(n, count, `parseEntityTagList(${show(input.slice(0, 12))}...): got ${n} tags, want ${count}`);
    }
  });
});

describe("comparison (RFC 9110 §8.8.3.2 table)", () => {
  const rows: { name: string; a: EntityTag; b: EntityTag; strong: boolean; weak: boolean }[] = [
    { name: 'W/"1" vs W/"1"', a: weak("1"), b: weak("1"), strong: false, weak: true },
    { name: 'W/"1" vs W/"2"', a: weak("1"), b: weak("2"), strong: false, weak: false },
    { name: 'W/"1" vs "1"', a: weak("1"), b: strong("1"), strong: false, weak: true },
    { name: '"1" vs "1"', a: strong("1"), b: strong("1"), strong: true, weak: true },
    { name: '"1" vs "2"', a: strong("1"), b: strong("2"), strong: false, weak: false },
    { name: "case matters", a: strong("abc"), b: strong("ABC"), strong: false, weak: false },
  ];
  for (const row of rows) {
    test(row.name, () => {
      for (const [x, y] of [
        [row.a, row.b],
        [row.b, row.a],
      ] as const) {
        const s = strongMatch(x, y);
        const w = weakMatch(x, y);
        assert.equal(s, row.strong, `strongMatch(${show(x)}, ${show(y)}): got ${s}, want ${row.strong}`);
        assert.equal(w, row.weak, `weakMatch(${show(x)}, ${show(y)}): got ${w}, want ${row.weak}`);
      }
    });
  }
});

describe("formatEntityTag", () => {
  const rows: { name: string; tag: EntityTag; want: string }[] = [
    { name: "strong", tag: strong("abc"), want: '"abc"' },
    { name: "weak", tag: weak("abc"), want: 'W/"abc"' },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = formatEntityTag(row.tag);
      assert.equal(got, row.want, `formatEntityTag(${show(row.tag)}): got ${got}, want ${row.want}`);
      const back = parseEntityTag(got);
      assert.deepEqual(back, row.tag, `parseEntityTag(${got}): got ${show(back)}, want ${show(row.tag)}`);
    });
  }
});

describe("trimOws", () => {
  const rows: { name: string; input: string; want: string }[] = [
    { name: "spaces and tabs", input: " \t a b \t", want: "a b" },
    { name: "nothing to trim", input: "x", want: "x" },
    { name: "all whitespace", input: " \t ", want: "" },
    { name: "newlines are not OWS", input: "\nx\n", want: "\nx\n" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = trimOws(row.input);
      assert.equal(got, row.want, `trimOws(${show(row.input)}): got ${show(got)}, want ${show(row.want)}`);
    });
  }
});
