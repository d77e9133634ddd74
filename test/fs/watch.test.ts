/**
 * The directory watcher (src/fs/watch.ts) on the in-memory file system: which
 * directories a path depends on, leases called back on the first event, watches
 * closed on an event and kept idle otherwise, and the bound — never more than
 * `maxDirectories` watches, the system's refusal reported once.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { memoryFileSystem } from "../../src/fs/memory.js";
import { DirectoryWatcher, directoriesOf, type Lease } from "../../src/fs/watch.js";

/** A lease on `dirs`, each declared before it is read. */
function leaseOf(watcher: DirectoryWatcher, dirs: readonly string[], changed: () => void = () => {}): Lease {
  const lease = watcher.lease(changed);
  for (const dir of dirs) lease.add(dir);
  return lease;
}

describe("directoriesOf: what a path's resolution depends on", () => {
  const rows: { name: string; path: string; want: string[] }[] = [
    { name: "the root itself", path: "/srv", want: ["/srv"] },
    { name: "a file at the top", path: "/srv/a.txt", want: ["/srv"] },
    { name: "a file two levels down: every directory on the way", path: "/srv/a/b/c.txt", want: ["/srv", "/srv/a", "/srv/a/b"] },
    { name: "outside the root (a followed symlink): its directory only", path: "/elsewhere/deep/x.txt", want: ["/elsewhere/deep"] },
    { name: "a sibling with the root as prefix is outside", path: "/srv-old/x.txt", want: ["/srv-old"] },
  ];
  for (const row of rows) {
    test(row.name, () => assert.deepEqual(directoriesOf("/srv", row.path), row.want, `directoriesOf("/srv", ${row.path})`));
  }
  test("root /", () => assert.deepEqual(directoriesOf("/", "/a/b.txt"), ["/", "/a"]));
});

const tree = () => ({ a: { "x.txt": "x", sub: { "y.txt": "y" } }, b: { "z.txt": "z" }, c: {}, d: {}, "top.txt": "t" });

describe("DirectoryWatcher: leases and events", () => {
  test("an event in a watched directory calls every lease on it back, once, and closes the watch", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs));
    const calls: string[] = [];
    const one = leaseOf(watcher, ["/m", "/m/a"], () => calls.push("one"));
    const two = leaseOf(watcher, ["/m/a"], () => calls.push("two"));
    const three = leaseOf(watcher, ["/m/b"], () => calls.push("three"));
    assert.deepEqual([one.complete, two.complete, three.complete], [true, true, true]);
    assert.equal(fs.watches, 3, "one watch per directory, shared");
    fs.changed("/m/a/x.txt");
    assert.deepEqual(calls.sort(), ["one", "two"]);
    assert.equal(watcher.size, 2, "the watch of /m/a is closed");
    fs.changed("/m/a/x.txt");
    assert.deepEqual(calls.sort(), ["one", "two"], "not called twice");
    three.release();
    fs.changed("/m/b/z.txt");
    assert.deepEqual(calls.sort(), ["one", "two"], "not called after release");
  });

  test("a directory moved or removed fires its own watch", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs));
    let called = 0;
    leaseOf(watcher, ["/m/a/sub"], () => called++);
    fs.changed("/m/a/sub");
    assert.equal(called, 1);
  });

  test("current: every watch still open, and one declared after its read older than the resolution", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs));
    const declaredFirst = leaseOf(watcher, ["/m/a"]);
    assert.equal(declaredFirst.current(), true, "watched before the read: current");
    const start = watcher.tick;
    const late = watcher.lease(() => {});
    late.add("/m/a", start);
    assert.equal(late.current(), true, "already read, but watched since before the resolution began");
    late.add("/m/b", start);
    assert.equal(late.current(), false, "already read, watched only now: a change in between would be lost");
    fs.changed("/m/a/x.txt");
    assert.equal(declaredFirst.current(), false, "called back: not current");
    const again = leaseOf(watcher, ["/m/a"]);
    assert.equal(again.current(), true, "watched afresh");
  });

  test("a directory that does not exist is left to its parent's watch (the lease is still complete)", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs));
    const lease = leaseOf(watcher, ["/m", "/m/later", "/m/later/deep"], () => {});
    assert.equal(lease.complete, true);
    assert.equal(watcher.size, 1);
  });

  test("a released watch stays open (idle) while there is room, and is shared again", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs));
    leaseOf(watcher, ["/m/a"], () => {}).release();
    assert.equal(fs.watches, 1);
    const tick = watcher.tick;
    leaseOf(watcher, ["/m/a"]);
    assert.equal(watcher.tick, tick, "no new watch made");
    assert.equal(fs.watches, 1);
  });
});

describe("DirectoryWatcher: bounded", () => {
  test("never more than maxDirectories watches: idle ones are closed oldest first, then leases are incomplete", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs), { maxDirectories: 2 });
    leaseOf(watcher, ["/m/a"], () => {}).release();
    leaseOf(watcher, ["/m/b"], () => {}).release();
    const c = leaseOf(watcher, ["/m/c"], () => {});
    assert.equal(c.complete, true, "room made by closing an idle watch");
    assert.equal(fs.watches, 2);
    const tick = watcher.tick;
    leaseOf(watcher, ["/m/b"]);
    assert.equal(watcher.tick, tick, "the newer idle watch was kept (no new watch made)");
    const d = leaseOf(watcher, ["/m/d"], () => {});
    assert.equal(d.complete, false, "every watch in use: not watched");
    assert.equal(fs.watches, 2);
    assert.equal(watcher.size, 2);
    for (let i = 0; i < 100; i++) leaseOf(watcher, ["/m", "/m/a", "/m/a/sub", "/m/b", "/m/c", "/m/d"], () => {});
    assert.equal(fs.watches, 2, "the bound holds under any load");
  });

  test("a lease never closes its own watches to make room for itself", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs), { maxDirectories: 2 });
    leaseOf(watcher, ["/m/a"], () => {}).release();
    leaseOf(watcher, ["/m/b"], () => {}).release();
    let called = 0;
    const lease = leaseOf(watcher, ["/m/a", "/m/b", "/m/c"], () => called++);
    assert.equal(lease.complete, false, "/m/c had no room");
    fs.changed("/m/a/x.txt");
    assert.equal(called, 1, "/m/a still watched");
  });

  test("the system refusing a watch (ENOSPC): incomplete, and one line the first time", () => {
    const fs = memoryFileSystem("/m", tree());
    fs.watchLimit = 1;
    const warnings: string[] = [];
    const watcher = new DirectoryWatcher(fs.watch.bind(fs), { warn: (m) => warnings.push(m) });
    assert.equal(leaseOf(watcher, ["/m/a"], () => {}).complete, true);
    assert.equal(leaseOf(watcher, ["/m/b"], () => {}).complete, false);
    assert.equal(leaseOf(watcher, ["/m/c"], () => {}).complete, false);
    assert.equal(warnings.length, 1, `warned once: ${JSON.stringify(warnings)}`);
    assert.match(warnings[0]!, /ENOSPC.*revalidateMs.*fs\.inotify\.max_user_watches/);
    assert.equal(warnings[0]!.includes("\n"), false, "one line");
  });

  test("memory is estimated per watch, and close() closes them all", () => {
    const fs = memoryFileSystem("/m", tree());
    const watcher = new DirectoryWatcher(fs.watch.bind(fs));
    leaseOf(watcher, ["/m", "/m/a", "/m/b"], () => {});
    assert.ok(watcher.bytes > 0);
    watcher.close();
    assert.equal(fs.watches, 0);
    assert.equal(watcher.size, 0);
  });
});
