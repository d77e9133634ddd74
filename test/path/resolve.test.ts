import assert from "node:assert/strict";
import { sep } from "node:path";
import { describe, test } from "node:test";
import {
  encodePathname,
  encodeSegment,
  isHidden,
  isInside,
  MAX_PATH_LENGTH,
  relativeSegments,
  resolveRequestPath,
} from "../../src/path/resolve.js";

type Want = { readonly segments: readonly string[]; readonly slash: boolean } | "bad";

const ok = (segments: readonly string[], slash = false): Want => ({ segments, slash });

// Each row: a raw request path as it arrives on the wire, and what it must mean.
const rows: ReadonlyArray<readonly [name: string, input: string, want: Want]> = [
  ["root", "/", ok([], true)],
  ["file", "/a.txt", ok(["a.txt"])],
  ["nested", "/a/b/c.txt", ok(["a", "b", "c.txt"])],
  ["directory", "/a/b/", ok(["a", "b"], true)],
  ["empty segments collapse", "//a///b//", ok(["a", "b"], true)],
  ["protocol-relative lookalike stays local", "//evil.example/x", ok(["evil.example", "x"])],
  ["dot segment", "/a/./b", ok(["a", "b"])],
  ["trailing dot names a directory", "/a/.", ok(["a"], true)],
  ["dot-dot inside", "/a/b/../c", ok(["a", "c"])],
  ["trailing dot-dot names a directory", "/a/b/..", ok(["a"], true)],
  ["dot-dot back to root", "/a/..", ok([], true)],
  ["encoded dot-dot inside", "/a/b/%2e%2e/c", ok(["a", "c"])],
  ["three dots is a name", "/.../x", ok(["...", "x"])],
  ["dot-prefixed names", "/..a/.b", ok(["..a", ".b"])],
  ["encoded slash splits after decoding", "/a%2fb", ok(["a", "b"])],
  ["encoded slash uppercase", "/a%2Fb/", ok(["a", "b"], true)],
  ["encoded space", "/a%20b.txt", ok(["a b.txt"])],
  ["encoded percent decoded once", "/100%25.txt", ok(["100%.txt"])],
  ["double-encoded dot-dot stays a name", "/%252e%252e/x", ok(["%2e%2e", "x"])],
  ["encoded hash and query", "/a%23b%3Fc", ok(["a#b?c"])],
  ["unicode check mark", "/%E2%9C%93", ok(["✓"])],
  ["unicode lowercase hex", "/caf%c3%a9", ok(["café"])],
  ["astral emoji", "/%F0%9F%90%B3.png", ok(["🐳.png"])],
  ["encoded BOM kept, not stripped", "/%EF%BB%BFa", ok(["\uFEFFa"])],
  ["sub-delims raw", "/a;b=c,d&e+f!$'()*:@~", ok(["a;b=c,d&e+f!$'()*:@~"])],
  ["browser-raw brackets and pipes", "/a|b^c[d]{e}`", ok(["a|b^c[d]{e}`"])],
  ["many segments", "/a".repeat(4000), ok(Array.from({ length: 4000 }, () => "a"))],
  ["at the length limit", `/${"a".repeat(MAX_PATH_LENGTH - 1)}`, ok(["a".repeat(MAX_PATH_LENGTH - 1)])],

  ["empty", "", "bad"],
  ["relative", "a/b", "bad"],
  ["asterisk-form", "*", "bad"],
  ["absolute-form", "http://x/a", "bad"],
  ["dot-dot above root", "/..", "bad"],
  ["dot-dot above root with slash", "/../", "bad"],
  ["dot-dot to etc", "/../etc/passwd", "bad"],
  ["dot-dot after climbing back", "/a/../../etc/passwd", "bad"],
  ["encoded dot-dot above root", "/%2e%2e/etc/passwd", "bad"],
  ["mixed-case encoded dot-dot", "/%2E%2e/", "bad"],
  ["half-encoded dot-dot", "/.%2e/x", "bad"],
  ["encoded slash smuggles dot-dot", "/a/..%2f..%2fetc/passwd", "bad"],
  ["fully encoded traversal", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "bad"],
  ["overlong dot-dot", "/%c0%ae%c0%ae/etc/passwd", "bad"],
  ["overlong slash", "/a%c0%afb", "bad"],
  ["invalid byte ff", "/%ff", "bad"],
  ["truncated UTF-8", "/%E2%9C", "bad"],
  ["encoded surrogate", "/%ED%A0%80", "bad"],
  ["raw backslash", "/a\\b", "bad"],
  ["raw backslash open redirect", "/\\evil.example", "bad"],
  ["encoded NUL", "/%00", "bad"],
  ["encoded NUL before extension", "/secret.txt%00.png", "bad"],
  ["raw NUL", "/a\u0000b", "bad"],
  ["raw space", "/a b", "bad"],
  ["raw DEL", "/a\u007f", "bad"],
  ["raw non-ASCII", "/café", "bad"],
  ["bad hex", "/%zz", "bad"],
  ["lone percent", "/%", "bad"],
  ["percent and one digit", "/%4", "bad"],
  ["percent at end after name", "/a%2", "bad"],
  ["percent with plus sign", "/%+1", "bad"],
  ["too long", `/${"a".repeat(MAX_PATH_LENGTH)}`, "bad"],
  ["too long with encodings", "/%2e".repeat(3000), "bad"],
];

describe("resolveRequestPath", () => {
  for (const [name, input, want] of rows) {
    test(name, () => {
      const got = resolveRequestPath(input);
      const shown = input.length > 60 ? `${input.slice(0, 60)}…(${input.length})` : input;
      if (want === "bad") {
        assert.equal(
          got.kind,
          "bad-request",
          `resolveRequestPath(${JSON.stringify(shown)}) = ${JSON.stringify(got).slice(0, 200)}, want bad-request`,
        );
        return;
      }
      assert.equal(got.kind, "ok", `resolveRequestPath(${JSON.stringify(shown)}) = ${JSON.stringify(got)}, want ok`);
      if (got.kind !== "ok") return;
      assert.deepEqual(
        got.segments,
        want.segments,
        `resolveRequestPath(${JSON.stringify(shown)}).segments: got ${JSON.stringify(got.segments).slice(0, 200)}, want ${JSON.stringify(want.segments).slice(0, 200)}`,
      );
      assert.equal(
        got.trailingSlash,
        want.slash,
        `resolveRequestPath(${JSON.stringify(shown)}).trailingSlash: got ${got.trailingSlash}, want ${want.slash}`,
      );
    });
  }

  test("bad-request carries a reason", () => {
    const got = resolveRequestPath("/%zz");
    assert.ok(got.kind === "bad-request" && got.reason.length > 0, `got ${JSON.stringify(got)}`);
  });

  test("linear time: a worst-case long path resolves quickly", () => {
    const inputs = ["/%2e%2e".repeat(1170), "/a/..".repeat(1638), "/%E2%9C%93".repeat(819), "//".repeat(4096)];
    for (const input of inputs) {
      // CPU time of this process, not the wall clock: other processes on a busy
      // machine do not lengthen it. Linear is a few ms; quadratic, many seconds.
      const start = process.cpuUsage();
      for (let i = 0; i < 200; i++) resolveRequestPath(input);
      const used = process.cpuUsage(start);
      const ms = (used.user + used.system) / 1000;
      assert.ok(ms < 1000, `200 × resolveRequestPath(${JSON.stringify(input.slice(0, 20))}…) took ${ms.toFixed(0)} ms`);
    }
  });
});

// Names POSIX allows in a file (`\\`, tab, other controls but NUL) are plain characters of a
// segment there, so a listed file with one is reachable; on Windows `\\` is a separator
// (superstatic's GHSA-wm77-q74p-5763) and controls cannot be in a name: 400 (issue 10 item 17).
describe("resolveRequestPath by platform dialect", () => {
  const dialectRows: ReadonlyArray<readonly [name: string, input: string, posix: Want]> = [
    ["encoded backslash", "/%5c", ok(["\\"])],
    ["encoded backslash traversal is one name", "/..%5c..%5cwindows", ok(["..\\..\\windows"])],
    ["encoded backslash uppercase", "/a%5Cb", ok(["a\\b"])],
    ["encoded backslash open-redirect shape", "/%5cevil.example/", ok(["\\evil.example"], true)],
    ["encoded newline", "/a%0d%0aSet-Cookie:x", ok(["a\r\nSet-Cookie:x"])],
    ["encoded tab", "/a%09b", ok(["a\tb"])],
    ["encoded escape", "/a%1b[31m", ok(["a\u001b[31m"])],
    ["encoded DEL", "/a%7f", ok(["a\u007f"])],
    ["encoded NUL stays bad", "/a%00b", "bad"],
    ["raw backslash stays bad", "/a\\b", "bad"],
    ["raw backslash after encoded one", "/%5c\\x", "bad"],
  ];
  for (const [name, input, posix] of dialectRows) {
    test(`posix: ${name}`, () => {
      const got = resolveRequestPath(input, "posix");
      if (posix === "bad") {
        assert.equal(got.kind, "bad-request", `${JSON.stringify(input)}: got ${JSON.stringify(got)}, want bad-request`);
        return;
      }
      assert.deepEqual(got, { kind: "ok", segments: posix.segments, trailingSlash: posix.slash }, `${JSON.stringify(input)}`);
    });
    test(`win32: ${name}`, () => {
      const got = resolveRequestPath(input, "win32");
      assert.equal(got.kind, "bad-request", `${JSON.stringify(input)}: got ${JSON.stringify(got)}, want bad-request`);
    });
  }

  test("the default is the platform's", () => {
    assert.equal(resolveRequestPath("/%5c").kind, process.platform === "win32" ? "bad-request" : "ok");
  });

  test("a segment with every allowed C0 control, DEL and backslash round-trips through encodePathname", () => {
    const name = `${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join("")}\x7f\\`;
    const link = encodePathname([name], false);
    assert.match(link, /^\/[\x21-\x7e]+$/, "the link is printable ASCII");
    assert.deepEqual(resolveRequestPath(link, "posix"), { kind: "ok", segments: [name], trailingSlash: false });
  });
});

describe("isHidden", () => {
  const cases: ReadonlyArray<readonly [string, readonly string[], boolean]> = [
    ["root", [], false],
    ["plain", ["a", "b.txt"], false],
    ["dotfile", [".env"], true],
    ["dot-directory in the middle", ["a", ".git", "config"], true],
    ["dotfile at the end", ["a", ".htpasswd"], true],
    ["well-known allowed", [".well-known", "security.txt"], false],
    ["well-known itself", [".well-known"], false],
    ["hidden below well-known", [".well-known", ".secret"], true],
    ["well-known not first", ["a", ".well-known"], true],
    ["well-known lookalike", [".well-knownx"], true],
    ["dot in the middle of a name", ["a.b", "c.d"], false],
  ];
  for (const [name, segments, want] of cases) {
    test(name, () => {
      const got = isHidden(segments);
      assert.equal(got, want, `isHidden(${JSON.stringify(segments)}): got ${got}, want ${want}`);
    });
  }
});

describe("encodePathname", () => {
  const cases: ReadonlyArray<readonly [string, readonly string[], boolean, string]> = [
    ["root", [], true, "/"],
    ["root without slash is still root", [], false, "/"],
    ["plain", ["a", "b.txt"], false, "/a/b.txt"],
    ["directory", ["a", "b"], true, "/a/b/"],
    ["space and percent", ["a b", "100%"], false, "/a%20b/100%25"],
    ["hash and query", ["a#b?c"], false, "/a%23b%3Fc"],
    ["semicolon, quotes, plus", [`a;b'c"d+e`], false, "/a%3Bb%27c%22d%2Be"],
    ["angle brackets and backslash", ["<x>\\"], false, "/%3Cx%3E%5C"],
    ["slash inside a segment", ["a/b"], false, "/a%2Fb"],
    ["safe sub-delims kept", ["a!$&()*,:=@~-._"], false, "/a!$&()*,:=@~-._"],
    ["unicode", ["café", "✓"], true, "/caf%C3%A9/%E2%9C%93/"],
    ["lone surrogate becomes U+FFFD", ["a\uD800"], false, "/a%EF%BF%BD"],
    ["host-lookalike first segment", ["evil.example"], false, "/evil.example"],
  ];
  for (const [name, segments, slash, want] of cases) {
    test(name, () => {
      const got = encodePathname(segments, slash);
      assert.equal(got, want, `encodePathname(${JSON.stringify(segments)}, ${slash}): got ${got}, want ${want}`);
    });
  }

  for (const segment of ["", ".", ".."]) {
    test(`refuses segment ${JSON.stringify(segment)}`, () => {
      assert.throws(
        () => encodePathname(["a", segment], false),
        RangeError,
        `encodePathname(["a", ${JSON.stringify(segment)}]) did not throw`,
      );
    });
  }

  test("round-trips through resolveRequestPath", () => {
    const names = ["a b", "100%", "#", "?", ";", "'", '"', "<script>", "café", "✓", "🐳", "...", ".x", "a+b", "&amp;", "%2e%2e", "%2f"];
    for (const name of names) {
      const encoded = encodePathname(["d", name], false);
      const got = resolveRequestPath(encoded);
      assert.deepEqual(
        got,
        { kind: "ok", segments: ["d", name], trailingSlash: false },
        `resolveRequestPath(encodePathname(${JSON.stringify(name)})) = ${JSON.stringify(got)}`,
      );
      assert.ok(!encoded.startsWith("//"), `encodePathname starts with //: ${encoded}`);
    }
  });

  test("encodeSegment returns plain names unchanged", () => {
    assert.equal(encodeSegment("index.html"), "index.html");
  });
});

describe("isInside", () => {
  const p = (...parts: string[]): string => sep + parts.join(sep);
  const root = p("srv", "public");
  const cases: ReadonlyArray<readonly [string, string, string, boolean]> = [
    ["root itself", root, root, true],
    ["child", root, p("srv", "public", "a.txt"), true],
    ["grandchild", root, p("srv", "public", "a", "b"), true],
    ["sibling with shared prefix (sirv's bug)", root, p("srv", "public-old"), false],
    ["sibling file with shared prefix", root, p("srv", "public-old", "secret"), false],
    ["prefix without separator", root, p("srv", "publicity"), false],
    ["parent", root, p("srv"), false],
    ["elsewhere", root, p("etc", "passwd"), false],
    ["filesystem root contains everything", sep, p("etc", "passwd"), true],
    ["filesystem root contains itself", sep, sep, true],
    ["root given with trailing separator", root + sep, p("srv", "public", "a"), true],
  ];
  for (const [name, r, candidate, want] of cases) {
    test(name, () => {
      const got = isInside(r, candidate);
      assert.equal(got, want, `isInside(${JSON.stringify(r)}, ${JSON.stringify(candidate)}): got ${got}, want ${want}`);
    });
  }
});

describe("relativeSegments", () => {
  const p = (...parts: string[]): string => sep + parts.join(sep);
  const cases: ReadonlyArray<readonly [string, string, string, readonly string[]]> = [
    ["root itself", p("srv", "public"), p("srv", "public"), []],
    ["child", p("srv", "public"), p("srv", "public", "a.txt"), ["a.txt"]],
    ["hidden grandchild", p("srv", "public"), p("srv", "public", ".git", "config"), [".git", "config"]],
    ["filesystem root", sep, p("etc", "passwd"), ["etc", "passwd"]],
  ];
  for (const [name, root, candidate, want] of cases) {
    test(name, () => {
      const got = relativeSegments(root, candidate);
      assert.deepEqual(
        got,
        want,
        `relativeSegments(${JSON.stringify(root)}, ${JSON.stringify(candidate)}): got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
      );
    });
  }
});
