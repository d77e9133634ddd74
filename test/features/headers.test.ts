/** Custom headers by glob (serve.json's `headers`), -H, --coop-coep, and the 404 page. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseHeaderFlag } from "../../src/features/headers.js";
import { json, type Middleware } from "../../src/index.js";
import { handlerFor, NAVIGATE, runRows } from "./support.js";

const tree = {
  "index.html": "<p>home</p>",
  "404.html": "<p>custom missing</p>",
  "photo.jpg": "jpg",
  "pic.png": "png",
  "app.wasm": "wasm",
  "nums.txt": "123456789",
  img: { "deep.gif": "gif" },
  docs: { "index.html": "<p>docs</p>" },
  ".well-known": { "security.txt": "Contact: x" },
};

describe("parseHeaderFlag", () => {
  test("Name: value", () => assert.deepEqual(parseHeaderFlag("X-Frame-Options: DENY"), { name: "X-Frame-Options", value: "DENY" }));
  test("a value with colons", () =>
    assert.deepEqual(parseHeaderFlag("Link: <https://a/>; rel=preload"), { name: "Link", value: "<https://a/>; rel=preload" }));
  for (const bad of ["no colon", ": value", "Bad Name: x", "X: a\r\nInjected: 1"]) {
    test(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseHeaderFlag(bad), undefined));
  }
});

describe("headers: serve.json's own example", () => {
  runRows(
    handlerFor(tree, {
      headers: [
        { source: "**/*.@(jpg|jpeg|gif|png)", headers: { "Cache-Control": "max-age=7200" } },
        { source: "404.html", headers: { "Cache-Control": "max-age=300" } },
      ],
      notFound: "404.html",
    }),
    [
      { name: "an image at the root", path: "/photo.jpg", status: 200, want: { "cache-control": "max-age=7200" } },
      { name: "an image deeper", path: "/img/deep.gif", status: 200, want: { "cache-control": "max-age=7200" } },
      { name: "not an image", path: "/nums.txt", status: 200, want: { "cache-control": "no-cache" } },
      {
        name: "the 404 page gets its rule",
        path: "/nope",
        status: 404,
        body: "<p>custom missing</p>",
        want: { "cache-control": "max-age=300", etag: null },
      },
      {
        name: "a missing image gets the 404 page's headers, not the image rule",
        path: "/missing.png",
        status: 404,
        want: { "cache-control": "max-age=300" },
      },
    ],
  );
});

describe("headers: order, removal, directories, global rules", () => {
  runRows(
    handlerFor(tree, {
      headers: [
        { source: "**", headers: { "X-Frame-Options": "DENY", "X-Team": "a" } },
        { source: "*.wasm", headers: { "X-Team": "b", "X-Content-Type-Options": null } },
        { source: "/docs/**", headers: { "X-Docs": "yes" } },
      ],
      coopCoep: true,
    }),
    [
      {
        name: "every file",
        path: "/nums.txt",
        status: 200,
        want: {
          "x-frame-options": "DENY",
          "x-team": "a",
          "cross-origin-opener-policy": "same-origin",
          "cross-origin-embedder-policy": "require-corp",
        },
      },
      {
        name: "a later rule overrides, null removes",
        path: "/app.wasm",
        status: 200,
        want: { "x-team": "b", "x-content-type-options": null },
      },
      { name: "a directory matches as its index.html", path: "/docs/", status: 200, want: { "x-docs": "yes" } },
      { name: "the root", path: "/", status: 200, want: { "x-frame-options": "DENY" } },
      { name: "** covers dot-directories", path: "/.well-known/security.txt", status: 200, want: { "x-frame-options": "DENY" } },
      {
        name: "a 304 carries them too",
        path: "/nums.txt",
        headers: { "if-none-match": "*" },
        status: 304,
        want: { "x-frame-options": "DENY" },
      },
      { name: "a 404 does not", path: "/nope", status: 404, want: { "x-frame-options": null, "cross-origin-opener-policy": null } },
      { name: "a directory redirect does not", path: "/docs", status: 301, want: { "x-frame-options": null } },
    ],
  );
});

describe("header rule checks", () => {
  const bad: [string, unknown][] = [
    ["a framing header", [{ source: "**", headers: { "Content-Length": "1" } }]],
    ["a bad name", [{ source: "**", headers: { "Bad Name": "1" } }]],
    ["a line break", [{ source: "**", headers: { "X-A": "1\r\nX-B: 2" } }]],
    ["a number", [{ source: "**", headers: { "X-A": 1 } }]],
    ["serve's key/value list is for serve.json", [{ source: "**", headers: [{ key: "X-A", value: "1" }] }]],
    ["not a list", { source: "**" }],
  ];
  for (const [name, headers] of bad) {
    test(name, () =>
      assert.throws(
        () => handlerFor(tree, { headers: headers as [] }),
        (e: Error & { code?: string }) => e.code === "WHARF_INVALID_HEADERS",
      ),
    );
  }
});

describe("notFound", () => {
  const api: Middleware = (req, next) => (req.pathname === "/api/missing" ? json(404, { error: "no such item" }) : next());
  const handler = handlerFor(tree, { notFound: "404.html", use: [api], single: true });
  runRows(handler, [
    {
      name: "a missing file",
      path: "/missing.txt",
      status: 404,
      body: "<p>custom missing</p>",
      want: { "content-type": "text/html; charset=utf-8", etag: null, "last-modified": null, "accept-ranges": null },
    },
    {
      name: "the client's range and validators are not applied to it",
      path: "/missing.css",
      headers: { range: "bytes=0-2", "if-none-match": "*" },
      status: 404,
      body: "<p>custom missing</p>",
    },
    { name: "a navigation still gets the SPA", path: "/deep/link", headers: NAVIGATE, status: 200, body: "<p>home</p>" },
    { name: "a custom route's own 404 is left alone", path: "/api/missing", status: 404, body: '{"error":"no such item"}' },
    { name: "the page itself, asked for", path: "/404.html", status: 200, body: "<p>custom missing</p>" },
    { name: "POST keeps wharf's 405", path: "/missing.txt", method: "POST", status: 405 },
  ]);
  test("without the file, wharf's own page", async () => {
    const res = await handlerFor({ "a.txt": "a" }, { notFound: "404.html" }).fetch(new Request("http://localhost/nope"));
    assert.equal(res.status, 404);
    assert.match(await res.text(), /404 Not Found/);
  });
});
