import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapeHtml, humanSize } from "../../src/core/text.js";
import { resolveRequestPath } from "../../src/path/resolve.js";
import { type ListedEntry as ListingEntry, renderListing } from "../../src/responders/listing/html.js";

// No default parameters: `file("x", undefined)` must mean "size unknown".
const file = (name: string, size: number | undefined, mtimeMs: number | undefined): ListingEntry => ({ name, kind: "file", size, mtimeMs });
const f = (name: string): ListingEntry => file(name, 1, 0);
const dir = (name: string): ListingEntry => ({ name, kind: "directory", size: 4096, mtimeMs: 0 });

const UNESCAPE: Readonly<Record<string, string>> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
const unescapeHtml = (s: string): string => s.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => UNESCAPE[e]!);

/** The rows of a rendered listing: shown name and href (both unescaped), in page order. */
function rowsOf(html: string): Array<{ shown: string; href: string | undefined }> {
  const out: Array<{ shown: string; href: string | undefined }> = [];
  for (const m of html.matchAll(
    /<td class=name>(?:<svg class=icon [\s\S]*?<\/svg>)?(?:<a href="([^"]*)">)?(?:<bdi dir=ltr>)?([\s\S]*?)(?:<\/bdi>)?(?:<\/a>)?<\/td>/g,
  )) {
    out.push({ href: m[1] === undefined ? undefined : unescapeHtml(m[1]), shown: unescapeHtml(m[2]!) });
  }
  return out;
}

// Names that break naive listings: each must be shown as itself and, clicked, lead
// back to exactly itself.
const AWKWARD = [
  "plain.txt",
  "a b.txt",
  "  leading and trailing  ",
  "100%.txt",
  "%",
  "%zz",
  "%2e%2e",
  "%2f",
  "%5c",
  "a%20b",
  "#hash",
  "?query",
  "a;b",
  "a&b=c",
  "x+y",
  "it's",
  'say "hi"',
  "<script>alert(1)<script>",
  "&amp;",
  "&#39;",
  "café",
  "CAFÉ",
  "✓ done",
  "🐳.png",
  "日本語.txt",
  "\u202Egnp.exe",
  "javascript:alert(1)",
  "a:b",
  "mailto:x@y",
  "evil.example",
  "...",
  ".hidden",
  "..a",
  "~user",
  "[x]{y}|z^`",
  "@at!$()*,=",
  "\uFEFFbom",
];

describe("renderListing links", () => {
  for (const kind of ["file", "directory"] as const) {
    for (const name of AWKWARD) {
      test(`${kind} ${JSON.stringify(name)} round-trips when clicked`, () => {
        const entry: ListingEntry = kind === "file" ? f(name) : dir(name);
        const html = renderListing({ segments: ["dir"], entries: [entry] });
        const rows = rowsOf(html).filter((r) => r.href !== "../");
        assert.equal(rows.length, 1, `rows for ${JSON.stringify(name)}: got ${JSON.stringify(rows)}, want 1`);
        const { href, shown } = rows[0]!;
        const slash = kind === "directory" ? "/" : "";
        assert.equal(shown, name + slash, `shown name: got ${JSON.stringify(shown)}, want ${JSON.stringify(name + slash)}`);
        assert.ok(href?.startsWith("./"), `href for ${JSON.stringify(name)}: got ${JSON.stringify(href)}, want ./…`);
        const url = new URL(href as string, "http://x/dir/");
        assert.equal(url.origin, "http://x", `href ${JSON.stringify(href)} left the origin: ${url.href}`);
        assert.equal(url.search + url.hash, "", `href ${JSON.stringify(href)} grew a query or fragment: ${url.href}`);
        const got = resolveRequestPath(url.pathname);
        const want = { kind: "ok", segments: ["dir", name], trailingSlash: kind === "directory" };
        assert.deepEqual(
          got,
          want,
          `clicking ${JSON.stringify(href)} → ${url.pathname}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
        );
      });
    }
  }

  test("names the server cannot serve are listed without a link", () => {
    const names = ["nul\u0000", ...(process.platform === "win32" ? ["new\nline", "tab\there", "back\\slash", "del\u007f"] : [])];
    const html = renderListing({ segments: [], entries: names.map(f) });
    for (const r of rowsOf(html)) {
      assert.equal(r.href, undefined, `row ${JSON.stringify(r.shown)}: got href ${JSON.stringify(r.href)}, want none`);
    }
    assert.equal(rowsOf(html).length, names.length, `got ${rowsOf(html).length} rows, want ${names.length}`);
  });

  // POSIX names may hold them; the link reaches the file and the page shows them as
  // control pictures, never raw (issue 10 item 17).
  test("controls and backslashes: linked on POSIX, shown as control pictures", { skip: process.platform === "win32" }, () => {
    const rows: ReadonlyArray<readonly [string, string, string]> = [
      ["tab\there", "./tab%09here", "tab\u2409here"],
      ["new\nline", "./new%0Aline", "new\u240Aline"],
      ["esc\u001b[31m", "./esc%1B%5B31m", "esc\u241B[31m"],
      ["del\u007f", "./del%7F", "del\u2421"],
      ["back\\slash", "./back%5Cslash", "back\\slash"],
    ];
    for (const [name, href, shown] of rows) {
      const got = rowsOf(renderListing({ segments: [], entries: [f(name)] }));
      assert.deepEqual(got, [{ href, shown }], `${JSON.stringify(name)}: got ${JSON.stringify(got)}`);
    }
  });
});

describe("renderListing page", () => {
  test("escapes the title and heading", () => {
    const html = renderListing({ segments: ["a b", "<x>&'\""], entries: [] });
    const want = "Index of /a b/&lt;x&gt;&amp;&#39;&quot;/";
    assert.ok(html.includes(`<title>${want}</title>`), `title: want ${want} in\n${html}`);
    assert.ok(html.includes(`<h1>Index of <bdi dir=ltr>/a b/&lt;x&gt;&amp;&#39;&quot;/</bdi></h1>`), `h1 missing in\n${html}`);
  });

  test("root title and no parent link", () => {
    const html = renderListing({ segments: [], entries: [f("a")] });
    assert.ok(html.includes("<title>Index of /</title>"), "root title");
    assert.ok(!html.includes('href="../"'), `root must not link to ../:\n${html}`);
  });

  test("parent link below the root comes first", () => {
    const html = renderListing({ segments: ["a"], entries: [dir("z"), f("b")] });
    const first = rowsOf(html)[0];
    assert.deepEqual(first, { shown: "../", href: "../" }, `first row: got ${JSON.stringify(first)}`);
  });

  test("hostile names never become markup", () => {
    // The page's own script (allowed by its hash) removed first: only what the names could add is left.
    const html = renderListing({
      segments: ["<script>"],
      entries: [f("<script>alert(1)<script>"), f('"><img src=x onerror=alert(1)>'), dir("<iframe>")],
    }).replace(/<script>\(\(\)=>[^<]*<\/script>/, "");
    for (const bad of ["<script", "<img", "<iframe", "onerror=alert(1)>"]) {
      assert.ok(!html.includes(bad), `found ${JSON.stringify(bad)} in\n${html}`);
    }
  });

  test("a complete, self-contained HTML5 document", () => {
    const html = renderListing({ segments: ["a"], entries: [f("x")] });
    for (const want of [
      "<!doctype html>",
      '<meta charset="utf-8">',
      '<meta name="viewport"',
      "prefers-color-scheme",
      "</html>",
      "default-src 'none'",
    ]) {
      assert.ok(html.includes(want), `missing ${JSON.stringify(want)}`);
    }
    // One inline script (allowed by its hash), nothing loaded.
    assert.equal(html.match(/<script/g)?.length, 1, "one inline script");
    for (const bad of ["<script src", "http:", "https:", "src=", "<link", "@import", "url(", "unsafe-inline"]) {
      assert.ok(!html.includes(bad), `found ${JSON.stringify(bad)}: a listing loads nothing`);
    }
  });

  test("directories first, natural order, deterministic ties", () => {
    const entries = [
      f("file10.txt"),
      f("b.txt"),
      dir("zeta"),
      f("file2.txt"),
      f("B.txt"),
      dir("Alpha"),
      f("a.txt"),
      dir("beta"),
      f("é.txt"),
      f("e.txt"),
    ];
    const shown = rowsOf(renderListing({ segments: [], entries })).map((r) => r.shown);
    const want = ["Alpha/", "beta/", "zeta/", "a.txt", "B.txt", "b.txt", "e.txt", "é.txt", "file2.txt", "file10.txt"];
    assert.deepEqual(shown, want, `got ${JSON.stringify(shown)}, want ${JSON.stringify(want)}`);
    const reversed = rowsOf(renderListing({ segments: [], entries: [...entries].reverse() })).map((r) => r.shown);
    assert.deepEqual(reversed, want, `input order leaked: got ${JSON.stringify(reversed)}`);
  });

  test("sizes: human with exact bytes in the title; dash for directories and unknown", () => {
    const html = renderListing({ segments: [], entries: [file("a", 1229, 0), file("b", undefined, 0), dir("c"), file("d", 0, 0)] });
    assert.ok(html.includes('<td class=size title="1,229 bytes">1.2 KiB</td>'), `1229 bytes row missing in\n${html}`);
    assert.ok(html.includes('<td class=size title="0 bytes">0 B</td>'), "0 bytes row missing");
    assert.equal(html.match(/<td class=size>—<\/td>/g)?.length, 2, "want — for the directory and the unknown size");
  });

  test("modified time in UTC with a machine-readable datetime", () => {
    const ms = Date.UTC(2026, 10, 26, 10, 0, 59, 500);
    const html = renderListing({
      segments: [],
      entries: [file("a", 1, ms), file("b", 1, Number.NaN), file("c", 1, 1e20), file("d", 1, undefined)],
    });
    const want = '<time datetime="2026-11-26T10:00:59.500Z">2026-11-26<span class=hm> 10:00</span></time>';
    assert.ok(html.includes(want), `want ${want} in\n${html}`);
    assert.equal(html.match(/<time /g)?.length, 1, "invalid or unknown times render no <time>");
  });
});

describe("humanSize", () => {
  const rows: ReadonlyArray<readonly [number, string]> = [
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1229, "1.2 KiB"],
    [1536, "1.5 KiB"],
    [1024 ** 2, "1.0 MiB"],
    [5.5 * 1024 ** 3, "5.5 GiB"],
    [2 * 1024 ** 4, "2.0 TiB"],
    [1024 ** 6, "1.0 EiB"],
    [4 * 1024 ** 7, "4096.0 EiB"],
  ];
  for (const [bytes, want] of rows) {
    test(String(bytes), () => {
      const got = humanSize(bytes);
      assert.equal(got, want, `humanSize(${bytes}): got ${got}, want ${want}`);
    });
  }
});

describe("escapeHtml", () => {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["plain", "plain"],
    ["", ""],
    ["a & b", "a &amp; b"],
    ["<x>", "&lt;x&gt;"],
    [`"'`, "&quot;&#39;"],
    ["&amp;", "&amp;amp;"],
    ["✓ é", "✓ é"],
  ];
  for (const [input, want] of rows) {
    test(JSON.stringify(input), () => {
      const got = escapeHtml(input);
      assert.equal(got, want, `escapeHtml(${JSON.stringify(input)}): got ${got}, want ${want}`);
    });
  }
});
