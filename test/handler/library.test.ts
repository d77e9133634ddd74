/**
 * The library surface: the core on an in-memory tree (no socket), the Fetch form,
 * custom middleware around the static handler, Express mounting with fall-through,
 * and option validation.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import express from "express";
import type { Middleware, StaticOptions } from "../../src/index.js";
import { createHandler, html, memoryFileSystem, OptionError, text, withHeader } from "../../src/index.js";

const tree = {
  "nums.txt": "123456789",
  "index.html": "<p>home</p>",
  "404.html": "<p>custom missing</p>",
  docs: { "a.md": "# a" },
};
const memory = (extra: Partial<StaticOptions> = {}): StaticOptions => ({
  root: "/site",
  fs: memoryFileSystem("/site", tree),
  ...extra,
});
const get = (path: string, init?: RequestInit): Request => new Request(`http://localhost${path}`, init);

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

describe("fetch form on an in-memory tree", () => {
  const handler = createHandler(memory());
  const rows: { name: string; path: string; init?: RequestInit; status: number; body?: string; headers?: Record<string, string> }[] = [
    {
      name: "file",
      path: "/nums.txt",
      status: 200,
      body: "123456789",
      headers: { "content-type": "text/plain; charset=utf-8", "content-length": "9" },
    },
    { name: "index", path: "/", status: 200, body: "<p>home</p>" },
    {
      name: "range",
      path: "/nums.txt",
      init: { headers: { range: "bytes=-2" } },
      status: 206,
      body: "89",
      headers: { "content-range": "bytes 7-8/9" },
    },
    {
      name: "HEAD keeps the length",
      path: "/nums.txt",
      init: { method: "HEAD" },
      status: 200,
      body: "",
      headers: { "content-length": "9" },
    },
    { name: "redirect", path: "/docs?q=1", status: 301, body: "", headers: { location: "/docs/?q=1" } },
    { name: "markdown", path: "/docs/a.md", status: 200, body: "# a", headers: { "content-type": "text/markdown; charset=utf-8" } },
    { name: "missing", path: "/nope", status: 404 },
    { name: "POST", path: "/nums.txt", init: { method: "POST" }, status: 405, headers: { allow: "GET, HEAD, OPTIONS" } },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const res = await handler.fetch(get(row.path, row.init));
      assert.equal(res.status, row.status, `${row.path}: got ${res.status}, want ${row.status}`);
      for (const [k, v] of Object.entries(row.headers ?? {})) assert.equal(res.headers.get(k), v, `${row.path}: ${k}`);
      assert.ok(res.headers.get("date"), "Date is set");
      const body = await res.text();
      if (row.body !== undefined) assert.equal(body, row.body, `${row.path}: body`);
    });
  }
  test("304 from the ETag of a 200", async () => {
    const first = await handler.fetch(get("/nums.txt"));
    const etag = first.headers.get("etag") ?? "";
    await first.arrayBuffer();
    const second = await handler.fetch(get("/nums.txt", { headers: { "if-none-match": etag } }));
    assert.equal(second.status, 304);
    assert.equal(second.headers.get("etag"), etag);
    assert.equal(await second.text(), "");
  });
});

describe("custom handlers around the static one", () => {
  const addHeader: Middleware = async (_req, next) => withHeader(await next(), "x-served-by", "wharf");
  const route: Middleware = (req, next) => (req.pathname === "/api/hello" ? text(200, "hello") : next());
  const notFound: Middleware = async (_req, next) => {
    const reply = await next();
    return reply.status === 404 ? html(404, "<p>custom missing</p>") : reply;
  };
  const handler = createHandler(memory({ use: [addHeader, route, notFound] }));
  test("a route answers before the static handler", async () => {
    const res = await handler.fetch(get("/api/hello"));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hello");
    assert.equal(res.headers.get("x-served-by"), "wharf");
  });
  test("a header is added to static replies", async () => {
    const res = await handler.fetch(get("/nums.txt"));
    assert.equal(res.headers.get("x-served-by"), "wharf");
    assert.equal(await res.text(), "123456789");
  });
  test("a custom 404 page", async () => {
    const res = await handler.fetch(get("/missing"));
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "<p>custom missing</p>");
  });
  test("a throwing handler is a 500 and the next request still works", async () => {
    const errors: unknown[] = [];
    const broken = createHandler(
      memory({
        use: [
          () => {
            throw new Error("boom /secret/path");
          },
        ],
      }),
      (e) => errors.push(e),
    );
    const res = await broken.fetch(get("/nums.txt"));
    assert.equal(res.status, 500);
    assert.ok(!(await res.text()).includes("boom"), "no error text leaks");
    assert.equal(errors.length, 1);
  });
});

describe("as Express middleware", () => {
  test("misses fall through to the next route; hits are served", async () => {
    const app = express();
    app.use(createHandler(memory()));
    app.use((_req, res) => {
      res.status(418).send("fell through");
    });
    const server = createServer(app);
    const port = await listen(server);
    try {
      const hit = await fetch(`http://127.0.0.1:${port}/nums.txt`);
      assert.equal(hit.status, 200);
      assert.equal(await hit.text(), "123456789");
      const miss = await fetch(`http://127.0.0.1:${port}/missing`);
      assert.equal(miss.status, 418);
      assert.equal(await miss.text(), "fell through");
      const post = await fetch(`http://127.0.0.1:${port}/nums.txt`, { method: "POST" });
      assert.equal(post.status, 418);
      await post.text();
    } finally {
      server.close();
    }
  });
  test("with fallthrough off, misses are answered here", async () => {
    const app = express();
    app.use(createHandler(memory({ fallthrough: false })));
    app.use((_req, res) => {
      res.status(418).send("fell through");
    });
    const server = createServer(app);
    const port = await listen(server);
    try {
      const miss = await fetch(`http://127.0.0.1:${port}/missing`);
      assert.equal(miss.status, 404);
      await miss.text();
    } finally {
      server.close();
    }
  });
});

describe("options are validated once, at construction", () => {
  const bad: { name: string; options: Record<string, unknown>; code: string }[] = [
    { name: "dotfiles", options: { dotfiles: "show" }, code: "WHARF_INVALID_DOTFILES" },
    { name: "symlinks", options: { symlinks: true }, code: "WHARF_INVALID_SYMLINKS" },
    { name: "index with a slash", options: { index: ["a/b.html"] }, code: "WHARF_INVALID_INDEX" },
    { name: "maxRanges negative", options: { maxRanges: -1 }, code: "WHARF_INVALID_MAX_RANGES" },
    { name: "cacheControl with a newline", options: { cacheControl: "no-cache\r\nx: y" }, code: "WHARF_INVALID_CACHE_CONTROL" },
    { name: "use not functions", options: { use: ["x"] }, code: "WHARF_INVALID_USE" },
    { name: "listing not boolean", options: { listing: "yes" }, code: "WHARF_INVALID_LISTING" },
  ];
  for (const row of bad) {
    test(row.name, () => {
      assert.throws(
        () => createHandler(row.options as StaticOptions),
        (e: unknown) => e instanceof OptionError && e.code === row.code,
        `${JSON.stringify(row.options)} should throw ${row.code}`,
      );
    });
  }
});
