/**
 * Issue 12 item 4: the synchronous fast path survives configuration. A reply the
 * static handler holds in memory is written by the Node listener before the
 * listener returns (no promise, no tick) when there is no middleware, when the
 * CLI found a wharf.json in the root, and when middleware maps `next()` without
 * awaiting it (`withHeader(next(), ...)`); cached replies are shared, never copied,
 * because a Reply is read-only and middleware that changes one makes a new one.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { settle } from "../../src/cli/settings.js";
import { buildFeatures } from "../../src/features/index.js";
import { createHandlerFromResolved } from "../../src/handler/create.js";
import { resolveOptions } from "../../src/handler/options.js";
import {
  createHandler,
  type Middleware,
  memoryFileSystem,
  type NodeRequest,
  type NodeResponse,
  type StaticOptions,
  type WharfHandler,
  withHeader,
} from "../../src/index.js";

/** What a fake response saw, and whether `end()` came before the listener returned. */
interface Written {
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  ended: boolean;
  /** The listener returned with the response already ended. */
  sameTick: boolean;
  done: Promise<void>;
}

/** Calls the Node listener with a minimal request and response (no socket: nothing else could defer it). */
function call(handler: WharfHandler, path: string, headers: Record<string, string> = {}): Written {
  let finish!: () => void;
  const w: Written = { status: undefined, headers: {}, body: "", ended: false, sameTick: false, done: new Promise((r) => (finish = r)) };
  const req = { method: "GET", url: path, headers, socket: { remoteAddress: "127.0.0.1" } } as unknown as NodeRequest;
  const res: Record<string, unknown> = {
    headersSent: false,
    writeHead(status: number, h: Record<string, string>) {
      w.status = status;
      w.headers = { ...h };
      res.headersSent = true;
      return res;
    },
    write(chunk: Uint8Array | string) {
      w.body += Buffer.from(chunk).toString();
      return true;
    },
    end(chunk?: Uint8Array | string) {
      if (chunk !== undefined) w.body += Buffer.from(chunk).toString();
      w.ended = true;
      finish();
      return this;
    },
    on() {
      return this;
    },
    once() {
      return this;
    },
    off() {
      return this;
    },
    destroy() {
      w.ended = true;
      finish();
    },
  };
  handler(req, res as unknown as NodeResponse);
  w.sameTick = w.ended;
  return w;
}

const FILES = { "a.txt": "0123456789" };
// revalidateMs: a cached entry stays fresh however slow the machine (no sleeps here).
const memory = (o: StaticOptions = {}): StaticOptions => ({ fs: memoryFileSystem("/m", FILES), root: "/m", revalidateMs: 3_600_000, ...o });

const passThrough: Middleware = (_req, next) => next();
const frame: Middleware = (_req, next) => withHeader(next(), "x-frame-options", "DENY");
const awaiting: Middleware = async (_req, next) => withHeader(await next(), "x-frame-options", "DENY");

describe("a cached file is written in the same tick", () => {
  const rows: { name: string; options: StaticOptions; header?: [string, string] }[] = [
    { name: "no middleware", options: memory() },
    { name: "a middleware that returns next()", options: memory({ use: [passThrough] }) },
    { name: "withHeader(next(), ...)", options: memory({ use: [frame] }), header: ["x-frame-options", "DENY"] },
    {
      name: "three synchronous middleware",
      options: memory({ use: [passThrough, frame, passThrough] }),
      header: ["x-frame-options", "DENY"],
    },
    { name: "header rules (coopCoep)", options: memory({ coopCoep: true }), header: ["cross-origin-opener-policy", "same-origin"] },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const handler = createHandler(row.options);
      const warm = call(handler, "/a.txt");
      await warm.done;
      assert.equal(warm.status, 200);
      for (const [path, h, status, body] of [
        ["/a.txt", {}, 200, "0123456789"],
        ["/a.txt", { "if-none-match": warm.headers["etag"]! }, 304, ""],
      ] as const) {
        const w = call(handler, path, h);
        assert.equal(w.sameTick, true, `${row.name}: ${path} ${status}: got a deferred write, want the same tick`);
        assert.equal(w.status, status);
        assert.equal(w.body, body);
        if (row.header !== undefined) assert.equal(w.headers[row.header[0]], row.header[1], `${row.name}: ${row.header[0]}`);
      }
    });
  }

  test("an awaiting middleware still answers, after a tick", async () => {
    const handler = createHandler(memory({ use: [awaiting] }));
    await call(handler, "/a.txt").done;
    const w = call(handler, "/a.txt");
    assert.equal(w.sameTick, false);
    await w.done;
    assert.equal(w.status, 200);
    assert.equal(w.headers["x-frame-options"], "DENY");
    assert.equal(w.body, "0123456789");
  });

  test("a synchronous middleware that throws: logged, 500, in the same tick", () => {
    const errors: unknown[] = [];
    const handler = createHandler(
      memory({
        use: [
          () => {
            throw new Error("boom");
          },
        ],
      }),
      (e) => errors.push(e),
    );
    const w = call(handler, "/a.txt");
    assert.equal(w.sameTick, true);
    assert.equal(w.status, 500);
    assert.equal(errors.length, 1);
  });
});

describe("the CLI with a wharf.json in the root", () => {
  let cwd = "";
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), "wharf-fast-path-"));
    writeFileSync(join(cwd, "wharf.json"), JSON.stringify({ cleanUrls: false }));
    writeFileSync(join(cwd, "a.txt"), "0123456789");
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  test("adds no middleware, and a cached file is written in the same tick", async () => {
    const { options } = await settle({ root: cwd }, undefined, {}, cwd);
    const features = buildFeatures(options);
    assert.deepEqual([options.use, features.outer.length, features.inner.length], [undefined, 0, 0]);
    // As serve() builds it (one resolution), with the serve-only names let through.
    const { handler } = createHandlerFromResolved(
      resolveOptions({ ...options, revalidateMs: 3_600_000 }, Object.keys(options)),
      features,
      () => {},
    );
    await call(handler, "/a.txt").done;
    const w = call(handler, "/a.txt");
    assert.deepEqual([w.sameTick, w.status, w.body], [true, 200, "0123456789"]);
    const hidden = call(handler, "/wharf.json");
    await hidden.done;
    assert.equal(hidden.status, 404);
  });
});

describe("cached replies are shared, not copied", () => {
  test("two requests through a middleware get the very same reply", async () => {
    const handler = createHandler(memory({ use: [passThrough] }));
    const req = { method: "GET", target: "/a.txt", pathname: "/a.txt", search: "", header: () => undefined, remoteAddress: undefined };
    const first = await handler.handle(req);
    const second = await handler.handle(req);
    assert.equal(second, first);
    assert.equal(second.headers, first.headers);
  });

  test("withHeader in a middleware leaves the cached reply as it was", async () => {
    const fs = memoryFileSystem("/m", FILES);
    const plain = createHandler({ fs, root: "/m", revalidateMs: 3_600_000, use: [passThrough] });
    const req = { method: "GET", target: "/a.txt", pathname: "/a.txt", search: "", header: () => undefined, remoteAddress: undefined };
    const cached = await plain.handle(req);
    const changed = await frame(req, () => cached);
    assert.equal(changed.headers["x-frame-options"], "DENY");
    assert.equal(cached.headers["x-frame-options"], undefined);
    assert.equal((await plain.handle(req)).headers["x-frame-options"], undefined);
  });
});

describe("README.md's custom handlers example", () => {
  const home = process.cwd();
  let work = "";
  let example: typeof import("./readme-middleware-example.js");
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "wharf-readme-middleware-"));
    mkdirSync(join(work, "public"));
    writeFileSync(join(work, "public", "a.txt"), "0123456789");
    process.chdir(work);
    try {
      example = await import("./readme-middleware-example.js");
    } finally {
      process.chdir(home);
    }
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test("the README shows exactly the example that runs here", () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const source = readFileSync(join(root, "test", "handler", "readme-middleware-example.ts"), "utf8");
    const code = source
      .slice(source.indexOf("\nimport ") + 1, source.indexOf("\nexport {"))
      .trimEnd()
      .concat("\n")
      .replaceAll('"../../src/index.js"', '"wharf-server"');
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.includes(code), "README.md has a ```ts block identical to test/handler/readme-middleware-example.ts up to its export");
  });

  test("a file with the header, the route, the 404 page; a cached file in the same tick", async () => {
    const rows = [
      { path: "/a.txt", status: 200, body: "0123456789" },
      { path: "/api/hello", status: 200, body: '{"hello":"world"}' },
      { path: "/missing", status: 404, body: "<h1>Nothing here</h1>" },
    ];
    for (const row of rows) {
      const w = call(example.handler, row.path);
      await w.done;
      assert.deepEqual([w.status, w.body, w.headers["x-frame-options"]], [row.status, row.body, "DENY"], row.path);
    }
    assert.equal(call(example.handler, "/a.txt").sameTick, true);
  });
});
