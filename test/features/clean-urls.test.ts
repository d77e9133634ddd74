/** Clean URLs and the trailing-slash policy, alone and together: one redirect, queries kept. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cleanUrlTarget } from "../../src/features/clean-urls.js";
import { trailingSlashTarget } from "../../src/features/trailing-slash.js";
import { handlerFor, runRows } from "./support.js";

const tree = {
  "index.html": "<p>home</p>",
  "about.html": "<p>about</p>",
  "contact.html": "<p>contact</p>",
  "notes.txt": "notes",
  raw: "no extension",
  docs: { "index.html": "<p>docs</p>", "guide.html": "<p>guide</p>" },
  files: { "a.txt": "a" },
  app: { "x.html": "<p>app x</p>" },
};

describe("cleanUrlTarget and trailingSlashTarget", () => {
  const shape = (path: string) => ({ segments: path.split("/").filter(Boolean), trailingSlash: path.endsWith("/") });
  const show = (s: { segments: readonly string[]; trailingSlash: boolean }) =>
    `/${s.segments.join("/")}${s.trailingSlash && s.segments.length ? "/" : ""}`;
  const rows: [string, string][] = [
    ["/about.html", "/about"],
    ["/docs/index.html", "/docs/"],
    ["/index.html", "/"],
    ["/a/b.html", "/a/b"],
    ["/about", "/about"],
    ["/.html", "/.html"],
    ["/x.html/", "/x.html/"],
    ["/..html", "/..html"],
    ["/...html", "/...html"],
    ["/a/..html", "/a/..html"],
  ];
  for (const [from, to] of rows) test(`clean ${from} → ${to}`, () => assert.equal(show(cleanUrlTarget(shape(from))), to));
  const slash: [string, "always" | "never", string][] = [
    ["/about", "always", "/about/"],
    ["/app.js", "always", "/app.js"],
    ["/.well-known", "always", "/.well-known"],
    ["/", "always", "/"],
    ["/about/", "never", "/about"],
    ["/", "never", "/"],
    ["/about", "never", "/about"],
  ];
  for (const [from, policy, to] of slash)
    test(`${policy} ${from} → ${to}`, () => assert.equal(show(trailingSlashTarget(shape(from), policy)), to));
});

describe("cleanUrls: true", () => {
  runRows(handlerFor(tree, { cleanUrls: true }), [
    {
      name: "/about serves about.html",
      path: "/about",
      status: 200,
      body: "<p>about</p>",
      want: { "content-type": "text/html; charset=utf-8" },
    },
    { name: "nested", path: "/docs/guide", status: 200, body: "<p>guide</p>" },
    { name: "/about.html redirects, keeping the query", path: "/about.html?x=1&y=2", status: 301, want: { location: "/about?x=1&y=2" } },
    { name: "/docs/index.html redirects to the directory", path: "/docs/index.html", status: 301, want: { location: "/docs/" } },
    { name: "/index.html redirects to /", path: "/index.html?q", status: 301, want: { location: "/?q" } },
    { name: "a directory still wins and gets its slash", path: "/docs", status: 301, want: { location: "/docs/" } },
    { name: "the directory's index", path: "/docs/", status: 200, body: "<p>docs</p>" },
    { name: "other files are untouched", path: "/notes.txt", status: 200, body: "notes" },
    { name: "an extension-less file wins", path: "/raw", status: 200, body: "no extension" },
    { name: "missing stays 404", path: "/nope", status: 404 },
    { name: "/about/ (no such directory) serves about.html", path: "/about/", status: 200, body: "<p>about</p>" },
    { name: "an encoded name", path: "/abou%74", status: 200, body: "<p>about</p>" },
    { name: "POST is not redirected", path: "/about.html", method: "POST", status: 405 },
    // Issue 10 item 16: these stripped to a dot segment and answered 500.
    { name: "/..html is not stripped to a dot segment (404, not 500)", path: "/..html", status: 404 },
    { name: "/%2e.html is not stripped to a dot segment (404, not 500)", path: "/%2e.html", status: 404 },
    { name: "/docs/%2e%2e.html is not stripped to a dot segment (404, not 500)", path: "/docs/%2e%2e.html", status: 404 },
  ]);
});

describe("cleanUrls as globs", () => {
  runRows(handlerFor(tree, { cleanUrls: ["/app/**"] }), [
    { name: "inside the globs", path: "/app/x", status: 200, body: "<p>app x</p>" },
    { name: "inside: redirect", path: "/app/x.html", status: 301, want: { location: "/app/x" } },
    { name: "outside the globs", path: "/about", status: 404 },
    { name: "outside: no redirect", path: "/about.html", status: 200, body: "<p>about</p>" },
  ]);
});

describe("trailingSlash: always", () => {
  runRows(handlerFor(tree, { trailingSlash: "always", cleanUrls: true }), [
    { name: "adds the slash", path: "/about?q=1", status: 301, want: { location: "/about/?q=1" } },
    { name: "then serves the clean page", path: "/about/", status: 200, body: "<p>about</p>" },
    { name: "one hop from .html", path: "/about.html", status: 301, want: { location: "/about/" } },
    { name: "files with extensions are left alone", path: "/notes.txt", status: 200, body: "notes" },
    { name: "a directory", path: "/docs/", status: 200, body: "<p>docs</p>" },
  ]);
});

describe("trailingSlash: never", () => {
  runRows(handlerFor(tree, { trailingSlash: "never", cleanUrls: true }), [
    { name: "removes the slash", path: "/docs/?q=1", status: 301, want: { location: "/docs?q=1" } },
    { name: "a directory is served without it", path: "/docs", status: 200, body: "<p>docs</p>" },
    { name: "a listing too", path: "/files", status: 200, body: /a\.txt/ },
    { name: "/docs/index.html → /docs in one hop", path: "/docs/index.html", status: 301, want: { location: "/docs" } },
    { name: "the root keeps its slash", path: "/", status: 200, body: "<p>home</p>" },
    { name: "clean pages", path: "/about", status: 200, body: "<p>about</p>" },
  ]);
});

describe("option checks", () => {
  test("trailingSlash must be always or never", () => {
    assert.throws(
      () => handlerFor(tree, { trailingSlash: "sometimes" as "always" }),
      (e: Error & { code?: string }) => e.code === "WHARF_INVALID_TRAILING_SLASH",
    );
  });
  test("cleanUrls must be a boolean or globs", () => {
    assert.throws(
      () => handlerFor(tree, { cleanUrls: "yes" as unknown as boolean }),
      (e: Error & { code?: string }) => e.code === "WHARF_INVALID_CLEAN_URLS",
    );
  });
});
