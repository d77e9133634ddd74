/**
 * The resolved-URL cache with watches (resources.ts + fs/watch.ts), through the
 * real resolver on the in-memory file system and with an injected clock: no
 * sockets, no sleeps. A watched entry is dropped by the event of a change; what
 * could not be watched is trusted for the `revalidateMs` window, and only that;
 * a change during a resolution is never stored as current.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type MemoryNode, memoryFileSystem } from "../../src/fs/memory.js";
import { DirectoryWatcher } from "../../src/fs/watch.js";
import { resolveOptions } from "../../src/handler/options.js";
import { bytesTag, FileContentsCache } from "../../src/responders/file-contents.js";
import { createResolver } from "../../src/responders/resolver.js";
import { type Pins, type Resource, ResourceCache } from "../../src/responders/resources.js";

const WINDOW = 500;

/** A handler's two caches over `tree` at /m, with a clock the test moves. */
function setup(tree: Record<string, MemoryNode>, maxDirectories?: number) {
  const fs = memoryFileSystem("/m", tree);
  const options = resolveOptions({ root: "/m", fs, revalidateMs: WINDOW });
  const contents = new FileContentsCache(fs, { hashLimit: 1 << 20, maxFileBytes: 1 << 20, maxBytes: 1 << 20 });
  const resolve = createResolver(options, contents);
  let now = 1000;
  const watcher = new DirectoryWatcher(fs.watch.bind(fs), maxDirectories === undefined ? {} : { maxDirectories });
  const cache = new ResourceCache(WINDOW, { watcher, now: () => now });
  let resolutions = 0;
  const counted =
    (key: string) =>
    (pins: Pins): Promise<Resource> => {
      resolutions++;
      return resolve(key, pins);
    };
  return {
    fs,
    tree,
    watcher,
    cache,
    /** The ETag of what the cache answers for `key` now (resolving if it must). */
    async tag(key: string): Promise<string> {
      return tagOf(await cache.get(key, counted(key)));
    },
    /** The ETag the hot path would answer with, without resolving; `undefined` if it must resolve. */
    peek(key: string): string | undefined {
      const resource = cache.peek(key);
      return resource === undefined ? undefined : tagOf(resource);
    },
    advance(ms: number): void {
      now += ms;
    },
    get resolutions(): number {
      return resolutions;
    },
  };
}

function tagOf(resource: Resource): string {
  if (resource.kind === "representations") return resource.identity.etag.opaque;
  if (resource.kind === "redirect") return `redirect ${resource.location}`;
  if (resource.kind === "listing") return `listing ${resource.footprint}`;
  return String(resource.reply.status);
}
const tag = (text: string): string => bytesTag(new TextEncoder().encode(text)).opaque;

describe("ResourceCache with watches: a change is seen by the next request", () => {
  test("an edited file: the entry is dropped by the event, not by the clock", async () => {
    const tree: Record<string, MemoryNode> = { a: { "x.txt": "one" } };
    const t = setup(tree);
    assert.equal(await t.tag("/a/x.txt"), tag("one"));
    assert.equal(t.peek("/a/x.txt"), tag("one"), "cached");
    (tree["a"] as Record<string, MemoryNode>)["x.txt"] = "two";
    t.fs.changed("/m/a/x.txt");
    assert.equal(t.peek("/a/x.txt"), undefined, "dropped at once, with the clock unmoved");
    assert.equal(await t.tag("/a/x.txt"), tag("two"));
  });

  test("watched before read: one resolution per miss; a symlink's target directory seen first needs a second", async () => {
    const t = setup({ a: { "x.txt": "x", "y.txt": "y" }, b: { "t.txt": "target" }, "link.txt": { symlink: "b/t.txt" } });
    await t.tag("/a/x.txt");
    assert.equal(t.resolutions, 1);
    await t.tag("/a/y.txt");
    assert.equal(t.resolutions, 2);
    await t.tag("/a/x.txt");
    assert.equal(t.resolutions, 2, "answered from memory");
    assert.equal(await t.tag("/link.txt"), tag("target"));
    assert.equal(t.resolutions, 4, "/m/b was read by realpath before it was known, so watched too late the first time");
    await t.tag("/link.txt");
    assert.equal(t.resolutions, 4);
    (t.tree["b"] as Record<string, MemoryNode>)["t.txt"] = "target 2";
    t.fs.changed("/m/b/t.txt");
    assert.equal(t.peek("/link.txt"), undefined, "a change of the target drops the link");
    assert.equal(await t.tag("/link.txt"), tag("target 2"));
  });

  test("a change during the resolution is not stored as current", async () => {
    const tree: Record<string, MemoryNode> = { a: { "x.txt": "one" } };
    const t = setup(tree);
    await t.tag("/a/x.txt");
    (tree["a"] as Record<string, MemoryNode>)["x.txt"] = "two";
    t.fs.changed("/m/a/x.txt");
    await t.tag("/a/other.txt"); // /m/a watched again (by a cached 404), before the next resolution starts
    // The next resolution reads "two"; a save lands after its read, before its lease is taken.
    const options = resolveOptions({ root: "/m", fs: t.fs, revalidateMs: WINDOW });
    const resolve = createResolver(options, new FileContentsCache(t.fs, { hashLimit: 1 << 20, maxFileBytes: 1 << 20, maxBytes: 1 << 20 }));
    let passes = 0;
    const racing = async (pins: Pins): Promise<Resource> => {
      const resource = await resolve("/a/x.txt", pins);
      if (++passes === 1) {
        (tree["a"] as Record<string, MemoryNode>)["x.txt"] = "three";
        t.fs.changed("/m/a/x.txt"); // closes the watch the first pass relied on
      }
      return resource;
    };
    await t.cache.get("/a/x.txt", racing);
    assert.equal(passes, 2, "resolved again under the new watch");
    assert.equal(t.peek("/a/x.txt"), tag("three"));
  });

  test("a new file (a cached 404), a deleted file, a listing, a renamed directory", async () => {
    const tree: Record<string, MemoryNode> = { d: { "a.txt": "a" } };
    const t = setup(tree);
    const d = tree["d"] as Record<string, MemoryNode>;
    assert.equal(await t.tag("/d/new.txt"), "404");
    assert.equal(await t.tag("/later/x.txt"), "404");
    assert.equal(await t.tag("/d/a.txt"), tag("a"));
    const listing = await t.tag("/d/");
    d["new.txt"] = "new";
    t.fs.changed("/m/d/new.txt");
    assert.equal(t.peek("/d/new.txt"), undefined);
    assert.equal(await t.tag("/d/new.txt"), tag("new"));
    assert.notEqual(await t.tag("/d/"), listing, "the listing shows it");
    delete d["a.txt"];
    t.fs.changed("/m/d/a.txt");
    assert.equal(await t.tag("/d/a.txt"), "404");
    tree["later"] = { "x.txt": "later" };
    t.fs.changed("/m/later");
    assert.equal(await t.tag("/later/x.txt"), tag("later"), "seen by the root's watch");
    tree["e"] = tree["d"]!;
    tree["d"] = { "new.txt": "replaced" };
    t.fs.changed("/m/d");
    assert.equal(await t.tag("/d/new.txt"), tag("replaced"));
  });
});

describe("ResourceCache: the revalidateMs window, on an injected clock", () => {
  test("without an event, an entry is trusted for the window and no longer (the backstop where events never come)", async () => {
    const tree: Record<string, MemoryNode> = { "x.txt": "one" };
    const t = setup(tree);
    await t.tag("/x.txt");
    tree["x.txt"] = "two"; // no event, as on a network file system
    t.advance(WINDOW - 1);
    assert.equal(t.peek("/x.txt"), tag("one"), "trusted within the window");
    t.advance(1);
    assert.equal(t.peek("/x.txt"), undefined, "resolved again once it passed");
    assert.equal(await t.tag("/x.txt"), tag("two"));
  });

  test("without a watcher (a file system that cannot watch): the window alone", async () => {
    let now = 0;
    const cache = new ResourceCache(WINDOW, { now: () => now });
    const resource = { kind: "reply", reply: { status: 404, headers: {}, body: { kind: "empty" } } } as unknown as Resource;
    await cache.get("/a", async () => resource);
    now = WINDOW - 1;
    assert.equal(cache.peek("/a"), resource);
    now = WINDOW;
    assert.equal(cache.peek("/a"), undefined);
  });
});

describe("ResourceCache: a resolution slower than the window", () => {
  /** A resolver that takes `ms` on the injected clock. */
  const slow =
    (t: ReturnType<typeof setup>, ms: number) =>
    (pins: Pins): Promise<Resource> =>
      createResolver(
        resolveOptions({ root: "/m", fs: t.fs, revalidateMs: WINDOW }),
        new FileContentsCache(t.fs, { hashLimit: 1 << 20, maxFileBytes: 1 << 20, maxBytes: 1 << 20 }),
      )("/a/", pins).then((r) => {
        t.advance(ms);
        return r;
      });

  test("watched throughout: stored fresh, the window counting from the store", async () => {
    const t = setup({ a: { "x.txt": "one" } });
    await t.cache.get("/a/", slow(t, 2 * WINDOW));
    assert.notEqual(t.peek("/a/"), undefined, "a 1,000 ms read of a watched directory is still cached when it ends");
    t.advance(WINDOW - 1);
    assert.notEqual(t.peek("/a/"), undefined);
    t.advance(1);
    assert.equal(t.peek("/a/"), undefined, "and the window still ends");
  });

  test("not watched (past the bound): the window counts from when the reading began", async () => {
    const t = setup({ a: { "x.txt": "one" } }, 0);
    await t.cache.get("/a/", slow(t, 2 * WINDOW));
    assert.equal(t.peek("/a/"), undefined, "what was read over 1,000 ms without a watch is not trusted");
  });
});

describe("ResourceCache: beyond the watch bound, the window applies", () => {
  test("with room for two directories, a third falls back to the window; the bound holds", async () => {
    const tree: Record<string, MemoryNode> = { a: { "x.txt": "a1" }, b: { "y.txt": "b1" } };
    const t = setup(tree, 2);
    await t.tag("/a/x.txt"); // watches /m and /m/a: the bound
    await t.tag("/b/y.txt"); // /m/b: no room, every watch in use
    assert.equal(t.watcher.size, 2);
    assert.equal(t.fs.watches, 2);
    (tree["a"] as Record<string, MemoryNode>)["x.txt"] = "a2";
    t.fs.changed("/m/a/x.txt");
    (tree["b"] as Record<string, MemoryNode>)["y.txt"] = "b2";
    t.fs.changed("/m/b/y.txt"); // nobody hears it
    assert.equal(await t.tag("/a/x.txt"), tag("a2"), "watched: at once");
    assert.equal(t.peek("/b/y.txt"), tag("b1"), "not watched: the old version, within the window");
    t.advance(WINDOW);
    assert.equal(await t.tag("/b/y.txt"), tag("b2"), "after the window");
    for (let i = 0; i < 50; i++) {
      tree[`dir${i}`] = { "f.txt": String(i) };
      await t.tag(`/dir${i}/f.txt`);
      assert.ok(t.fs.watches <= 2, `${t.fs.watches} watches after dir${i}`);
    }
  });
});
