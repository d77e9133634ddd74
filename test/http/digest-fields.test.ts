/**
 * Want-Repr-Digest and Want-Content-Digest (RFC 9530 §4) as Structured Field
 * Dictionaries (RFC 8941 §4.2.2): what parses, what is ignored, and which digest
 * each request gets.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chooseDigest, type DigestAlgorithm, formatDigest, parseWantDigest } from "../../src/http/digest-fields.js";

const show = (v: unknown): string => JSON.stringify(v);
const weightsOf = (value: string | undefined): Record<string, number> | "unstated" => {
  const want = parseWantDigest(value);
  return want.kind === "unstated" ? "unstated" : Object.fromEntries(want.weights);
};

describe("parseWantDigest", () => {
  const rows: { name: string; input: string | undefined; want: Record<string, number> | "unstated" }[] = [
    { name: "absent", input: undefined, want: "unstated" },
    { name: "empty", input: "", want: "unstated" },
    { name: "spaces only", input: "   ", want: "unstated" },
    { name: "one member", input: "sha-256=1", want: { "sha-256": 1 } },
    { name: "RFC 9530 §4 example", input: "sha-512=3, sha-256=10, unixsum=0", want: { "sha-512": 3, "sha-256": 10, unixsum: 0 } },
    { name: "no space after comma", input: "sha-256=1,sha-512=2", want: { "sha-256": 1, "sha-512": 2 } },
    { name: "tabs around the comma", input: "sha-256=1\t,\tsha-512=2", want: { "sha-256": 1, "sha-512": 2 } },
    { name: "leading spaces", input: "  sha-256=4", want: { "sha-256": 4 } },
    { name: "trailing spaces", input: "sha-256=4  ", want: { "sha-256": 4 } },
    { name: "weights 0 and 10 (the bounds)", input: "sha-256=0, sha-512=10", want: { "sha-256": 0, "sha-512": 10 } },
    { name: "leading zeros are an Integer", input: "sha-512=007", want: { "sha-512": 7 } },
    { name: "out of range: member dropped", input: "sha-256=11, sha-512=2", want: { "sha-512": 2 } },
    { name: "negative: member dropped", input: "sha-256=-1, sha-512=2", want: { "sha-512": 2 } },
    { name: "Decimal: member dropped", input: "sha-256=0.5, sha-512=2", want: { "sha-512": 2 } },
    { name: "String: member dropped", input: 'sha-256="10", sha-512=2', want: { "sha-512": 2 } },
    { name: "Token: member dropped", input: "sha-256=high, sha-512=2", want: { "sha-512": 2 } },
    { name: "Boolean (bare key): member dropped", input: "sha-256, sha-512=2", want: { "sha-512": 2 } },
    { name: "Byte Sequence: member dropped", input: "sha-256=:AQID:, sha-512=2", want: { "sha-512": 2 } },
    { name: "parameters are read and dropped", input: "sha-256=3;q=1;x, sha-512=2", want: { "sha-256": 3, "sha-512": 2 } },
    { name: "a key twice: the last wins", input: "sha-256=9, sha-256=1", want: { "sha-256": 1 } },
    { name: "a key twice, last not a weight", input: "sha-256=9, sha-256=?1", want: {} },
    { name: "star key", input: "*=5", want: { "*": 5 } },
    { name: "uppercase key: malformed, ignored", input: "SHA-256=10", want: "unstated" },
    { name: "digit first: malformed", input: "256=1", want: "unstated" },
    { name: "trailing comma: malformed", input: "sha-256=1,", want: "unstated" },
    { name: "empty member: malformed", input: "sha-256=1,,sha-512=2", want: "unstated" },
    { name: "space before '=': malformed", input: "sha-256 =1", want: "unstated" },
    { name: "space after '=': malformed", input: "sha-256= 1", want: "unstated" },
    // RFC 3230's syntax is valid SF: bare keys (Boolean) with a parameter, so no weights at all.
    { name: "the old Want-Digest's q-values: no weights", input: "sha-256;q=0.3, sha;q=1", want: {} },
    { name: "nothing after '=': malformed", input: "sha-256=", want: "unstated" },
    { name: "16-digit Integer: malformed", input: "sha-256=1234567890123456", want: "unstated" },
    { name: "unterminated String: malformed", input: 'sha-256="x', want: "unstated" },
    { name: "Inner List: malformed for this field", input: "sha-256=(1 2)", want: "unstated" },
    { name: "garbage after a member: malformed", input: "sha-256=1 x", want: "unstated" },
    { name: "a semicolon starts a parameter, not a member", input: "sha-256=1; sha-512=2", want: { "sha-256": 1 } },
    { name: "over 1024 characters: ignored", input: `sha-256=1,${" ".repeat(1100)}sha-512=2`, want: "unstated" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = weightsOf(row.input);
      assert.deepEqual(got, row.want, `parseWantDigest(${show(row.input)}): got ${show(got)}, want ${show(row.want)}`);
    });
  }
});

describe("chooseDigest", () => {
  const both = (): boolean => true;
  const only256 = (a: DigestAlgorithm): boolean => a === "sha-256";
  const rows: {
    name: string;
    header: string | undefined;
    available: (a: DigestAlgorithm) => boolean;
    fallback: DigestAlgorithm | undefined;
    want: DigestAlgorithm | undefined;
  }[] = [
    { name: "unstated: the fallback", header: undefined, available: both, fallback: "sha-256", want: "sha-256" },
    { name: "unstated, no fallback (Content-Digest)", header: undefined, available: both, fallback: undefined, want: undefined },
    { name: "malformed: as unstated", header: "SHA-512=10", available: both, fallback: "sha-256", want: "sha-256" },
    { name: "sha-512 preferred", header: "sha-512=10, sha-256=1", available: both, fallback: "sha-256", want: "sha-512" },
    { name: "sha-256 preferred", header: "sha-512=1, sha-256=10", available: both, fallback: "sha-256", want: "sha-256" },
    { name: "sha-512 alone", header: "sha-512=1", available: both, fallback: "sha-256", want: "sha-512" },
    { name: "sha-512 asked, only sha-256 known: none", header: "sha-512=5", available: only256, fallback: "sha-256", want: undefined },
    {
      name: "sha-512 first, sha-256 known: sha-256",
      header: "sha-512=9, sha-256=2",
      available: only256,
      fallback: "sha-256",
      want: "sha-256",
    },
    { name: "a tie goes to sha-256", header: "sha-512=5, sha-256=5", available: both, fallback: "sha-256", want: "sha-256" },
    { name: "weight 0 is not acceptable", header: "sha-256=0", available: both, fallback: "sha-256", want: undefined },
    { name: "all 0: none", header: "sha-256=0, sha-512=0", available: both, fallback: "sha-256", want: undefined },
    { name: "only algorithms wharf lacks: none", header: "md5=10, crc32c=3", available: both, fallback: "sha-256", want: undefined },
    { name: "a weighed one among unknown ones", header: "md5=10, sha-512=1", available: both, fallback: "sha-256", want: "sha-512" },
    { name: "Content-Digest asked", header: "sha-256=3", available: both, fallback: undefined, want: "sha-256" },
    { name: "nothing available", header: "sha-256=3", available: () => false, fallback: "sha-256", want: undefined },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = chooseDigest(parseWantDigest(row.header), row.available, row.fallback);
      assert.equal(got, row.want, `chooseDigest(${show(row.header)}): got ${show(got)}, want ${show(row.want)}`);
    });
  }
});

test("formatDigest writes a Dictionary of one Byte Sequence", () => {
  assert.equal(formatDigest("sha-256", "AAEC"), "sha-256=:AAEC:");
  assert.equal(formatDigest("sha-512", "AAEC"), "sha-512=:AAEC:");
});
