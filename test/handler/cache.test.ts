/**
 * The hot path's caches never serve stale bytes, and never mix versions: edits,
 * additions and deletions are seen by the next request (the directories of what
 * is cached are watched; test/handler/fresh.test.ts repeats this 200 times),
 * listings follow, headers and bytes always describe the same version, and
 * memory stays within its budget.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { memoryFileSystem } from "../../src/fs/memory.js";
import { createHandler } from "../../src/handler/create.js";
import { FileContentsCache } from "../../src/responders/file-contents.js";
import { rawRequest } from "../helpers/raw.js";

const tagOf = (content: string | Buffer): string =>
  `"${createHash("sha256").update(content).digest().subarray(0, 16).toString("base64url")}"`;

let dir: string;
let server: Server;
let port: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-cache-"));
  mkdirSync(join(dir, "d"));
  // Default options: the production hot path, watches with the 500 ms window as the fallback, 1 MiB body limit.
  server = createServer(createHandler({ root: dir }, () => {}));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The next response for `path` shows the change: `done(response)` holds. */
async function seenAtOnce(path: string, done: (status: number, body: string) => boolean): Promise<void> {
  const res = await rawRequest(port, "GET", path);
  const body = res.body.toString();
  // Whatever version is served, its ETag must be the hash of the bytes sent with it.
  if (res.status === 200 && path.endsWith(".txt")) assert.equal(res.headers.etag, tagOf(res.body), `${path}: ETag of other bytes`);
  assert.ok(done(res.status, body), `${path}: change not seen by the next request (got ${res.status} ${body.slice(0, 40)})`);
}

const rows: { name: string; path: string; setup: () => void; change: () => void; seen: (status: number, body: string) => boolean }[] = [
  {
    name: "an edited small file (held in memory)",
    path: "/edit.txt",
    setup: () => writeFileSync(join(dir, "edit.txt"), "one"),
    change: () => writeFileSync(join(dir, "edit.txt"), "two!"),
    seen: (s, b) => s === 200 && b === "two!",
  },
  {
    name: "a file replaced by rename (new inode)",
    path: "/swap.txt",
    setup: () => writeFileSync(join(dir, "swap.txt"), "old"),
    change: () => {
      writeFileSync(join(dir, "swap.tmp"), "new");
      renameSync(join(dir, "swap.tmp"), join(dir, "swap.txt"));
    },
    seen: (s, b) => s === 200 && b === "new",
  },
  {
    name: "a deleted file",
    path: "/gone.txt",
    setup: () => writeFileSync(join(dir, "gone.txt"), "here"),
    change: () => rmSync(join(dir, "gone.txt")),
    seen: (s) => s === 404,
  },
  {
    name: "an added file",
    path: "/new.txt",
    setup: () => {},
    change: () => writeFileSync(join(dir, "new.txt"), "fresh"),
    seen: (s, b) => s === 200 && b === "fresh",
  },
  {
    name: "a listing after a file is added",
    path: "/d/",
    setup: () => {},
    change: () => writeFileSync(join(dir, "d", "listed.txt"), "x"),
    seen: (s, b) => s === 200 && b.includes("listed.txt"),
  },
  {
    name: "an index.html added to a listed directory",
    path: "/d/",
    setup: () => {},
    change: () => writeFileSync(join(dir, "d", "index.html"), "<p>index</p>"),
    seen: (s, b) => s === 200 && b === "<p>index</p>",
  },
];

describe("changes are seen by the next request", () => {
  for (const row of rows) {
    test(row.name, async () => {
      row.setup();
      await rawRequest(port, "GET", row.path); // now cached
      await rawRequest(port, "GET", row.path);
      row.change();
      await seenAtOnce(row.path, row.seen);
    });
  }

  test("a large file (read from disk) changed under a cached entry: headers always match bytes", async () => {
    const big = (c: string): Buffer => Buffer.alloc(2 * 1024 * 1024, c); // above the 1 MiB memory limit
    writeFileSync(join(dir, "big.bin"), big("a"));
    const first = await rawRequest(port, "GET", "/big.bin");
    assert.equal(first.headers.etag, tagOf(big("a")));
    writeFileSync(join(dir, "big.bin"), big("b"));
    // Re-stat'ed on every request: the very next one sees the new version.
    const second = await rawRequest(port, "GET", "/big.bin");
    assert.equal(second.body.subarray(0, 1).toString(), "b");
    assert.equal(second.headers.etag, tagOf(big("b")));
  });
});

describe("revalidateMs: 0 checks on every request", () => {
  test("an edit is seen by the next request", async () => {
    const files = { "a.txt": "one" } as Record<string, string>;
    const handler = createHandler({ root: "/m", fs: memoryFileSystem("/m", files), revalidateMs: 0 });
    assert.equal(await (await handler.fetch(new Request("http://x/a.txt"))).text(), "one");
    files["a.txt"] = "two";
    assert.equal(await (await handler.fetch(new Request("http://x/a.txt"))).text(), "two");
  });
});

describe("file bodies stay within the memory budget", () => {
  test("the oldest bodies are dropped first", async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 20; i++) tree[`f${i}.txt`] = String(i % 10).repeat(1000);
    const fs = memoryFileSystem("/m", tree);
    const cache = new FileContentsCache(fs, { hashLimit: 1 << 20, maxFileBytes: 2000, maxBytes: 5000 });
    for (let i = 0; i < 20; i++) {
      const stat = await fs.stat(`/m/f${i}.txt`);
      const contents = await cache.contentsOf(`/m/f${i}.txt`, stat);
      assert.equal(contents.body?.length, 1000, `f${i}: body kept`);
      assert.ok(cache.bytes <= 5000, `after f${i}: ${cache.bytes} bytes held, budget 5000`);
    }
    assert.equal(cache.bytes, 5000);
  });
  test("files above the per-file limit are not held", async () => {
    const fs = memoryFileSystem("/m", { "big.txt": "x".repeat(3000) });
    const cache = new FileContentsCache(fs, { hashLimit: 1 << 20, maxFileBytes: 2000, maxBytes: 1 << 20 });
    const contents = await cache.contentsOf("/m/big.txt", await fs.stat("/m/big.txt"));
    assert.equal(contents.body, undefined);
    assert.equal(contents.etag.opaque, tagOf("x".repeat(3000)), "still a content hash");
    assert.equal(cache.bytes, 0);
  });
});
