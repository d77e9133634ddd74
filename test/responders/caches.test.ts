/**
 * The two caches of the static handler, without sockets: the resolved-URL cache
 * (resources.ts) weighs its entries and aliases in bytes, keys by the canonical
 * path, and lets go of every entry built on a body the contents cache dropped;
 * the contents cache (file-contents.ts) keeps bodies, compressed forms and
 * listing pages within one budget and says which it holds.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { memoryFileSystem } from "../../src/fs/memory.js";
import { canonicalPathname } from "../../src/path/resolve.js";
import { type Contents, FileContentsCache } from "../../src/responders/file-contents.js";
import { ALIAS_BYTES, ENTRY_BYTES, type Pins, type Resource, ResourceCache, weightOf } from "../../src/responders/resources.js";

const notFound = (): Resource => ({ kind: "reply", reply: { status: 404, headers: {}, body: { kind: "empty" } } as never });
const resolved =
  (resource: Resource = notFound()) =>
  async (): Promise<Resource> =>
    resource;

describe("canonicalPathname: every spelling of one path is one key", () => {
  const rows: [string, string | undefined][] = [
    ["/a/b.txt", "/a/b.txt"],
    ["//a//b.txt", "/a/b.txt"],
    ["/./a/./b.txt", "/a/b.txt"],
    ["/x/../a/b.txt", "/a/b.txt"],
    ["/x/%2e%2e/a/b.txt", "/a/b.txt"],
    ["/%61/b.txt", "/a/b.txt"],
    ["/a/b%2etxt", "/a/b.txt"],
    ["/it's", "/it%27s"],
    ["/caf%c3%a9", "/caf%C3%A9"],
    ["/d", "/d"],
    ["/d/", "/d/"],
    ["/d//", "/d/"],
    ["/d/.", "/d/"],
    ["/", "/"],
    ["//", "/"],
    ["/..", undefined],
    ["/%zz", undefined],
    ["/a\\b", undefined],
  ];
  for (const [raw, want] of rows) {
    test(`${raw} → ${want}`, () => assert.equal(canonicalPathname(raw), want, `canonicalPathname(${JSON.stringify(raw)})`));
  }
  test("a canonical path is its own key (the hot path looks it up as it came)", () => {
    for (const [, want] of rows) if (want !== undefined) assert.equal(canonicalPathname(want), want);
  });
});

describe("ResourceCache: weighed in bytes", () => {
  test("each entry weighs ENTRY_BYTES plus its key; the total stays within the budget, oldest dropped first", async () => {
    const budget = 64 * 1024;
    const cache = new ResourceCache(60_000, { maxBytes: budget });
    const keys = Array.from({ length: 200 }, (_, i) => `/file-${i}.txt`);
    for (const key of keys) {
      await cache.get(key, resolved());
      assert.ok(cache.bytes <= budget, `after ${key}: ${cache.bytes} bytes, budget ${budget}`);
    }
    // An eighth of the budget is for aliases; the rest holds this many entries.
    const each = weightOf("/file-100.txt", notFound());
    assert.equal(each, ENTRY_BYTES + 2 * "/file-100.txt".length);
    assert.ok(cache.size >= Math.floor((budget * 7) / 8 / (each + 2)) - 1 && cache.size <= Math.floor((budget * 7) / 8 / each));
    assert.equal(cache.peek(keys[0]!), undefined, "the oldest went first");
    assert.notEqual(cache.peek(keys.at(-1)!), undefined, "the newest is kept");
  });

  test("a long key weighs what it is: 8 KiB keys hold 7/8 of the budget in fewer entries", async () => {
    const budget = 256 * 1024;
    const cache = new ResourceCache(60_000, { maxBytes: budget });
    for (let i = 0; i < 100; i++) await cache.get(`/${"k".repeat(8000)}${i}`, resolved());
    assert.ok(cache.bytes <= budget);
    assert.ok(cache.size <= Math.floor((budget * 7) / 8 / (ENTRY_BYTES + 16_000)), `${cache.size} entries of 8 KiB keys`);
  });

  test("aliases share one entry, and are weighed within an eighth of the budget", async () => {
    const budget = 64 * 1024;
    const cache = new ResourceCache(60_000, { maxBytes: budget });
    let resolutions = 0;
    const resource = notFound();
    const resolve = async (): Promise<Resource> => {
      resolutions++;
      return resource;
    };
    const spellings = ["/a.txt", "//a.txt", "/./a.txt", "/x/../a.txt", "/%61.txt"];
    for (const raw of spellings) {
      const key = canonicalPathname(raw)!;
      cache.alias(raw, key);
      assert.equal(await cache.get(key, resolve), resource);
    }
    assert.equal(resolutions, 1, "resolved once for five spellings");
    assert.equal(cache.size, 1);
    for (const raw of spellings) assert.equal(cache.peek(raw), resource, `peek(${raw})`);
    // A flood of spellings only churns the alias map.
    for (let i = 0; i < 10_000; i++) cache.alias(`/x${i}/../a.txt`, "/a.txt");
    assert.ok(cache.bytes <= budget, `${cache.bytes} bytes after 10,000 aliases`);
    assert.ok(cache.bytes - weightOf("/a.txt", resource) <= budget / 8);
    assert.equal(cache.peek("/x9999/../a.txt"), resource, "the newest alias is kept");
    assert.equal(cache.peek("/x0/../a.txt"), undefined, "the oldest alias went first");
    assert.equal(cache.size, 1);
    assert.ok(ALIAS_BYTES > 0);
  });

  test("an entry is trusted for its window only", async () => {
    const cache = new ResourceCache(0);
    await cache.get("/a", resolved());
    assert.equal(cache.peek("/a"), undefined, "revalidateMs 0: nothing kept");
    assert.equal(cache.size, 0);
  });
});

describe("ResourceCache: never holds a body the contents cache dropped", () => {
  const owner = (): object => ({});

  test("release(owner) drops every entry built on it, and only those", async () => {
    const a = owner();
    const b = owner();
    const cache = new ResourceCache(60_000, { isHeld: () => true });
    const built =
      (...owners: object[]) =>
      async (pins: Pins): Promise<Resource> => {
        for (const o of owners) pins.hold(o);
        return notFound();
      };
    await cache.get("/one", built(a));
    await cache.get("/two", built(a, b));
    await cache.get("/three", built(b));
    await cache.get("/four", built());
    cache.release(a);
    assert.deepEqual(
      ["/one", "/two", "/three", "/four"].map((k) => cache.peek(k) !== undefined),
      [false, false, true, true],
    );
    const before = cache.bytes;
    cache.release(b);
    assert.equal(cache.peek("/three"), undefined);
    assert.equal(cache.bytes, before - weightOf("/three", notFound()));
  });

  test("a body dropped while resolving: answered, not kept", async () => {
    const held = new Set<object>();
    const cache = new ResourceCache(60_000, { isHeld: (o) => held.has(o) });
    const a = owner();
    held.add(a);
    const resource = await cache.get("/a", async (pins) => {
      pins.hold(a);
      held.delete(a); // the contents cache lets go before the resolution ends
      return notFound();
    });
    assert.equal(resource.kind, "reply");
    assert.equal(cache.peek("/a"), undefined);
    assert.equal(cache.size, 0);
  });

  test("a body declared after the entry was stored (a coding made on demand), already dropped: the entry goes", async () => {
    const held = new Set<object>();
    const cache = new ResourceCache(60_000, { isHeld: (o) => held.has(o) });
    let later: Pins | undefined;
    await cache.get("/a", async (pins) => {
      later = pins;
      return notFound();
    });
    assert.notEqual(cache.peek("/a"), undefined);
    const b = owner();
    held.add(b);
    later!.hold(b); // held: indexed, kept
    assert.notEqual(cache.peek("/a"), undefined);
    cache.release(b);
    assert.equal(cache.peek("/a"), undefined, "released through a late pin");
    await cache.get("/a", async (pins) => {
      later = pins;
      return notFound();
    });
    later!.hold(owner()); // not held
    assert.equal(cache.peek("/a"), undefined);
  });
});

describe("FileContentsCache: one budget for bodies, compressed forms and pages", () => {
  const text = (n: number, c: string): string => c.repeat(n);

  test("bodies are dropped oldest first, each drop is reported, and the tag is kept (not hashed again)", async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 10; i++) tree[`f${i}.txt`] = text(1000, String(i));
    const fs = memoryFileSystem("/m", tree);
    const dropped: Contents[] = [];
    const cache = new FileContentsCache(fs, { hashLimit: 1 << 20, maxFileBytes: 2000, maxBytes: 3000 }, (c) => dropped.push(c));
    const got: Contents[] = [];
    for (let i = 0; i < 10; i++) {
      const contents = await cache.contentsOf(`/m/f${i}.txt`, await fs.stat(`/m/f${i}.txt`));
      got.push(contents);
      assert.ok(cache.holds(contents));
      assert.ok(cache.bytes <= 3000, `${cache.bytes} bytes after f${i}`);
    }
    assert.deepEqual(dropped, got.slice(0, 7), "the seven oldest, in order");
    for (const c of dropped) assert.equal(cache.holds(c), false);
    // Asked for again: read again, the same tag, held again.
    const again = await cache.contentsOf("/m/f0.txt", await fs.stat("/m/f0.txt"));
    assert.notEqual(again, got[0]);
    assert.equal(again.etag, got[0]!.etag, "the very tag object: known, not hashed again");
    assert.equal(again.body?.length, 1000);
    assert.ok(cache.holds(again));
  });

  test("compressed forms count against the budget, and are not made when the worst case could not fit", async () => {
    const fs = memoryFileSystem("/m", { "a.txt": text(4000, "a"), "b.txt": text(4500, "b") });
    const dropped: Contents[] = [];
    const cache = new FileContentsCache(fs, { hashLimit: 1 << 20, maxFileBytes: 1 << 20, maxBytes: 8500 }, (c) => dropped.push(c));
    const a = await cache.contentsOf("/m/a.txt", await fs.stat("/m/a.txt"));
    // Room is kept for a coding's worst case, 4000 + 4000/64 + 64 = 4126 bytes: with br
    // still being made, gzip would need 4000 + 2 × 4126 > 8500, so it is streamed instead.
    const making = cache.encodedOf(a, "br");
    assert.ok(making instanceof Promise);
    assert.equal(cache.encodedOf(a, "gzip"), undefined);
    const br = await making;
    assert.ok(cache.holds(br));
    assert.equal(cache.bytes, 4000 + br.body!.length);
    // Made, br is tiny: now gzip fits.
    const gzip = await cache.encodedOf(a, "gzip");
    assert.ok(gzip !== undefined && cache.holds(gzip));
    assert.equal(cache.bytes, 4000 + br.body!.length + gzip.body!.length);
    // b pushes a out: a and both its forms are reported, the budget holds.
    await cache.contentsOf("/m/b.txt", await fs.stat("/m/b.txt"));
    assert.ok(dropped.includes(a) && dropped.includes(br) && dropped.includes(gzip));
    assert.equal(cache.encodedOf(a, "br"), undefined, "not held any more");
    assert.equal(cache.bytes, 4500);
  });

  test("a page (a listing) is kept under its key: the same bytes are the same Contents, new bytes replace it", () => {
    const fs = memoryFileSystem("/m", {});
    const dropped: Contents[] = [];
    const cache = new FileContentsCache(fs, { hashLimit: 1 << 20, maxFileBytes: 10, maxBytes: 5000 }, (c) => dropped.push(c));
    const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
    const one = cache.page("\0listing/d/", bytes(text(3000, "x")));
    assert.ok(cache.holds(one), "pages are not limited by maxFileBytes, only by the budget");
    assert.equal(cache.page("\0listing/d/", bytes(text(3000, "x"))), one);
    const two = cache.page("\0listing/d/", bytes(text(3000, "y")));
    assert.notEqual(two, one);
    assert.deepEqual(dropped, [one]);
    assert.equal(cache.bytes, 3000);
    const huge = cache.page("\0listing/e/", bytes(text(6000, "z")));
    assert.equal(cache.holds(huge), false, "larger than the budget: returned, not kept");
    assert.equal(cache.bytes, 3000);
  });

  test("metadata (tags of files whose bodies are not kept) is weighed too", async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 200; i++) tree[`${"n".repeat(3000)}${i}`] = "x";
    const fs = memoryFileSystem("/m", tree);
    const cache = new FileContentsCache(fs, { hashLimit: 1 << 20, maxFileBytes: 0, maxBytes: 0 });
    for (const name of Object.keys(tree)) await cache.contentsOf(`/m/${name}`, await fs.stat(`/m/${name}`));
    assert.ok(cache.metadataBytes <= 4 * 1024 * 1024, `${cache.metadataBytes} bytes`);
    assert.ok(cache.metadataBytes >= 200 * 6000, "every path counted at two bytes a character");
  });
});
