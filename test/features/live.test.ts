/**
 * `createHandler({ live: true })` without a socket: the tag in pages (and only
 * in whole HTML 200s), its ETag, 304, HEAD, compression after injection, no
 * sidecar, the CSP nonce; the live routes' checks (no CORS, cross-site 403,
 * malformed 400) and the Host allow-list; the event stream (hello, css,
 * reload, one reload per burst, bye on close); what the watcher leaves out;
 * the fallback to polling. Each test uses a fresh temporary tree.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { buildFeatures } from "../../src/features/index.js";
import { MAX_STREAMS_PER_ADDRESS } from "../../src/features/live/events.js";
import { createHandler, type StaticOptions, type WharfHandler } from "../../src/index.js";

const PAGE = `<!doctype html><html><head><title>t</title><link rel="stylesheet" href="/css/a.css"></head><body>${"p".repeat(3000)}</body></html>`;
const dirs: string[] = [];
const handlers: WharfHandler[] = [];
// The watcher and the event streams do not keep a process alive (a library's
// handler must not); here something must, while a test waits for an event.
const alive = setInterval(() => undefined, 1000);
after(() => {
  clearInterval(alive);
  for (const h of handlers) h.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string | Uint8Array> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "wharf-live-"));
  dirs.push(root);
  const all: Record<string, string | Uint8Array> = { "index.html": PAGE, "css/a.css": "body{color:red}", "app.js": "x", ...files };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function live(root: string, options: StaticOptions = {}): WharfHandler {
  const h = createHandler({ root, live: true, ...options });
  handlers.push(h);
  return h;
}

/** A live handler whose tree is watched. */
async function watching(root: string, options: StaticOptions = {}): Promise<WharfHandler> {
  const h = live(root, options);
  const state = await h.watching;
  assert.equal(state?.mode, "watch");
  return h;
}

async function get(h: WharfHandler, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
  return h.fetch(new Request(`http://localhost:8000${path}`, { method, headers: { host: "localhost:8000", ...headers } }));
}

/** A request for the event stream from `remoteAddress`. */
function eventsRequest(remoteAddress: string) {
  return {
    method: "GET",
    target: "/__wharf/events",
    pathname: "/__wharf/events",
    search: "",
    header: (n: string) => (n === "host" ? "localhost:8000" : undefined),
    remoteAddress,
  };
}

const TAG = /<script src="\/__wharf\/live\.js\?v=[A-Za-z0-9_-]+" defer><\/script><\/head>/;

/** An open event stream read event by event. */
async function events(
  h: WharfHandler,
  remoteAddress = "127.0.0.1",
): Promise<{ next(): Promise<{ event: string; data: string }>; close(): Promise<void> }> {
  const reply = await h.handle(eventsRequest(remoteAddress));
  assert.equal(reply.status, 200);
  assert.equal(reply.headers["content-type"], "text/event-stream");
  assert.equal(reply.body.kind, "stream");
  const it = (reply.body as { open(): AsyncIterable<Uint8Array> }).open()[Symbol.asyncIterator]();
  let buffer = "";
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split("\n").filter((l) => !l.startsWith(":") && !l.startsWith("retry:"));
          if (lines.length === 0) continue;
          const field = (name: string): string => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? "";
          return { event: field("event"), data: field("data") };
        }
        const step = await it.next();
        if (step.done === true) return { event: "(end)", data: "" };
        buffer += new TextDecoder().decode(step.value);
      }
    },
    async close() {
      await it.return?.();
    },
  };
}

describe("live: the tag in pages", () => {
  test("a page gets the tag before </head>, its own length and ETag; without --live it is as on disk", async () => {
    const root = tree();
    const plain = createHandler({ root });
    const before = await get(plain, "/");
    const beforeBody = await before.text();
    assert.equal(beforeBody, PAGE);
    const h = live(root);
    for (const path of ["/", "/index.html"]) {
      const res = await get(h, path);
      const body = await res.text();
      assert.equal(res.status, 200);
      assert.match(body, TAG);
      assert.equal(body.replace(/<script[^>]*><\/script>/, ""), PAGE);
      assert.equal(res.headers.get("content-length"), String(Buffer.byteLength(body)));
      assert.notEqual(res.headers.get("etag"), before.headers.get("etag"));
      assert.match(res.headers.get("etag")!, /\.live-/);
      assert.equal(res.headers.get("accept-ranges"), null);
      assert.equal(res.headers.get("last-modified"), null);
    }
  });

  test("HEAD has GET's headers and no body; the injected ETag revalidates to 304, the file's does not", async () => {
    const root = tree();
    const fileTag = (await get(createHandler({ root }), "/")).headers.get("etag")!;
    const h = live(root);
    const full = await get(h, "/");
    await full.text();
    const head = await get(h, "/", {}, "HEAD");
    assert.equal(await head.text(), "");
    assert.equal(head.headers.get("content-length"), full.headers.get("content-length"));
    assert.equal(head.headers.get("etag"), full.headers.get("etag"));
    const etag = full.headers.get("etag")!;
    const again = await get(h, "/", { "if-none-match": etag });
    assert.equal(again.status, 304);
    const stale = await get(h, "/", { "if-none-match": fileTag });
    assert.equal(stale.status, 200);
    assert.match(await stale.text(), TAG);
  });

  test("a Range request gets the whole injected page (never a 206 of the file)", async () => {
    const h = live(tree());
    const res = await get(h, "/", { range: "bytes=0-9" });
    assert.equal(res.status, 200);
    assert.match(await res.text(), TAG);
  });

  for (const [coding, decode] of [
    ["gzip", gunzipSync],
    ["br", brotliDecompressSync],
  ] as const) {
    test(`${coding}: compressed after injection, never the sidecar; its own ETag and Vary`, async () => {
      const root = tree({ "index.html.br": "NOT THIS", "index.html.gz": "NOT THIS" });
      const h = live(root);
      const identity = await (await get(h, "/")).text();
      const res = await get(h, "/", { "accept-encoding": coding });
      assert.equal(res.headers.get("content-encoding"), coding);
      assert.match(res.headers.get("vary") ?? "", /accept-encoding/i);
      assert.match(res.headers.get("etag")!, new RegExp(`\\.live-.*-${coding}"$`));
      const raw = Buffer.from(await res.arrayBuffer());
      assert.equal(res.headers.get("content-length"), String(raw.length));
      assert.equal(decode(raw).toString(), identity);
      const again = await get(h, "/", { "accept-encoding": coding, "if-none-match": res.headers.get("etag")! });
      assert.equal(again.status, 304);
    });
  }

  test("a nonce in the page's CSP header goes on the tag", async () => {
    const h = live(tree(), { headers: [{ source: "**", headers: { "Content-Security-Policy": "script-src 'nonce-r4nd0m'" } }] });
    const res = await get(h, "/");
    assert.match(await res.text(), /<script src="\/__wharf\/live\.js\?v=[^"]+" defer nonce="r4nd0m"><\/script>/);
    assert.equal(res.headers.get("content-security-policy"), "script-src 'nonce-r4nd0m'");
  });

  test("only whole HTML 200s: scripts, stylesheets, 404s, listings' JSON and fragments by type are untouched", async () => {
    const root = tree({ "frag.txt": "<head></head>", "sub/x.html": "<p>no head</p>" });
    const h = live(root);
    assert.equal(await (await get(h, "/app.js")).text(), "x");
    assert.equal(await (await get(h, "/frag.txt")).text(), "<head></head>");
    const missing = await get(h, "/nope.html");
    assert.equal(missing.status, 404);
    assert.doesNotMatch(await missing.text(), /__wharf/);
    // A fragment served as HTML still gets the tag, at the end: never skipped silently.
    assert.match(
      await (await get(h, "/sub/x.html")).text(),
      /^<p>no head<\/p><script src="\/__wharf\/live\.js\?v=[^"]+" defer><\/script>$/,
    );
  });

  test("off: no middleware at all (the hot path is unchanged)", () => {
    const f = buildFeatures({});
    assert.equal(f.outer.length, 0);
    assert.equal(f.inner.length, 0);
    assert.equal(f.live.on, false);
  });
});

describe("live: integrity fields", () => {
  test("with digest: an injected page carries no Repr-Digest or Content-Digest of the file's bytes", async () => {
    const h = live(tree(), { digest: true });
    for (const headers of [
      {},
      { "accept-encoding": "gzip" },
      { "want-content-digest": "sha-256=5" },
      { "want-repr-digest": "sha-512=5" },
    ]) {
      const res = await get(h, "/", headers);
      assert.equal(res.status, 200);
      const body = Buffer.from(await res.arrayBuffer());
      assert.match((res.headers.get("content-encoding") === "gzip" ? gunzipSync(body) : body).toString(), TAG);
      assert.equal(res.headers.get("repr-digest"), null, `${JSON.stringify(headers)}: ${res.headers.get("repr-digest")}`);
      assert.equal(res.headers.get("content-digest"), null, `${JSON.stringify(headers)}: ${res.headers.get("content-digest")}`);
    }
    // Files that are not pages keep theirs.
    assert.match((await get(h, "/app.js")).headers.get("repr-digest") ?? "", /^sha-256=:/);
  });
});

describe("live: the routes", () => {
  test("/__wharf/live.js is same-origin JavaScript, without CORS headers even with cors", async () => {
    const h = live(tree(), { cors: true });
    const res = await get(h, "/__wharf/live.js");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.match(await res.text(), /new EventSource/);
    // The pages themselves keep their CORS headers.
    assert.equal((await get(h, "/app.js", { origin: "https://other.example" })).headers.get("access-control-allow-origin"), "*");
    const events = await get(h, "/__wharf/events", { origin: "https://other.example" });
    assert.equal(events.status, 403);
    assert.equal(events.headers.get("access-control-allow-origin"), null);
  });

  test("with auth: the live routes ask for the password too, and still carry no CORS headers", async () => {
    const h = live(tree(), { auth: "u:p", cors: true });
    const basic = { authorization: `Basic ${Buffer.from("u:p").toString("base64")}` };
    for (const path of ["/__wharf/events", "/__wharf/live.js"]) {
      const refused = await get(h, path);
      assert.equal(refused.status, 401, `${path} without a password: got ${refused.status}`);
      assert.equal(refused.headers.get("access-control-allow-origin"), null);
      const wrong = await get(h, path, { authorization: `Basic ${Buffer.from("u:x").toString("base64")}` });
      assert.equal(wrong.status, 401, `${path} with a wrong password: got ${wrong.status}`);
      const allowed = await get(h, path, basic);
      assert.equal(allowed.status, 200, `${path} with the password: got ${allowed.status}`);
      assert.equal(allowed.headers.get("access-control-allow-origin"), null);
      await allowed.body?.cancel();
    }
    assert.equal((await get(h, "/")).status, 401);
  });

  const rows: { name: string; path: string; headers: Record<string, string>; status: number; body: RegExp }[] = [
    {
      name: "cross-site Origin",
      path: "/__wharf/events",
      headers: { origin: "https://evil.example" },
      status: 403,
      body: /this server only/,
    },
    {
      name: "cross-site fetch metadata",
      path: "/__wharf/live.js",
      headers: { "sec-fetch-site": "cross-site" },
      status: 403,
      body: /this server only/,
    },
    {
      name: "malformed Origin",
      path: "/__wharf/events",
      headers: { origin: "http://a b" },
      status: 400,
      body: /Origin header is malformed/,
    },
    {
      name: "rebinding Host",
      path: "/",
      headers: { host: "evil.example:8000" },
      status: 403,
      body: /Host 'evil\.example' is not allowed.*--allowed-hosts evil\.example/,
    },
    {
      name: "rebinding Host on a live route",
      path: "/__wharf/events",
      headers: { host: "evil.example" },
      status: 403,
      body: /not allowed/,
    },
    { name: "malformed Host", path: "/", headers: { host: "a b" }, status: 400, body: /Host header is malformed/ },
    { name: "same origin", path: "/__wharf/live.js", headers: { origin: "http://localhost:8000" }, status: 200, body: /EventSource/ },
  ];
  for (const row of rows) {
    test(`${row.name}: ${row.status}`, async () => {
      const h = live(tree());
      const res = await get(h, row.path, row.headers);
      const body = await res.text();
      assert.equal(res.status, row.status, `${row.path} ${JSON.stringify(row.headers)}: ${body}`);
      assert.match(body, row.body);
      if (row.status !== 200) assert.equal(body.split("\n").length, 2, "one line");
    });
  }

  test("--allowed-hosts works without --live, and adds names", async () => {
    const h = createHandler({ root: tree(), allowedHosts: ["dev.example"] });
    assert.equal((await get(h, "/app.js", { host: "dev.example" })).status, 200);
    assert.equal((await get(h, "/app.js", { host: "127.0.0.1:8000" })).status, 200);
    assert.equal((await get(h, "/app.js", { host: "evil.example" })).status, 403);
    assert.equal((await get(h, "/__wharf/live.js")).status, 404);
    assert.equal((await get(createHandler({ root: tree() }), "/app.js", { host: "evil.example" })).status, 200);
    assert.throws(() => createHandler({ root: tree(), allowedHosts: ["a b"] }), /allowedHosts/);
    assert.throws(() => createHandler({ root: tree(), live: true, livePoll: 5 }), /livePoll/);
  });
});

describe("live: the event stream", { timeout: 15_000 }, () => {
  test("hello with the instance id the page's tag names; css for stylesheets; reload for anything else", async () => {
    const root = tree();
    const h = live(root);
    const page = await (await get(h, "/")).text();
    const id = /live\.js\?v=([^"]+)"/.exec(page)![1];
    const s = await events(h);
    assert.deepEqual(await s.next(), { event: "hello", data: JSON.stringify({ id }) });
    h.notify([join(root, "css/a.css")]);
    assert.deepEqual(await s.next(), { event: "css", data: '["/css/a.css"]' });
    h.notify(["css/a.css", "index.html"]);
    assert.deepEqual(await s.next(), { event: "reload", data: "{}" });
    await s.close();
  });

  test("1,000 files changed on disk at once: exactly one reload", async () => {
    const root = tree();
    const h = await watching(root);
    const s = await events(h);
    await s.next(); // hello
    for (let i = 0; i < 1000; i++) writeFileSync(join(root, `f${i}.html`), "x");
    assert.deepEqual(await s.next(), { event: "reload", data: "{}" });
    // Nothing else follows: a notify now is the next event, not a second reload of the burst.
    h.notify(["/css/a.css"]);
    assert.deepEqual(await s.next(), { event: "css", data: '["/css/a.css"]' });
    await s.close();
  });

  test("an editor's atomic save (write a temporary file, rename over): one event", async () => {
    const root = tree();
    const h = await watching(root);
    const s = await events(h);
    await s.next();
    writeFileSync(join(root, "css", ".a.css.swp"), "x"); // a dotfile: not watched
    writeFileSync(join(root, "css", "a.css.tmp~"), "body{color:blue}");
    renameSync(join(root, "css", "a.css.tmp~"), join(root, "css", "a.css"));
    assert.deepEqual(await s.next(), { event: "reload", data: "{}" });
    h.notify(["/x.css"]);
    assert.deepEqual(await s.next(), { event: "css", data: '["/x.css"]' });
    await s.close();
  });

  test("a stylesheet saved in place: css with its path", async () => {
    const root = tree();
    const h = await watching(root);
    const s = await events(h);
    await s.next();
    writeFileSync(join(root, "css", "a.css"), "body{color:green}");
    assert.deepEqual(await s.next(), { event: "css", data: '["/css/a.css"]' });
    await s.close();
  });

  test("dotfiles (not /.well-known/), node_modules, --live-ignore and symlinked directories are not watched; a new directory is", async () => {
    const root = tree({ ".git/HEAD": "x", "node_modules/p/i.js": "x", "gen/out.txt": "x", ".well-known/w.css": "x" });
    const outside = tree();
    symlinkSync(join(outside, "css"), join(root, "linked"));
    const h = await watching(root, { liveIgnore: ["gen/**"] });
    const s = await events(h);
    await s.next();
    writeFileSync(join(root, ".git", "HEAD"), "y");
    writeFileSync(join(root, "node_modules", "p", "i.js"), "y");
    writeFileSync(join(root, "gen", "out.txt"), "y");
    writeFileSync(join(root, ".env"), "y");
    writeFileSync(join(outside, "css", "a.css"), "y"); // through the symlink: not followed
    writeFileSync(join(root, ".well-known", "w.css"), "body{color:blue}");
    writeFileSync(join(root, "css", "a.css"), "body{color:blue}");
    // One batch: had any of the others been seen, it would be a reload naming them.
    assert.deepEqual(await s.next(), { event: "css", data: '["/.well-known/w.css","/css/a.css"]' });
    mkdirSync(join(root, "new"));
    writeFileSync(join(root, "new", "b.css"), "y");
    assert.deepEqual(await s.next(), { event: "reload", data: "{}" });
    // The new directory was watched before that event was sent: a file made there now is seen.
    writeFileSync(join(root, "new", "c.css"), "z");
    assert.deepEqual(await s.next(), { event: "css", data: '["/new/c.css"]' });
    await s.close();
  });

  test("stylesheet paths that would not fit a stream's queue: a reload, and the stream stays open", async () => {
    const h = live(tree());
    const s = await events(h);
    await s.next(); // hello
    // 256 stylesheets with 300-byte paths: about 77 KiB of JSON, over the 64 KiB a stream may queue.
    h.notify(Array.from({ length: 256 }, (_, i) => `/${"d".repeat(300)}/${i}.css`));
    assert.deepEqual(await s.next(), { event: "reload", data: "{}" });
    // One path from a build tool, of 100,000 bytes.
    h.notify([`/${"x".repeat(100_000)}.css`]);
    assert.deepEqual(await s.next(), { event: "reload", data: "{}" });
    h.notify(["/css/a.css"]);
    assert.deepEqual(await s.next(), { event: "css", data: '["/css/a.css"]' });
    await s.close();
  });

  test(`one client address holds at most ${MAX_STREAMS_PER_ADDRESS} streams (then 503 with Retry-After); others still open theirs`, async () => {
    const h = live(tree());
    const mine = [];
    for (let i = 0; i < MAX_STREAMS_PER_ADDRESS; i++) {
      const s = await events(h, "192.0.2.1");
      assert.equal((await s.next()).event, "hello");
      mine.push(s);
    }
    const refused = await h.handle(eventsRequest("192.0.2.1"));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers["retry-after"], "5");
    // Another client is not held up by the first one's streams.
    const other = await events(h, "192.0.2.2");
    assert.equal((await other.next()).event, "hello");
    // A stream that ends gives its slot back.
    await mine.pop()!.close();
    const again = await events(h, "192.0.2.1");
    assert.equal((await again.next()).event, "hello");
    assert.equal((await h.handle(eventsRequest("192.0.2.1"))).status, 503);
    for (const s of [...mine, other, again]) await s.close();
  });

  test("the per-address count is the forwarded client's behind a trusted proxy", async () => {
    const h = live(tree(), { trustProxy: ["loopback"] });
    const forwarded = (client: string) => ({
      ...eventsRequest("127.0.0.1"),
      header: (n: string) => (n === "host" ? "localhost:8000" : n === "x-forwarded-for" ? client : undefined),
      clientAddress: client,
    });
    const opened: AsyncIterator<Uint8Array>[] = [];
    const open = async (client: string): Promise<number> => {
      const reply = await h.handle(forwarded(client));
      if (reply.body.kind === "stream") opened.push(reply.body.open()[Symbol.asyncIterator]());
      return reply.status;
    };
    for (let i = 0; i < MAX_STREAMS_PER_ADDRESS; i++) assert.equal(await open("203.0.113.9"), 200);
    assert.equal(await open("203.0.113.9"), 503);
    assert.equal(await open("203.0.113.10"), 200);
    for (const it of opened) await it.return?.();
  });

  test("close(): every stream gets a last event and ends; none opens after", async () => {
    const h = live(tree());
    const a = await events(h);
    const b = await events(h);
    await a.next();
    await b.next();
    h.close();
    assert.deepEqual(await a.next(), { event: "bye", data: "{}" });
    assert.deepEqual(await a.next(), { event: "(end)", data: "" });
    assert.deepEqual(await b.next(), { event: "bye", data: "{}" });
    const res = await get(h, "/__wharf/events");
    assert.equal(res.status, 503);
  });
});

describe("live: when watches run out", { timeout: 15_000 }, () => {
  test("ENOSPC: one line saying what to raise, then polling sees changes", async () => {
    const root = tree();
    const lines: string[] = [];
    const { buildLive } = await import("../../src/features/live/index.js");
    const { nodeFileSystem } = await import("../../src/fs/node.js");
    const l = buildLive(
      { live: true, livePoll: 0 },
      {
        root,
        fs: nodeFileSystem,
        dotfiles: "ignore",
        compression: false,
        warn: (line) => lines.push(line),
        watchDirectory: () => {
          throw Object.assign(new Error("no space"), { code: "ENOSPC" });
        },
      },
    );
    try {
      const state = await l.ready;
      assert.equal(state?.mode, "poll");
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /ENOSPC.*raise fs\.inotify\.max_user_watches.*polling every 1000 ms/);
      const seen: string[] = [];
      // The hub's output, read through the middleware's route.
      const reply = await l.middleware[1]!(
        {
          method: "GET",
          target: "/__wharf/events",
          pathname: "/__wharf/events",
          search: "",
          header: () => undefined,
          remoteAddress: undefined,
        },
        () => {
          throw new Error("not reached");
        },
      );
      const it = (reply.body as { open(): AsyncIterable<Uint8Array> }).open()[Symbol.asyncIterator]();
      writeFileSync(join(root, "app.js"), "changed, and longer");
      for (;;) {
        const step = await it.next();
        if (step.done) break;
        seen.push(new TextDecoder().decode(step.value));
        if (seen.join("").includes("event: reload")) break;
      }
      assert.match(seen.join(""), /event: reload/);
      await it.return?.();
    } finally {
      l.close();
    }
  });
});
