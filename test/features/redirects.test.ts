/** Redirect and rewrite rules with serve.json semantics: globs, :param segments, statuses, queries. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileGlob, compileSource, matchPath, normaliseSource } from "../../src/features/patterns.js";
import { handlerFor, runRows } from "./support.js";

describe("patterns", () => {
  const rows: { source: string; path: string; want: Record<string, string> | undefined }[] = [
    { source: "/from", path: "/from", want: {} },
    { source: "from", path: "/from", want: {} },
    { source: "/old-pages/**", path: "/old-pages/a/b", want: {} },
    { source: "/old-pages/**", path: "/old-pages", want: {} },
    { source: "/old-pages/**", path: "/old-pagesx", want: undefined },
    { source: "app/**", path: "/app/x", want: {} },
    { source: "projects/*/edit", path: "/projects/7/edit", want: {} },
    { source: "projects/*/edit", path: "/projects/7/8/edit", want: undefined },
    { source: "**/*.@(jpg|jpeg|gif|png)", path: "/a.png", want: {} },
    { source: "**/*.@(jpg|jpeg|gif|png)", path: "/x/y/a.jpeg", want: {} },
    { source: "**/*.@(jpg|jpeg|gif|png)", path: "/a.svg", want: undefined },
    { source: "**", path: "/", want: {} },
    { source: "/", path: "/", want: {} },
    { source: "/", path: "/a", want: undefined },
    { source: "/projects/:id/edit", path: "/projects/123/edit", want: { id: "123" } },
    { source: "/projects/:id/edit", path: "/projects/1/2/edit", want: undefined },
    { source: "/old-docs/:id", path: "/old-docs/12", want: { id: "12" } },
    { source: "/u/:user/:tab", path: "/u/ann/posts", want: { user: "ann", tab: "posts" } },
    { source: "/files/:name/**", path: "/files/a/b/c", want: { name: "a" } },
    { source: "/a.b/:x", path: "/aXb/1", want: undefined }, // dots are literal
    { source: "/doc-:id.html", path: "/doc-42.html", want: { id: "42" } },
    { source: "/doc-:id.html", path: "/doc-.html", want: undefined }, // a parameter is never empty
    { source: "/:x/**/a/**/b", path: "/p/q/a/r/b", want: { x: "p" } },
    { source: "/:x/**/a/**/b", path: "/p/a/b", want: { x: "p" } },
    { source: "/:x/*a*b", path: "/p/zazzb", want: { x: "p" } },
    { source: "/:x/*a*b", path: "/p/zazz", want: undefined },
    // The shape that backtracked as a regex: it must simply answer (fast, and by
    // construction at most pattern × path segments steps).
    { source: "/:x/**/a/**/a/**/b", path: `/${"a/".repeat(4000)}a`, want: undefined },
    { source: "/:x/*a*a*a*b", path: `/p/${"a".repeat(8000)}`, want: undefined },
  ];
  for (const row of rows) {
    test(`${row.source} ~ ${row.path}`, () => assert.deepEqual(compileSource(row.source)(row.path), row.want));
  }
  test("two parameters in one segment are refused when compiled", () => {
    assert.throws(() => compileSource("/:a-:b"), RangeError);
  });
  test("normaliseSource is serve's slasher", () => {
    assert.equal(normaliseSource("a//b/./c/../d"), "/a/b/d");
    assert.equal(normaliseSource(""), "/");
  });
  test("globs do not match dotfiles (minimatch's default)", () => assert.equal(compileGlob("**")("/.env"), undefined));
  test("matchPath decodes once and normalises", () => {
    assert.deepEqual(matchPath("/a%20b//c/"), { path: "/a b/c", segments: ["a b", "c"], trailingSlash: true });
    assert.equal(matchPath("/%zz"), undefined);
  });
});

const tree = {
  "index.html": "<p>home</p>",
  "to.html": "to",
  "new-docs": { "12.html": "doc 12" },
  "edit-project-123.html": "edit 123",
  "edit-project.html": "edit any",
  app: { "index.html": "<p>app shell</p>", "real.txt": "real" },
  "exists.txt": "exists",
};

describe("redirects", () => {
  runRows(
    handlerFor(tree, {
      redirects: [
        { source: "/from", destination: "/to" },
        { source: "/old-pages/**", destination: "/home" },
        { source: "/old-docs/:id", destination: "/new-docs/:id" },
        { source: "/old", destination: "/new", type: 302 },
        { source: "/search-old", destination: "/search?q=fixed" },
        { source: "/ext/:id", destination: "https://example.com/items/:id" },
        { source: "/evil/:x", destination: "/:x" },
        { source: "/exists.txt", destination: "/to" },
      ],
    }),
    [
      { name: "a plain redirect is 301", path: "/from", status: 301, want: { location: "/to", "content-length": "0" }, body: "" },
      { name: "the query is kept", path: "/from?a=1", status: 301, want: { location: "/to?a=1" } },
      { name: "a glob", path: "/old-pages/x/y", status: 301, want: { location: "/home" } },
      { name: "a segment", path: "/old-docs/12", status: 301, want: { location: "/new-docs/12" } },
      { name: "a segment is re-encoded", path: "/old-docs/a%20b", status: 301, want: { location: "/new-docs/a%20b" } },
      { name: "type 302", path: "/old", status: 302, want: { location: "/new" } },
      { name: "the destination's own query wins", path: "/search-old?q=mine", status: 301, want: { location: "/search?q=fixed" } },
      {
        name: "an external destination, the segment encoded",
        path: "/ext/a%20b",
        status: 301,
        want: { location: "https://example.com/items/a%20b" },
      },
      { name: "%2F splits segments: no match", path: "/ext/a%2Fb", status: 404 },
      { name: "never a protocol-relative Location", path: "/evil/%2F%2Fevil.example", status: 301, want: { location: "/evil.example" } },
      { name: "a redirect rule beats an existing file", path: "/exists.txt", status: 301, want: { location: "/to" } },
      { name: "no rule: served as usual", path: "/to.html", status: 200, body: "to" },
    ],
  );
});

describe("rewrites", () => {
  runRows(
    handlerFor(tree, {
      rewrites: [
        { source: "app/**", destination: "/app/index.html" },
        { source: "/projects/:id/edit", destination: "/edit-project-:id.html" },
        { source: "projects/*/settings", destination: "/edit-project.html" },
        { source: "/gone/**", destination: "/not-there.html" },
      ],
    }),
    [
      { name: "a glob rewrite (no redirect: the URL stays)", path: "/app/settings/profile", status: 200, body: "<p>app shell</p>" },
      { name: "a real file under the glob wins", path: "/app/real.txt", status: 200, body: "real" },
      { name: "a segment rewrite", path: "/projects/123/edit", status: 200, body: "edit 123" },
      { name: "a segment whose file is missing", path: "/projects/999/edit", status: 404 },
      { name: "a star", path: "/projects/7/settings", status: 200, body: "edit any" },
      { name: "a destination that is missing too", path: "/gone/x", status: 404 },
      { name: "no rule", path: "/elsewhere", status: 404 },
      { name: "an existing file is never rewritten", path: "/exists.txt", status: 200, body: "exists" },
    ],
  );
});

describe("rule checks", () => {
  const code = (e: Error & { code?: string }): string | undefined => e.code;
  const bad: [string, object, string][] = [
    ["redirects not a list", { redirects: {} }, "WHARF_INVALID_REDIRECTS"],
    ["missing destination", { redirects: [{ source: "/a" }] }, "WHARF_INVALID_REDIRECTS"],
    ["bad status", { redirects: [{ source: "/a", destination: "/b", type: 200 }] }, "WHARF_INVALID_REDIRECTS"],
    ["relative destination", { redirects: [{ source: "/a", destination: "b" }] }, "WHARF_INVALID_REDIRECTS"],
    ["javascript: destination", { redirects: [{ source: "/a", destination: "javascript://x" }] }, "WHARF_INVALID_REDIRECTS"],
    ["unknown parameter", { redirects: [{ source: "/a/:id", destination: "/b/:name" }] }, "WHARF_INVALID_REDIRECTS"],
    ["a parameter twice", { redirects: [{ source: "/a/:id/:id", destination: "/b" }] }, "WHARF_INVALID_REDIRECTS"],
    ["external rewrite", { rewrites: [{ source: "/a", destination: "https://example.com/" }] }, "WHARF_INVALID_REWRITES"],
    ["climbing rewrite", { rewrites: [{ source: "/a", destination: "/../../etc/passwd" }] }, "WHARF_INVALID_REWRITES"],
    ["CRLF in a destination", { redirects: [{ source: "/a", destination: "/b\r\nSet-Cookie: x=1" }] }, "WHARF_INVALID_REDIRECTS"],
  ];
  for (const [name, options, want] of bad) {
    test(name, () =>
      assert.throws(
        () => handlerFor(tree, options),
        (e: Error & { code?: string }) => code(e) === want && /\[0\]|list/.test(e.message),
      ),
    );
  }
});
