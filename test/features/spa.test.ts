/** SPA fallback: deep links answer index.html for navigations only; assets and data requests keep their 404. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { spaDecision, wantsHtml } from "../../src/features/spa.js";
import { handlerFor, NAVIGATE, runRows } from "./support.js";

const INDEX = "<!doctype html><title>app</title><script src=/app.js></script>";
const tree = {
  "index.html": INDEX,
  "app.html": "<p>other shell</p>",
  "app.js": "console.log(1)",
  "nums.txt": "123456789",
  docs: { "a.txt": "a" },
  ".env": "SECRET=1",
};

describe("wantsHtml", () => {
  const rows: { accept: string | undefined; mode?: string; dest?: string; want: boolean }[] = [
    { accept: NAVIGATE.accept, want: true },
    { accept: "text/html", want: true },
    { accept: "application/xhtml+xml", want: true },
    { accept: "text/*", want: true },
    { accept: "*/*", want: false }, // curl, fetch(): not a navigation
    { accept: "*/*", mode: "navigate", want: true },
    { accept: "*/*", dest: "document", want: true },
    { accept: "*/*", mode: "cors", dest: "empty", want: false },
    { accept: "application/json", want: false },
    { accept: "application/json", mode: "navigate", want: false },
    { accept: "text/html;q=0, */*", mode: "navigate", want: false },
    { accept: "text/html;q=0.1", want: true },
    { accept: "image/avif,image/webp,*/*;q=0.8", dest: "image", want: false },
    { accept: "*/*;q=0", mode: "navigate", want: false },
    { accept: undefined, want: false },
    { accept: "", want: false },
  ];
  for (const row of rows) {
    test(`${JSON.stringify(row.accept)} mode=${row.mode ?? "-"} dest=${row.dest ?? "-"}`, () => {
      assert.equal(wantsHtml(row.accept, row.mode, row.dest), row.want);
    });
  }
});

describe("spaDecision", () => {
  const miss = { status: 404, miss: true } as const;
  test("a navigation to a missing page falls back", () =>
    assert.deepEqual(spaDecision("GET", ["a", "b"], miss, "text/html"), { kind: "fallback" }));
  test("POST keeps its answer", () =>
    assert.deepEqual(spaDecision("POST", ["a"], { status: 405, miss: true }, "text/html"), { kind: "keep", reason: "method" }));
  test("a found file is kept", () =>
    assert.deepEqual(spaDecision("GET", ["a"], { status: 200 }, "text/html"), { kind: "keep", reason: "found" }));
  test("a 404 that is not a miss (a custom route's) is kept", () =>
    assert.deepEqual(spaDecision("GET", ["a"], { status: 404 }, "text/html"), { kind: "keep", reason: "found" }));
  test("an asset is kept", () => assert.deepEqual(spaDecision("GET", ["app.js"], miss, "text/html"), { kind: "keep", reason: "asset" }));
  test("JSON is kept", () => assert.deepEqual(spaDecision("GET", ["api"], miss, "application/json"), { kind: "keep", reason: "not-html" }));
});

describe("single: true", () => {
  runRows(handlerFor(tree, { single: true }), [
    {
      name: "a deep link answers index.html",
      path: "/settings/profile",
      headers: NAVIGATE,
      status: 200,
      body: INDEX,
      want: { "content-type": "text/html; charset=utf-8", vary: "Accept", "cache-control": "no-cache" },
    },
    { name: "the query is irrelevant", path: "/users/42?tab=posts", headers: NAVIGATE, status: 200, body: INDEX },
    { name: "a trailing slash", path: "/settings/", headers: NAVIGATE, status: 200, body: INDEX },
    { name: "Accept: text/html alone", path: "/settings", headers: { accept: "text/html" }, status: 200, body: INDEX },
    { name: "the root is the index itself", path: "/", headers: NAVIGATE, status: 200, body: INDEX, want: { vary: null } },
    { name: "a file is served as itself", path: "/nums.txt", headers: NAVIGATE, status: 200, body: "123456789", want: { vary: null } },
    { name: "a directory is listed", path: "/docs/", headers: NAVIGATE, status: 200, body: /a\.txt/ },
    { name: "a directory still gets its slash", path: "/docs", headers: NAVIGATE, status: 301, want: { location: "/docs/" } },
    { name: "a missing asset keeps its 404", path: "/missing.js", headers: NAVIGATE, status: 404, want: { vary: null } },
    { name: "a dotted last segment is an asset", path: "/users/john.doe", headers: NAVIGATE, status: 404 },
    {
      name: "JSON keeps its 404, and says it varies",
      path: "/api/items",
      headers: { accept: "application/json" },
      status: 404,
      want: { vary: "Accept" },
    },
    { name: "curl's */* is not a navigation", path: "/settings", headers: { accept: "*/*" }, status: 404 },
    {
      name: "*/* on a navigation is",
      path: "/settings",
      headers: { accept: "*/*", "sec-fetch-mode": "navigate" },
      status: 200,
      body: INDEX,
    },
    // (fetch's URL parser resolves %2e%2e itself; raw traversal is in matrix.test.ts)
    { name: "a malformed path is still 400", path: "/a/%c0%ae%c0%ae/x", headers: NAVIGATE, status: 400 },
    { name: "dotfiles stay hidden", path: "/.env", headers: NAVIGATE, status: 404 },
    {
      name: "a hidden path gets the app like any unknown one (nothing is revealed)",
      path: "/.git/config",
      headers: NAVIGATE,
      status: 200,
      body: INDEX,
    },
    { name: "POST is still 405", path: "/settings", method: "POST", headers: NAVIGATE, status: 405 },
    {
      name: "a range of the fallback",
      path: "/deep",
      headers: { ...NAVIGATE, range: "bytes=0-14" },
      status: 206,
      body: "<!doctype html>",
      method: "GET",
    },
  ]);
  test("a revalidation of a deep link is a 304 with the index's ETag", async () => {
    const handler = handlerFor(tree, { single: true });
    const first = await handler.fetch(new Request("http://localhost/a/b", { headers: NAVIGATE }));
    const etag = first.headers.get("etag");
    await first.text();
    assert.ok(etag);
    const again = await handler.fetch(new Request("http://localhost/c", { headers: { ...NAVIGATE, "if-none-match": etag } }));
    assert.equal(again.status, 304);
  });
});

describe("single: a file of its own", () => {
  runRows(handlerFor(tree, { single: "app.html" }), [
    { name: "falls back to app.html", path: "/x/y", headers: NAVIGATE, status: 200, body: "<p>other shell</p>" },
  ]);
});

describe("single: the file is missing", () => {
  runRows(handlerFor({ "a.txt": "a" }, { single: true }), [{ name: "the honest 404", path: "/x", headers: NAVIGATE, status: 404 }]);
});

describe("single: option checks", () => {
  for (const bad of ["", "../index.html", "/", "a/../../b", 3]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => handlerFor(tree, { single: bad as string }),
        (e: Error & { code?: string }) => e.code === "WHARF_INVALID_SINGLE",
      );
    });
  }
});
