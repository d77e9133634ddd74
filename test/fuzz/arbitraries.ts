/**
 * Generators of hostile input: request targets built from the pieces every
 * traversal advisory used (`..`, `%2e`, `%2f`, `%5c`, `%00`, overlong UTF-8,
 * double encoding), mixed with names that exist, random bytes and unicode; and
 * header values, valid and mutated, for the HTTP parsers.
 */
import fc from "fast-check";

const HEX = "0123456789abcdef";

/** `%xx` for one byte, in a random mix of cases (`%2e`, `%2E`). */
const percentByte = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([b, upper]) => {
  const s = `%${HEX[b >> 4]!}${HEX[b & 15]!}`;
  return upper ? s.toUpperCase() : s;
});

/** Percent-encodes every UTF-8 byte of `text` (RFC 3986 style, as a browser would for non-ASCII). */
function encodeAll(text: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(text)) out += `%${HEX[b >> 4]!}${HEX[b & 15]!}`;
  return out;
}

/** Names that exist in the fixtures, or look like what a probe wants. */
const NAMES = [
  "a",
  "b",
  "nums.txt",
  "index-less",
  "sub",
  "a.txt",
  "site",
  "awkward",
  "escape.txt",
  "escape-dir",
  "link-inside.txt",
  "loop-a",
  "dangling",
  "public-old",
  "secret.txt",
  "public",
  "etc",
  "passwd",
  ".git",
  ".env",
  ".well-known",
  "security.txt",
  "index.html",
  "...",
  "é",
  "✓",
  "~",
  "a;b",
  "a=b",
  "a&b",
  "a+b",
  "a:b",
  "@",
  "!",
  "$",
  "'",
  "(x)",
  "*",
  // What clean URLs, rewrites and the SPA fallback add or strip a suffix from: a name
  // that strips to a dot segment (`..html`) made clean URLs answer 500 (issue 10 item 16).
  "..html",
  "...html",
  ".html",
  "%2e.html",
  "%2e%2e.html",
  "index",
  "about",
  "about.html",
  "404.html",
  "docs",
  "files",
  "app",
  "old",
];
/** Dot segments, plain and encoded. */
const DOTS = ["..", "..", ".", "%2e", "%2E", "%2e%2e", "%2E%2e", ".%2e", "%2e."];
/** Encodings that advisories were made of. */
export const HOSTILE_TOKENS = [
  "%2f",
  "%2F",
  "%5c",
  "%5C",
  "\\",
  "%00",
  "%0a",
  "%0d",
  "%09",
  "%1b",
  "%7f",
  "%20",
  "%25",
  "%252e",
  "%252e%252e",
  "%252f",
  "%255c",
  "%",
  "%2",
  "%g0",
  "%zz",
  "%%",
  "%2e%",
  // Overlong and otherwise invalid UTF-8 spellings of `.`, `/` and `\` (the IIS bugs).
  "%c0%ae",
  "%c0%2e",
  "%e0%80%ae",
  "%f0%80%80%ae",
  "%c0%af",
  "%e0%80%af",
  "%c1%9c",
  "%c1%1c",
  "%ff",
  "%fe",
  "%80",
  "%ed%a0%80",
  "%f4%90%80%80",
  "%ef%bb%bf",
  "%e2%80%ae",
  "%c3%a9",
  "?",
  "#",
  "%3f",
  "%23",
  ";",
];
const SEPARATORS = ["/", "/", "/", "/", "/", "//", "%2f", "%2F", "\\", "%5c", "/./", "/../", "/%2e%2e/", "/%2e/"];

const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 3, arbitrary: fc.constantFrom(...DOTS) },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TOKENS) },
  { weight: 1, arbitrary: fc.array(percentByte, { minLength: 1, maxLength: 6 }).map((a) => a.join("")) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }).map(encodeAll) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) },
);

/** A segment-and-separator walk: `/a/%2e%2e/b%2f..`, `\..\x`, ... */
const walk = fc
  .tuple(
    fc.oneof(
      { weight: 12, arbitrary: fc.constant("/") },
      { weight: 1, arbitrary: fc.constantFrom("", "//", "\\", "/%2e%2e/", "./", "%2f") },
    ),
    fc.array(fc.tuple(token, fc.constantFrom(...SEPARATORS)), { maxLength: 12 }),
    fc.boolean(),
  )
  .map(([head, parts, trailing]) => {
    let s = head;
    parts.forEach(([t, sep], i) => {
      s += t + (i < parts.length - 1 || trailing ? sep : "");
    });
    return s;
  });

/** Mostly well-formed walks of names and dot segments: the ones that get past decoding. */
const plausible = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...NAMES.filter((n) => /^[\x21-\x7e]+$/.test(n))) },
        { weight: 3, arbitrary: fc.constantFrom(...DOTS) },
        { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }).map(encodeAll) },
      ),
      fc.constantFrom("/", "/", "/", "//", "%2f", "/./"),
    ),
    { maxLength: 10 },
  )
  .map((parts) => `/${parts.map(([t, s]) => t + s).join("")}`);

/** Very long or very deep: one piece repeated thousands of times. */
const repeated = fc
  .tuple(
    fc.constantFrom("../", "%2e%2e/", "a/", "a/../", "%2e%2e%2f", "./", "/", "%c0%ae", "x", "é", "%2f", "a/%2e%2e/"),
    fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 3000 })),
    fc.constantFrom("", "nums.txt", "secret.txt", "../secret.txt"),
  )
  .map(([piece, count, tail]) => `/${piece.repeat(count)}${tail}`);

/** Anything at all, including raw non-ASCII and lone surrogates. */
const anything = fc.string({ unit: "binary", maxLength: 40 });

/** A raw request path (no query), as a hostile client might send it. */
export const hostilePath: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: walk },
  { weight: 4, arbitrary: plausible },
  { weight: 2, arbitrary: repeated },
  { weight: 1, arbitrary: anything },
);

/**
 * A path that can travel in a request line: no raw space, CR, LF or other
 * control character (Node's parser answers those with 400 before wharf sees
 * them, which the server property also covers), and ASCII only.
 */
export const wirePath: fc.Arbitrary<string> = fc.oneof(walk, plausible, repeated).map((p) =>
  // Percent-encode whatever cannot appear raw in a request line, so the rest of
  // the hostility reaches the handler.
  p.replace(/[^\x21-\x7e]/gu, (c) => encodeAll(c)),
);

// ---------------------------------------------------------------------------
// Header values

/** A syntactically valid range-spec list, with the specs as numbers. */
export type SpecModel =
  | { readonly kind: "int"; readonly first: number; readonly last: number | undefined }
  | { readonly kind: "suffix"; readonly length: number };

const smallOrHuge = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 2000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
);

export const spec: fc.Arbitrary<SpecModel> = fc.oneof(
  fc.tuple(smallOrHuge, fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined })).map(([first, extra]) => ({
    kind: "int" as const,
    first,
    last: extra === undefined ? undefined : Math.min(Number.MAX_SAFE_INTEGER, first + extra),
  })),
  smallOrHuge.map((length) => ({ kind: "suffix" as const, length })),
);

export function formatSpec(s: SpecModel): string {
  return s.kind === "suffix" ? `-${s.length}` : `${s.first}-${s.last ?? ""}`;
}

const ows = fc.constantFrom("", "", "", " ", "\t", "  ");

/** `bytes=0-1, -5,7-` from specs, with the OWS and empty elements RFC 9110 §5.6.1.2 allows. */
export const validRange = fc
  .tuple(
    fc.constantFrom("bytes", "BYTES", "Bytes"),
    fc.array(fc.tuple(spec, ows, ows, fc.constantFrom(",", ",", ", ,")), { minLength: 1, maxLength: 20 }),
  )
  .map(([unit, parts]) => ({
    header: `${unit}=${parts.map(([s, a, b, comma], i) => `${a}${formatSpec(s)}${b}${i < parts.length - 1 ? comma : ""}`).join("")}`,
    specs: parts.map(([s]) => s),
  }));

/** Mutates a string: insert, delete or replace characters at random places. */
export function mutated(base: fc.Arbitrary<string>, alphabet: string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.constantFrom("insert", "delete", "replace"), fc.constantFrom(...alphabet.split("")));
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
    let out = s;
    for (const [at, op, ch] of edits) {
      const i = out.length === 0 ? 0 : at % (out.length + (op === "insert" ? 1 : 0));
      if (op === "insert") out = out.slice(0, i) + ch + out.slice(i);
      else if (op === "delete") out = out.slice(0, i) + out.slice(i + 1);
      else out = out.slice(0, i) + ch + out.slice(i + 1);
    }
    return out;
  });
}

/** Long crafted values: the CVE-2011-3192 shape and its cousins. */
export const longRange = fc
  .tuple(
    fc.constantFrom("0-,", "0-0,", "1-2,", "-1,", ",", " ", "5-1,", "0-9999999999999999999,", "1-1,3-3,"),
    fc.integer({ min: 1, max: 3000 }),
  )
  .map(([piece, n]) => `bytes=${piece.repeat(n)}`);

export const anyRange: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: validRange.map((r) => r.header) },
  {
    weight: 4,
    arbitrary: mutated(
      validRange.map((r) => r.header),
      "0123456789-=, \tbx;",
    ),
  },
  { weight: 2, arbitrary: longRange },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."bytes=0123456789-, \t".split("")), maxLength: 40 }) },
);

/** An entity-tag: `"x"` or `W/"x"` with etagc characters (obs-text as latin1). */
export const entityTag = fc
  .tuple(
    fc.boolean(),
    fc.string({
      unit: fc.oneof(
        fc.constantFrom(..."!#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~".split("")),
        fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
      ),
      maxLength: 24,
    }),
  )
  .map(([weak, body]) => ({ weak, opaque: `"${body}"` }));

export const validTagList = fc
  .array(fc.tuple(entityTag, ows, ows, fc.constantFrom(",", ",", ", ,", ",,")), { minLength: 1, maxLength: 10 })
  .map((parts) => ({
    header: parts.map(([t, a, b, comma], i) => `${a}${t.weak ? "W/" : ""}${t.opaque}${b}${i < parts.length - 1 ? comma : ""}`).join(""),
    tags: parts.map(([t]) => t),
  }));

export const anyTagList: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: validTagList.map((l) => l.header) },
  {
    weight: 4,
    arbitrary: mutated(
      validTagList.map((l) => l.header),
      `"W/, \t*x\\`,
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(`"a",`, `W/`, `"`, `W/"x"`, `*,`, ` ,`, `"\\"`), fc.integer({ min: 1, max: 2000 }))
      .map(([p, n]) => p.repeat(n)),
  },
  { weight: 1, arbitrary: fc.constantFrom("*", " * ", "*,*", "", " ") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
);

/** A time within what an HTTP-date's four-digit year can express. */
export const httpTime = fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 });

export const anyDate: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: mutated(
      fc.constantFrom("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"),
      "0123456789 :,-GMTSunNov",
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom("Sun, ", "Sunday,", "9", " "), fc.integer({ min: 1, max: 3000 })).map(([p, n]) => p.repeat(n)),
  },
);

/** Accept-Encoding values: plausible, mutated, and long. */
export const anyAcceptEncoding: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.constantFrom("gzip", "br", "zstd", "identity", "*", "deflate", "x-gzip", "GZIP", ""),
          fc.option(fc.constantFrom("1", "0", "0.5", "0.001", "1.000", "1.0001", "2", "-1", "", "0.", "abc", "1e3", " 0.5 "), {
            nil: undefined,
          }),
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.map(([c, q]) => (q === undefined ? c : `${c};q=${q}`)).join(", ")),
  },
  {
    weight: 2,
    arbitrary: mutated(fc.constantFrom("gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8, *;q=0.1", "identity;q=0"), ",;= q.01*"),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("gzip,", ";", "q=", "br;q=0.5,", ",", " ", ";q=1;q=1"), fc.integer({ min: 1, max: 3000 }))
      .map(([p, n]) => p.repeat(n)),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
);
