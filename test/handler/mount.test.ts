/**
 * The handler mounted under a path, in real Express 4, Express 5 and Connect
 * apps: `app.use("/static", handler)`. The framework strips `/static` from
 * `req.url`; redirects must put it back (`/static/sub` → `/static/sub/`, not
 * `/sub/`), and the mount point without its slash must redirect to `/static/`
 * as express.static does, or the index page's relative links resolve against
 * `/`. Connect calls any middleware with a `.handle` method as a sub-app,
 * `handle(req, res, next)`: that must serve, not crash the process.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type RequestListener, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import connect from "connect";
import express5 from "express";
import express4 from "express4";
import { type Mount, mountedLocation, mountOf } from "../../src/adapters/mount.js";
import { createHandler } from "../../src/index.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-mount-"));
  writeFileSync(join(dir, "index.html"), "<a href=a.txt>a</a>");
  writeFileSync(join(dir, "a.txt"), "A");
  writeFileSync(join(dir, "page.html"), "page");
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", "b.txt"), "B");
  mkdirSync(join(dir, "sub", "deeper"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

function send(port: number, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on("error", reject);
    // A deadline for an answer that never comes (the handler's .handle given Connect's
    // raw request used to leave it hanging), generous for a busy machine.
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path}`)));
    req.end();
  });
}

async function listen(app: RequestListener): Promise<{ port: number; server: Server }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/** Each framework's app with the handler at /static, and the app's own answer after it. */
const FRAMEWORKS: { name: string; app: (handler: ReturnType<typeof createHandler>) => RequestListener }[] = [
  {
    name: "Express 5",
    app: (handler) => {
      const app = express5();
      app.use("/static", handler);
      app.use((_req, res) => void res.status(418).send("next"));
      return app;
    },
  },
  {
    name: "Express 4",
    app: (handler) => {
      const app = express4();
      app.use("/static", handler);
      app.use((_req, res) => void res.status(418).send("next"));
      return app;
    },
  },
  {
    name: "Connect",
    app: (handler) => {
      const app = connect();
      app.use("/static", handler);
      app.use((_req: unknown, res: import("node:http").ServerResponse) => {
        res.statusCode = 418;
        res.end("next");
      });
      return app;
    },
  },
];

/** Rows: method, path, then the exact status and Location (or body) wanted. */
const ROWS: { name: string; method: string; path: string; status: number; location?: string; body?: string }[] = [
  { name: "a directory without its slash", method: "GET", path: "/static/sub", status: 301, location: "/static/sub/" },
  { name: "the query is kept", method: "GET", path: "/static/sub?x=1&y", status: 301, location: "/static/sub/?x=1&y" },
  { name: "a deeper directory", method: "GET", path: "/static/sub/deeper", status: 301, location: "/static/sub/deeper/" },
  { name: "HEAD as GET", method: "HEAD", path: "/static/sub", status: 301, location: "/static/sub/" },
  { name: "the mount point without its slash", method: "GET", path: "/static", status: 301, location: "/static/" },
  { name: "the mount point with a query", method: "GET", path: "/static?x=1", status: 301, location: "/static/?x=1" },
  { name: "the mount point, HEAD", method: "HEAD", path: "/static", status: 301, location: "/static/" },
  { name: "the mount point with its slash: the index", method: "GET", path: "/static/", status: 200, body: "<a href=a.txt>a</a>" },
  { name: "a file", method: "GET", path: "/static/a.txt", status: 200, body: "A" },
  { name: "a listing", method: "GET", path: "/static/sub/", status: 200 },
  { name: "a miss falls through", method: "GET", path: "/static/missing", status: 418, body: "next" },
  { name: "POST falls through", method: "POST", path: "/static/a.txt", status: 418, body: "next" },
  { name: "POST to the mount point falls through", method: "POST", path: "/static", status: 418, body: "next" },
  { name: "outside the mount: the app's own", method: "GET", path: "/a.txt", status: 418, body: "next" },
  { name: "the mount path in another case", method: "GET", path: "/STATIC/sub", status: 301, location: "/STATIC/sub/" },
];

for (const framework of FRAMEWORKS) {
  describe(`${framework.name}: app.use("/static", handler)`, () => {
    let port = 0;
    let server: Server;
    before(async () => ({ port, server } = await listen(framework.app(createHandler({ root: dir })))));
    after(() => server.close());
    for (const row of ROWS) {
      test(`${row.method} ${row.path}: ${row.name}`, async () => {
        const got = await send(port, row.method, row.path);
        assert.equal(got.status, row.status, `${row.method} ${row.path}: got ${got.status}, want ${row.status}`);
        assert.equal(got.location, row.location, `${row.method} ${row.path}: Location`);
        if (row.body !== undefined) assert.equal(got.body, row.body);
        if (row.method === "GET" && row.status === 200 && row.path.endsWith("/sub/")) assert.match(got.body, /href="\.\/b\.txt"/);
      });
    }
    test("an upload's 201 Location (and a form post's 303) keeps the mount path", async () => {
      const root = mkdtempSync(join(tmpdir(), "wharf-mount-upload-"));
      const { port: p, server: s } = await listen(framework.app(createHandler({ root, upload: true })));
      try {
        const res = await fetch(`http://127.0.0.1:${p}/static/new.txt`, { method: "PUT", body: "n" });
        assert.equal(res.status, 201);
        assert.equal(res.headers.get("location"), "/static/new.txt");
        assert.equal(await (await fetch(`http://127.0.0.1:${p}${res.headers.get("location")}`)).text(), "n");
        const form = new FormData();
        form.append("file", new Blob(["f"]), "f.txt");
        const post = await fetch(`http://127.0.0.1:${p}/static/`, {
          method: "POST",
          body: form,
          redirect: "manual",
          headers: { accept: "text/html" },
        });
        assert.equal(post.status, 303);
        assert.equal(post.headers.get("location"), "./");
      } finally {
        s.close();
        rmSync(root, { recursive: true, force: true });
      }
    });
    test("a redirect of a feature (clean URLs) keeps the mount path too", async () => {
      const { port: p, server: s } = await listen(framework.app(createHandler({ root: dir, cleanUrls: true })));
      try {
        const got = await send(p, "GET", "/static/page.html?q");
        assert.equal(got.status, 301);
        assert.equal(got.location, "/static/page?q");
      } finally {
        s.close();
      }
    });
  });
}

describe("not mounted, or mounted deeper", () => {
  test("Connect, app.use(handler): served, redirects as they were", async () => {
    const app = connect();
    app.use(createHandler({ root: dir }));
    const { port, server } = await listen(app);
    try {
      assert.deepEqual(await send(port, "GET", "/sub"), { status: 301, location: "/sub/", body: "" });
      assert.deepEqual(await send(port, "GET", "/a.txt"), { status: 200, location: undefined, body: "A" });
    } finally {
      server.close();
    }
  });
  for (const [name, express] of [
    ["Express 5", express5],
    ["Express 4", express4],
  ] as const) {
    test(`${name}: a router at /a with the handler at /b`, async () => {
      const app = express();
      const router = express.Router();
      router.use("/b", createHandler({ root: dir }));
      app.use("/a", router);
      const { port, server } = await listen(app);
      try {
        assert.equal((await send(port, "GET", "/a/b/sub")).location, "/a/b/sub/");
        assert.equal((await send(port, "GET", "/a/b")).location, "/a/b/");
        assert.equal((await send(port, "GET", "/a/b/a.txt")).body, "A");
      } finally {
        server.close();
      }
    });
  }
  test("a plain node:http server: /sub to /sub/", async () => {
    const { port, server } = await listen(createHandler({ root: dir }));
    try {
      assert.equal((await send(port, "GET", "/sub?x")).location, "/sub/?x");
    } finally {
      server.close();
    }
  });
});

describe(".handle keeps both shapes", () => {
  test("handle(WharfRequest) still answers a Reply", async () => {
    const handler = createHandler({ root: dir });
    const reply = await handler.handle({
      method: "GET",
      target: "/sub",
      pathname: "/sub",
      search: "",
      header: () => undefined,
      remoteAddress: undefined,
    });
    assert.equal(reply.status, 301);
    assert.equal(reply.headers["location"], "/sub/");
  });
});

describe("mountOf: the pure rule", () => {
  const ROWS: { name: string; url: string; originalUrl: unknown; baseUrl: unknown; want: Mount }[] = [
    { name: "plain node:http", url: "/a", originalUrl: undefined, baseUrl: undefined, want: { kind: "root" } },
    { name: "Express, not mounted", url: "/a", originalUrl: "/a", baseUrl: "", want: { kind: "root" } },
    { name: "Express, mounted", url: "/sub", originalUrl: "/static/sub", baseUrl: "/static", want: { kind: "under", base: "/static" } },
    {
      name: "Express, the bare mount point",
      url: "/",
      originalUrl: "/static",
      baseUrl: "/static",
      want: { kind: "bare", base: "/static" },
    },
    {
      name: "Express, the mount point with a slash",
      url: "/",
      originalUrl: "/static/",
      baseUrl: "/static",
      want: { kind: "under", base: "/static" },
    },
    { name: "Connect, mounted", url: "/sub?q", originalUrl: "/static/sub?q", baseUrl: undefined, want: { kind: "under", base: "/static" } },
    {
      name: "Connect, the bare mount point",
      url: "/?q",
      originalUrl: "/static?q",
      baseUrl: undefined,
      want: { kind: "bare", base: "/static" },
    },
    {
      name: "Connect, url rewritten by someone else",
      url: "/index.html",
      originalUrl: "/static/deep",
      baseUrl: undefined,
      want: { kind: "root" },
    },
    // The base is the client's own bytes: it must stay a path on this origin.
    { name: "a base that would be //host", url: "/x", originalUrl: "//evil.example/x", baseUrl: undefined, want: { kind: "root" } },
    { name: "a baseUrl of //host", url: "/x", originalUrl: "//evil.example/x", baseUrl: "//evil.example", want: { kind: "root" } },
    { name: "a base of /\\host", url: "/x", originalUrl: "/\\evil.example/x", baseUrl: undefined, want: { kind: "root" } },
    { name: "a base with a trailing slash", url: "/x", originalUrl: "/a//x", baseUrl: undefined, want: { kind: "root" } },
  ];
  for (const row of ROWS) {
    test(row.name, () =>
      assert.deepEqual(
        mountOf(row.url, row.originalUrl, row.baseUrl),
        row.want,
        `mountOf(${JSON.stringify(row.url)}, ${JSON.stringify(row.originalUrl)}, ${JSON.stringify(row.baseUrl)})`,
      ),
    );
  }
  test("mountedLocation: paths get the base, URLs and //host do not", () => {
    assert.equal(mountedLocation("/sub/?q", "/static"), "/static/sub/?q");
    assert.equal(mountedLocation("https://example.com/x", "/static"), "https://example.com/x");
    assert.equal(mountedLocation("//example.com/x", "/static"), "//example.com/x");
  });
});
