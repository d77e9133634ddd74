/**
 * Injecting the live-reload tag is bounded in memory: the same page asked for
 * by many at once is read and injected once; distinct pages being injected at
 * once hold at most INJECTING_BYTES (past it, 503 with Retry-After, never a page
 * without its tag); and compressed forms of a page the cache does not keep are
 * not counted in the cache's weight (they once were, for ever, and the cache then
 * kept nothing).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { INJECTING_BYTES, MAX_PAGE_BYTES, PAGE_CACHE_BYTES, PageInjector } from "../../src/features/live/page.js";
import { memoryFileSystem } from "../../src/fs/memory.js";
import { nodeFileSystem } from "../../src/fs/node.js";
import type { FileSystem } from "../../src/fs/types.js";
import { createHandler, type Reply, type WharfRequest } from "../../src/index.js";

const MiB = 1024 * 1024;
const page = (size: number, fill = "p"): Uint8Array =>
  new TextEncoder().encode(`<html><head></head><body>${fill.repeat(size - 39)}</body></html>`);

function request(headers: Record<string, string> = {}): WharfRequest {
  return { method: "GET", target: "/", pathname: "/", search: "", header: (n) => headers[n], remoteAddress: "127.0.0.1" };
}

function pageReply(bytes: Uint8Array, etag: string): Reply {
  return {
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8", etag, "content-length": String(bytes.length) },
    body: { kind: "chunks", chunks: [bytes], length: bytes.length },
  };
}

describe("live: injecting pages is bounded", () => {
  test("a page the cache does not keep: its compressed forms are not weighed; a small page is still kept after", async () => {
    const injector = new PageInjector(memoryFileSystem("/m", {}), "/__wharf/live.js?v=t", true, () => {});
    const big = page(PAGE_CACHE_BYTES / 4 + MiB);
    for (let i = 0; i < 3; i++) {
      const reply = await injector.reply(request({ "accept-encoding": "gzip" }), pageReply(big, '"big"'));
      assert.equal(reply?.headers["content-encoding"], "gzip");
    }
    assert.equal(injector.bytes, 0, `the cache weighs ${injector.bytes} bytes and holds nothing`);
    const small = page(4096);
    await injector.reply(request({ "accept-encoding": "gzip" }), pageReply(small, '"small"'));
    const weight = injector.bytes;
    assert.ok(weight > small.length, `the small page and its gzip form are kept: ${weight} bytes`);
    assert.ok(weight <= PAGE_CACHE_BYTES);
  });

  test(`distinct pages injected at once: at most ${INJECTING_BYTES / MiB} MiB, then 503 with Retry-After`, async () => {
    const injector = new PageInjector(memoryFileSystem("/m", {}), "/__wharf/live.js?v=t", false, () => {});
    const big = page(MAX_PAGE_BYTES);
    const count = INJECTING_BYTES / MAX_PAGE_BYTES + 2;
    const replies = await Promise.all(Array.from({ length: count }, (_, i) => injector.reply(request(), pageReply(big, `"v${i}"`))));
    const statuses = replies.map((r) => r?.status);
    assert.deepEqual(statuses.filter((s) => s === 200).length, INJECTING_BYTES / MAX_PAGE_BYTES, `got ${statuses.join(", ")}`);
    for (const r of replies) if (r?.status === 503) assert.equal(r.headers["retry-after"], "1");
    // Once those are done, the next one is injected.
    assert.equal((await injector.reply(request(), pageReply(big, '"later"')))?.status, 200);
  });

  test("the same large page asked for by 20 at once is read from its file once for the tag", async () => {
    const root = mkdtempSync(join(tmpdir(), "wharf-live-page-"));
    after(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(join(root, "index.html"), page(3 * MiB));
    let opens = 0;
    const fs: FileSystem = {
      ...nodeFileSystem,
      open: (p) => {
        if (p.endsWith("index.html")) opens++;
        return nodeFileSystem.open(p);
      },
    };
    const h = createHandler({ root, live: true, fs, revalidateMs: 60_000 });
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => h.handle({ ...request(), header: (n) => (n === "host" ? "localhost" : undefined) })),
      );
      for (const r of replies) assert.equal(r.status, 200);
      console.log(`# 20 requests at once for a 3 MiB page: its file opened ${opens} times`);
      // Once to hash it (the static handler, shared), once to inject the tag.
      assert.ok(opens <= 2, `opened ${opens} times`);
    } finally {
      h.close();
    }
  });
});
