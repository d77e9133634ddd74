/**
 * serveContent, the public middle layer (issue 12 item 5): the conditional and
 * range rules of the static handler on bytes a custom handler has, in memory or
 * in a file; and nodeListener, fetchHandler and openReplyBody, which send any
 * reply outside createHandler. Table rows run for GET and HEAD over a string, a
 * Uint8Array and a file, with no socket; then the README's example end to end
 * over real node:http servers.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FileSystem } from "../../src/index.js";
import {
  type Content,
  fetchHandler,
  memoryFileSystem,
  nodeListener,
  OptionError,
  openReplyBody,
  type Reply,
  StaleReplyError,
  serveContent,
  type WharfRequest,
  withHeader,
} from "../../src/index.js";
import { closeClients, request } from "../helpers/request.js";

/** 200 bytes whose offsets are easy to read: byte i is the digit i % 10. */
const BODY = "0123456789".repeat(20);
const SIZE = BODY.length;
const TYPE = "text/plain; charset=utf-8";
/** memoryFileSystem's default mtime, and the lastModified given to bodies. */
const MTIME = Date.UTC(2026, 0, 1);
const DATE = "Thu, 01 Jan 2026 00:00:00 GMT";
const EARLIER = "Wed, 31 Dec 2025 00:00:00 GMT";
const LATER = "Fri, 02 Jan 2026 00:00:00 GMT";
const encoder = new TextEncoder();

/** The strong tag wharf gives bytes: 128 bits of SHA-256, base64url, quoted (file-contents.ts). */
const hashTag = (bytes: string): string => `"${createHash("sha256").update(bytes).digest().subarray(0, 16).toString("base64url")}"`;

function req(method: string, headers: Record<string, string> = {}): WharfRequest {
  return { method, target: "/x", pathname: "/x", search: "", header: (name) => headers[name], remoteAddress: undefined };
}

/** The body a client would receive for `reply`, read through the public opener. */
async function bytesOf(reply: Reply, fs?: FileSystem): Promise<string> {
  const body = await openReplyBody(reply, fs);
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of body.bytes) chunks.push(chunk);
  } finally {
    await body.close();
  }
  return Buffer.concat(chunks).toString("latin1");
}

/** A multipart/byteranges body as RFC 9110 §14.6 and RFC 2046 §5.1.1 lay it out. */
function multipart(boundary: string, type: string, parts: readonly (readonly [number, number])[], bytes: string): string {
  let out = "";
  parts.forEach(([start, end], i) => {
    out += `${i === 0 ? "" : "\r\n"}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${start}-${end - 1}/${bytes.length}\r\n\r\n${bytes.slice(start, end)}`;
  });
  return `${out}\r\n--${boundary}--\r\n`;
}

const tree: Record<string, string | Record<string, string>> = { "body.txt": BODY, "empty.txt": "", dir: {} };
const fs = memoryFileSystem("/site", tree);

interface Kind {
  readonly name: string;
  readonly content: Content;
  readonly tag: string;
}
const KINDS: readonly Kind[] = [
  { name: "string body", content: { body: BODY, contentType: TYPE, lastModified: new Date(MTIME) }, tag: hashTag(BODY) },
  { name: "bytes body", content: { body: encoder.encode(BODY), contentType: TYPE, lastModified: MTIME }, tag: hashTag(BODY) },
  // A file: its type from its name, Last-Modified from its mtime, the size-mtime tag.
  { name: "file", content: { file: "/site/body.txt", fs }, tag: `"c8-${MTIME.toString(16)}"` },
];

type Want =
  | { readonly status: 200 }
  | { readonly status: 304 }
  | { readonly status: 412 }
  | { readonly status: 416 }
  | { readonly status: 206; readonly parts: readonly (readonly [number, number])[] };

interface Row {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly want: Want;
}

/** The rows, for a content whose ETag is `tag` and whose Last-Modified is {@link DATE}. */
function rows(tag: string): Row[] {
  const r = (name: string, headers: Record<string, string>, want: Want): Row => ({ name, headers, want });
  return [
    r("no conditions", {}, { status: 200 }),
    // RFC 9110 §13.1.2: If-None-Match uses the weak comparison.
    r("If-None-Match: the tag", { "if-none-match": tag }, { status: 304 }),
    r("If-None-Match: the tag marked weak", { "if-none-match": `W/${tag}` }, { status: 304 }),
    r("If-None-Match: a list holding the tag", { "if-none-match": `"x", ${tag}` }, { status: 304 }),
    r("If-None-Match: *", { "if-none-match": "*" }, { status: 304 }),
    r("If-None-Match: another tag", { "if-none-match": '"x"' }, { status: 200 }),
    r("If-Modified-Since: Last-Modified", { "if-modified-since": DATE }, { status: 304 }),
    r("If-Modified-Since: later", { "if-modified-since": LATER }, { status: 304 }),
    r("If-Modified-Since: earlier", { "if-modified-since": EARLIER }, { status: 200 }),
    // §13.2.2 step 4 only when If-None-Match is absent.
    r("If-None-Match wins over If-Modified-Since", { "if-none-match": '"x"', "if-modified-since": DATE }, { status: 200 }),
    // §13.1.1: If-Match uses the strong comparison.
    r("If-Match: the tag", { "if-match": tag }, { status: 200 }),
    r("If-Match: *", { "if-match": "*" }, { status: 200 }),
    r("If-Match: another tag", { "if-match": '"x"' }, { status: 412 }),
    r("If-Match: the tag marked weak", { "if-match": `W/${tag}` }, { status: 412 }),
    r("If-Unmodified-Since: earlier", { "if-unmodified-since": EARLIER }, { status: 412 }),
    r("If-Unmodified-Since: Last-Modified", { "if-unmodified-since": DATE }, { status: 200 }),
    // §13.2.2 step 2 only when If-Match is absent; step 1 before step 3.
    r("If-Match holds, If-Unmodified-Since not evaluated", { "if-match": tag, "if-unmodified-since": EARLIER }, { status: 200 }),
    r("If-Match fails before If-None-Match", { "if-match": '"x"', "if-none-match": tag }, { status: 412 }),
    r("Range: the first four bytes", { range: "bytes=0-3" }, { status: 206, parts: [[0, 4]] }),
    r("Range: the last five", { range: "bytes=-5" }, { status: 206, parts: [[195, 200]] }),
    r("Range: open-ended", { range: "bytes=190-" }, { status: 206, parts: [[190, 200]] }),
    r(
      "Range: two parts",
      { range: "bytes=0-1,150-151" },
      {
        status: 206,
        parts: [
          [0, 2],
          [150, 152],
        ],
      },
    ),
    r("Range: overlapping parts coalesced", { range: "bytes=0-9,5-14" }, { status: 206, parts: [[0, 15]] }),
    r("Range: past the end", { range: "bytes=500-" }, { status: 416 }),
    r("Range: another unit", { range: "items=0-3" }, { status: 200 }),
    r("Range: malformed", { range: "bytes=3-1" }, { status: 200 }),
    // §13.1.5: If-Range applies the range only to the version it names.
    r("If-Range: the tag", { range: "bytes=0-3", "if-range": tag }, { status: 206, parts: [[0, 4]] }),
    r("If-Range: another tag", { range: "bytes=0-3", "if-range": '"x"' }, { status: 200 }),
    r("If-Range: the tag marked weak", { range: "bytes=0-3", "if-range": `W/${tag}` }, { status: 200 }),
    r("If-Range: Last-Modified", { range: "bytes=0-3", "if-range": DATE }, { status: 206, parts: [[0, 4]] }),
    r("If-Range: another date", { range: "bytes=0-3", "if-range": EARLIER }, { status: 200 }),
    // Preconditions (§13.2.2 steps 1-4) come before Range (step 5).
    r("Range after a matching If-None-Match", { range: "bytes=0-3", "if-none-match": tag }, { status: 304 }),
    r("Range after a failing If-Match", { range: "bytes=0-3", "if-match": '"x"' }, { status: 412 }),
  ];
}

/** Checks `reply` (and, for GET, its bytes) against `want`, for a content of {@link BODY} tagged `tag`. */
async function check(method: string, reply: Reply, want: Want, tag: string, type = TYPE, size = SIZE): Promise<void> {
  const h = reply.headers;
  assert.equal(reply.status, want.status, `status: got ${reply.status}, want ${want.status}`);
  const full = {
    etag: tag,
    "cache-control": "no-cache",
    "last-modified": DATE,
    "accept-ranges": "bytes",
    "x-content-type-options": "nosniff",
    "content-type": type,
    "content-length": String(size),
  };
  let body = "";
  switch (want.status) {
    case 200:
      assert.deepEqual(h, full);
      body = BODY;
      break;
    case 304:
      // §15.4.5: the cache fields, no representation metadata.
      assert.deepEqual(h, { etag: tag, "cache-control": "no-cache" });
      break;
    case 412:
    case 416:
      assert.equal(h["content-type"], "text/html; charset=utf-8");
      assert.equal(h["cache-control"], "no-store");
      assert.equal(h["etag"], undefined);
      if (want.status === 416) {
        assert.equal(h["content-range"], `bytes */${size}`);
        assert.equal(h["accept-ranges"], "bytes");
      }
      break;
    case 206: {
      const [only] = want.parts;
      if (want.parts.length === 1 && only !== undefined) {
        const [start, end] = only;
        assert.deepEqual(h, { ...full, "content-range": `bytes ${start}-${end - 1}/${size}`, "content-length": String(end - start) });
        body = BODY.slice(start, end);
      } else {
        const boundary = /^multipart\/byteranges; boundary=([0-9a-f]{32})$/.exec(h["content-type"] ?? "")?.[1];
        assert.ok(boundary !== undefined, `content-type: got ${h["content-type"]}`);
        body = multipart(boundary, type, want.parts, BODY);
        assert.deepEqual(h, {
          ...full,
          "content-type": `multipart/byteranges; boundary=${boundary}`,
          "content-length": String(body.length),
        });
      }
      break;
    }
  }
  if (method === "HEAD") {
    // §9.3.2: the same status and headers, no body: nothing to open or send.
    assert.equal(reply.body.kind, "empty", "HEAD has no body");
    return;
  }
  if (want.status === 412 || want.status === 416) {
    assert.match(await bytesOf(reply, fs), new RegExp(`<h1>${want.status} `));
    return;
  }
  const got = await bytesOf(reply, fs);
  assert.equal(got, body, "body");
  assert.equal(Buffer.byteLength(got, "latin1"), Number(reply.headers["content-length"] ?? 0), "Content-Length is the body's length");
}

for (const method of ["GET", "HEAD"]) {
  for (const kind of KINDS) {
    describe(`${method}, ${kind.name}`, () => {
      for (const row of rows(kind.tag)) {
        test(row.name, async () => {
          const reply = await serveContent(req(method, row.headers), kind.content);
          await check(method, reply, row.want, kind.tag).catch((error: Error) => {
            error.message = `${method} ${kind.name} ${JSON.stringify(row.headers)}: ${error.message}`;
            throw error;
          });
        });
      }
    });
  }

  describe(`${method}, the caller's entity-tags`, () => {
    // RFC 9110 §8.8.1: a weak tag says "equivalent", not "the same bytes": it serves
    // If-None-Match (weak comparison) but never If-Match or If-Range (strong).
    const weak: Content = { body: BODY, contentType: TYPE, lastModified: MTIME, etag: 'W/"v1"' };
    const strong: Content = { body: BODY, contentType: TYPE, lastModified: MTIME, etag: '"v1"' };
    const cases: { name: string; content: Content; tag: string; headers: Record<string, string>; want: Want }[] = [
      { name: "weak: plain GET carries it", content: weak, tag: 'W/"v1"', headers: {}, want: { status: 200 } },
      { name: "weak: If-None-Match weak", content: weak, tag: 'W/"v1"', headers: { "if-none-match": 'W/"v1"' }, want: { status: 304 } },
      { name: "weak: If-None-Match strong", content: weak, tag: 'W/"v1"', headers: { "if-none-match": '"v1"' }, want: { status: 304 } },
      { name: "weak: If-Match weak", content: weak, tag: 'W/"v1"', headers: { "if-match": 'W/"v1"' }, want: { status: 412 } },
      { name: "weak: If-Match strong", content: weak, tag: 'W/"v1"', headers: { "if-match": '"v1"' }, want: { status: 412 } },
      { name: "weak: If-Range", content: weak, tag: 'W/"v1"', headers: { range: "bytes=0-3", "if-range": '"v1"' }, want: { status: 200 } },
      { name: "weak: Range alone", content: weak, tag: 'W/"v1"', headers: { range: "bytes=0-3" }, want: { status: 206, parts: [[0, 4]] } },
      { name: "strong: If-Match", content: strong, tag: '"v1"', headers: { "if-match": '"v1"' }, want: { status: 200 } },
      { name: "strong: If-Match weak", content: strong, tag: '"v1"', headers: { "if-match": 'W/"v1"' }, want: { status: 412 } },
      { name: "strong: If-None-Match", content: strong, tag: '"v1"', headers: { "if-none-match": '"v1"' }, want: { status: 304 } },
      {
        name: "strong: If-Range",
        content: strong,
        tag: '"v1"',
        headers: { range: "bytes=0-3", "if-range": '"v1"' },
        want: { status: 206, parts: [[0, 4]] },
      },
      {
        name: "strong on a file",
        content: { file: "/site/body.txt", fs, etag: '"v1"' },
        tag: '"v1"',
        headers: { "if-match": '"v1"' },
        want: { status: 200 },
      },
    ];
    for (const c of cases) {
      test(c.name, async () => check(method, await serveContent(req(method, c.headers), c.content), c.want, c.tag));
    }
  });

  describe(`${method}, limits and edges`, () => {
    test("more ranges than maxRanges: the whole content", async () => {
      const content: Content = { body: BODY, contentType: TYPE, lastModified: MTIME, maxRanges: 2 };
      const tag = hashTag(BODY);
      await check(method, serveContent(req(method, { range: "bytes=0-1,100-101,190-191" }), content), { status: 200 }, tag);
      await check(
        method,
        serveContent(req(method, { range: "bytes=0-1,190-191" }), content),
        {
          status: 206,
          parts: [
            [0, 2],
            [190, 192],
          ],
        },
        tag,
      );
    });

    test("an empty body: 200 with no bytes, Range ignored", async () => {
      for (const content of [{ body: "", contentType: TYPE } as const, { file: "/site/empty.txt", fs } as const]) {
        const reply = await serveContent(req(method, { range: "bytes=0-" }), content);
        assert.equal(reply.status, 200);
        assert.equal(reply.headers["content-length"], "0");
        assert.equal(reply.body.kind, "empty");
      }
    });

    test("no lastModified: no Last-Modified, If-Modified-Since ignored", () => {
      const reply = serveContent(req(method, { "if-modified-since": LATER }), { body: BODY, contentType: TYPE });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers["last-modified"], undefined);
      assert.equal(reply.headers["etag"], hashTag(BODY));
    });

    test("a file that is not there, or a directory: 404", async () => {
      for (const file of ["/site/nope.txt", "/site/dir", "/site/body.txt/x"]) {
        const reply = await serveContent(req(method), { file, fs });
        assert.equal(reply.status, 404, file);
        assert.equal(reply.headers["etag"], undefined, file);
      }
    });

    test("the caller's contentType and cacheControl", async () => {
      const reply = await serveContent(req(method), {
        file: "/site/body.txt",
        fs,
        contentType: "application/x-digits",
        cacheControl: "public, max-age=60",
      });
      assert.equal(reply.headers["content-type"], "application/x-digits");
      assert.equal(reply.headers["cache-control"], "public, max-age=60");
    });
  });
}

describe("other methods", () => {
  const rows: { method: string; status: number; allow: string }[] = [
    { method: "OPTIONS", status: 204, allow: "GET, HEAD, OPTIONS" },
    { method: "POST", status: 405, allow: "GET, HEAD, OPTIONS" },
    { method: "DELETE", status: 405, allow: "GET, HEAD, OPTIONS" },
  ];
  for (const row of rows) {
    test(row.method, async () => {
      for (const content of KINDS.map((k) => k.content)) {
        const reply = await serveContent(req(row.method, { "if-none-match": "*" }), content);
        assert.equal(reply.status, row.status, `${row.method}: got ${reply.status}, want ${row.status}`);
        assert.equal(reply.headers["allow"], row.allow);
        assert.equal(reply.headers["etag"], undefined);
      }
    });
  }
});

describe("bad content is a programming error", () => {
  const rows: { name: string; content: unknown; code: string }[] = [
    { name: "an ETag without quotes", content: { body: "x", contentType: TYPE, etag: "v1" }, code: "WHARF_INVALID_ETAG" },
    {
      name: "a Content-Type with CR LF",
      content: { body: "x", contentType: "text/plain\r\nset-cookie: a=b" },
      code: "WHARF_INVALID_CONTENT_TYPE",
    },
    { name: "no Content-Type for a body", content: { body: "x" }, code: "WHARF_INVALID_CONTENT_TYPE" },
    {
      name: "an invalid date",
      content: { body: "x", contentType: TYPE, lastModified: new Date("nope") },
      code: "WHARF_INVALID_LAST_MODIFIED",
    },
    { name: "maxRanges 0", content: { body: "x", contentType: TYPE, maxRanges: 0 }, code: "WHARF_INVALID_MAX_RANGES" },
    { name: "both body and file", content: { body: "x", file: "/x", contentType: TYPE }, code: "WHARF_INVALID_CONTENT" },
    { name: "neither", content: { contentType: TYPE }, code: "WHARF_INVALID_CONTENT" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.throws(
        () => serveContent(req("GET"), row.content as Content),
        (error: unknown) => error instanceof OptionError && error.code === row.code,
      );
    });
  }
});

describe("openReplyBody", () => {
  test("answers in memory are read without a file system", async () => {
    assert.equal(await bytesOf(serveContent(req("GET", { range: "bytes=2-4" }), { body: BODY, contentType: TYPE })), "234");
  });

  test("a changed reply is a new one: the next reply is not affected", () => {
    const content: Content = { body: BODY, contentType: TYPE, etag: '"v1"' };
    const first = serveContent(req("GET"), content);
    assert.equal(withHeader(first, "x-frame-options", "DENY").headers["x-frame-options"], "DENY");
    assert.equal(first.headers["x-frame-options"], undefined);
    assert.equal(serveContent(req("GET"), content).headers["x-frame-options"], undefined);
  });

  test("a file replaced or removed after the reply was made: StaleReplyError", async () => {
    const local: Record<string, string> = { "a.txt": "first version" };
    // Counts descriptors open: the opener must close what it opened before throwing.
    const inner = memoryFileSystem("/m", local);
    let open = 0;
    const memory: FileSystem = {
      ...inner,
      open: async (path) => {
        const file = await inner.open(path);
        open++;
        return { ...file, stat: () => file.stat(), read: (a, b) => file.read(a, b), close: async () => (open--, file.close()) };
      },
    };
    const reply = await serveContent(req("GET"), { file: "/m/a.txt", fs: memory });
    local["a.txt"] = "second version, longer";
    await assert.rejects(
      openReplyBody(reply, memory),
      (error: unknown) => error instanceof StaleReplyError && error.code === "WHARF_STALE_REPLY",
    );
    assert.equal(open, 0, "descriptors left open");
    delete local["a.txt"];
    await assert.rejects(openReplyBody(reply, memory), StaleReplyError);
    assert.equal(open, 0, "descriptors left open");
  });
});

describe("over real sockets", () => {
  let work = "";
  const home = process.cwd();
  const servers: Server[] = [];
  // Bytes 0-299 of a "video": byte i is the letter i % 26, so every range reads differently.
  const VIDEO = Array.from({ length: 300 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
  const VERSION = JSON.stringify({ version: "1.2.3" });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "wharf-serve-content-"));
    mkdirSync(join(work, "public"));
    mkdirSync(join(work, "media"));
    writeFileSync(join(work, "public", "index.html"), "<p>home</p>");
    writeFileSync(join(work, "media", "video.mp4"), VIDEO);
    // The example listens on 8000 and 8001, as a reader would run it; here every
    // listen() is sent to a free port on the loopback, and the servers kept.
    const listen = Server.prototype.listen;
    Server.prototype.listen = function (this: Server) {
      servers.push(this);
      return listen.call(this, { port: 0, host: "127.0.0.1" });
    } as typeof listen;
    process.chdir(work);
    try {
      await import("./readme-example.js");
    } finally {
      Server.prototype.listen = listen;
    }
    await Promise.all(servers.map((s) => (s.listening ? undefined : new Promise((resolve) => s.once("listening", resolve)))));
  });

  after(async () => {
    closeClients();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    process.chdir(home);
    rmSync(work, { recursive: true, force: true });
  });

  const port = (i: number): number => {
    const address = servers[i]?.address();
    assert.ok(address !== null && typeof address === "object", "listening");
    return address.port;
  };
  const on = (i: number) => ({ protocol: "http/1.1" as const, port: port(i) });

  test("the README shows exactly the example that runs here", () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const source = readFileSync(join(root, "test", "handler", "readme-example.ts"), "utf8");
    const code = source.slice(source.indexOf("\nimport ") + 1).replaceAll('"../../src/index.js"', '"wharf-server"');
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.includes(code), "README.md has a ```ts block identical to test/handler/readme-example.ts from its first import on");
  });

  test("a route in createHandler's use: 200, 304, Range, HEAD; the files still served", async () => {
    assert.equal(servers.length, 2);
    const tag = hashTag(VERSION);
    const ok = await request(on(0), "GET", "/version.json");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), VERSION);
    assert.equal(ok.headers["etag"], tag);
    assert.equal(ok.headers["content-type"], "application/json");
    assert.equal(ok.headers["content-length"], String(VERSION.length));
    assert.ok(ok.headers["last-modified"] !== undefined);
    const cached = await request(on(0), "GET", "/version.json", { "if-none-match": tag });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    const since = await request(on(0), "GET", "/version.json", { "if-modified-since": ok.headers["last-modified"] ?? "" });
    assert.equal(since.status, 304);
    const part = await request(on(0), "GET", "/version.json", { range: "bytes=1-9" });
    assert.equal(part.status, 206);
    assert.equal(part.body.toString(), VERSION.slice(1, 10));
    assert.equal(part.headers["content-range"], `bytes 1-9/${VERSION.length}`);
    const head = await request(on(0), "HEAD", "/version.json");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(VERSION.length));
    assert.equal(head.body.length, 0);
    const file = await request(on(0), "GET", "/index.html");
    assert.equal(file.status, 200);
    assert.equal(file.body.toString(), "<p>home</p>");
  });

  test("nodeListener on its own: a file with multipart ranges, If-Range, 416, and a page", async () => {
    const ok = await request(on(1), "GET", "/video.mp4");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString("latin1"), VIDEO);
    assert.equal(ok.headers["content-type"], "video/mp4");
    assert.equal(ok.headers["cache-control"], "public, max-age=3600");
    const tag = ok.headers["etag"] ?? "";
    assert.match(tag, /^"12c-[0-9a-f]+"$/);

    const parts = await request(on(1), "GET", "/video.mp4", { range: "bytes=0-9,200-209", "if-range": tag });
    assert.equal(parts.status, 206);
    const boundary = /boundary=(\w+)$/.exec(parts.headers["content-type"] ?? "")?.[1] ?? "";
    const want = multipart(
      boundary,
      "video/mp4",
      [
        [0, 10],
        [200, 210],
      ],
      VIDEO,
    );
    assert.equal(parts.body.toString("latin1"), want);
    assert.equal(parts.headers["content-length"], String(want.length));

    const stale = await request(on(1), "GET", "/video.mp4", { range: "bytes=0-9", "if-range": '"old"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, 300);

    const outside = await request(on(1), "GET", "/video.mp4", { range: "bytes=300-" });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers["content-range"], "bytes */300");

    const head = await request(on(1), "HEAD", "/video.mp4", { range: "bytes=10-19" });
    assert.equal(head.status, 206);
    assert.equal(head.headers["content-range"], "bytes 10-19/300");
    assert.equal(head.headers["content-length"], "10");
    assert.equal(head.body.length, 0);

    const page = await request(on(1), "GET", "/anything");
    assert.equal(page.status, 200);
    assert.equal(page.body.toString(), "<h1>hello</h1>\n");
    const again = await request(on(1), "GET", "/anything", { "if-none-match": page.headers["etag"] ?? "" });
    assert.equal(again.status, 304);
  });

  test("nodeListener: a file replaced between deciding and opening is answered from the new version", async () => {
    // The responder stats the file, then the file is replaced before the listener opens it:
    // the listener makes the reply again, so headers and bytes describe one version.
    const path = join(work, "media", "swap.txt");
    writeFileSync(path, "version one");
    let calls = 0;
    const server = createServer(
      nodeListener(async (r) => {
        const reply = await serveContent(r, { file: path, contentType: TYPE });
        if (calls++ === 0) {
          writeFileSync(`${path}.new`, "version two, longer");
          renameSync(`${path}.new`, path);
        }
        return reply;
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      const answer = await request({ protocol: "http/1.1", port: address.port }, "GET", "/");
      assert.equal(answer.status, 200);
      assert.equal(answer.body.toString(), "version two, longer");
      assert.equal(answer.headers["content-length"], "19");
      assert.equal(calls, 2);
    } finally {
      closeClients();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("nodeListener: a reply whose headers Node refuses is a 500, and the file it opened is closed", async () => {
    // A responder's own header with a line break makes writeHead throw after the
    // body was opened: the descriptor must not stay open for every such request.
    const local: Record<string, string> = { "a.txt": BODY };
    const inner = memoryFileSystem("/m", local);
    let open = 0;
    const counting: FileSystem = {
      ...inner,
      open: async (path) => {
        const file = await inner.open(path);
        open++;
        return { ...file, stat: () => file.stat(), read: (a, b) => file.read(a, b), close: async () => (open--, file.close()) };
      },
    };
    const reported: unknown[] = [];
    const server = createServer(
      nodeListener(
        async (r) => {
          const reply = await serveContent(r, { file: "/m/a.txt", contentType: TYPE, fs: counting });
          return { ...reply, headers: { ...reply.headers, "x-note": "one\ntwo" } };
        },
        { fs: counting, report: (error) => reported.push(error) },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      const answer = await request({ protocol: "http/1.1", port: address.port }, "GET", "/");
      assert.equal(answer.status, 500);
      assert.equal(reported.length, 1, "the error is reported once");
      assert.equal(open, 0, "descriptors left open");
    } finally {
      closeClients();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a file that changes every time a reply is made: 503 with Retry-After, never mixed versions", async () => {
    const path = join(work, "media", "churn.txt");
    writeFileSync(path, "v0");
    let calls = 0;
    const handler = fetchHandler(async (r) => {
      const reply = await serveContent(r, { file: path, contentType: TYPE });
      writeFileSync(`${path}.new`, `v${++calls} changed`);
      renameSync(`${path}.new`, path);
      return reply;
    });
    const answer = await handler(new Request("http://x/"));
    assert.equal(answer.status, 503);
    assert.equal(answer.headers.get("retry-after"), "1");
    assert.equal(calls, 2, "made once more, then given up");
  });

  test("fetchHandler: Range and HEAD on a file on disk", async () => {
    const handler = fetchHandler((r) => serveContent(r, { file: join(work, "media", "video.mp4") }));
    const part = await handler(new Request("http://x/", { headers: { range: "bytes=26-29" } }));
    assert.equal(part.status, 206);
    assert.equal(await part.text(), "abcd");
    assert.equal(part.headers.get("content-range"), "bytes 26-29/300");
    assert.ok(part.headers.get("date"));
    const head = await handler(new Request("http://x/", { method: "HEAD" }));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "300");
    assert.equal(await head.text(), "");
  });
});
