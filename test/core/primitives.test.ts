/**
 * The small shared primitives of src/core (issue 12 item 7): sameFile (the one
 * file-identity test), SharedWork (concurrent callers share one piece of work),
 * once (built on first demand, built again after a failure).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sameFile } from "../../src/core/identity.js";
import { once } from "../../src/core/once.js";
import { SharedWork } from "../../src/core/shared-work.js";

/** A promise and its settling functions. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("sameFile", () => {
  const a = { ino: 7, size: 10, mtimeMs: 1_700_000_000_000.5 };
  const rows: { name: string; b: typeof a; want: boolean }[] = [
    { name: "the same version", b: { ...a }, want: true },
    { name: "replaced by rename (another inode)", b: { ...a, ino: 8 }, want: false },
    { name: "rewritten in place, longer", b: { ...a, size: 11 }, want: false },
    { name: "rewritten in place, same length", b: { ...a, mtimeMs: a.mtimeMs + 0.001 }, want: false },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.equal(
        sameFile(a, row.b),
        row.want,
        `sameFile(${JSON.stringify(a)}, ${JSON.stringify(row.b)}): got ${!row.want}, want ${row.want}`,
      );
      assert.equal(sameFile(row.b, a), row.want, "symmetric");
    });
  }
  test("extra fields (a full stat) are ignored", () => {
    assert.equal(sameFile({ ...a, kind: "file" } as typeof a, { ...a, kind: "directory" } as typeof a), true);
  });
});

describe("SharedWork", () => {
  test("concurrent callers for one key share one run; other keys run their own", async () => {
    const work = new SharedWork<string, number>();
    const d = deferred<number>();
    let runs = 0;
    const make = () => (runs++, d.promise);
    const [p1, p2] = [work.get("a", make), work.get("a", make)];
    assert.equal(p1, p2);
    const other = work.get("b", async () => 2);
    assert.deepEqual([runs, work.size], [1, 2]);
    d.resolve(1);
    assert.deepEqual(await Promise.all([p1, p2, other]), [1, 1, 2]);
    assert.equal(work.size, 0, "forgotten once settled");
    await work.get("a", async () => (runs++, 3));
    assert.equal(runs, 2, "a later caller starts afresh");
  });

  test("a failure goes to every waiting caller and is not remembered", async () => {
    const work = new SharedWork<string, number>();
    const d = deferred<number>();
    const [p1, p2] = [work.get("k", () => d.promise), work.get("k", () => Promise.resolve(9))];
    d.reject(new Error("gone"));
    await assert.rejects(p1, /gone/);
    await assert.rejects(p2, /gone/);
    assert.equal(work.size, 0);
    assert.equal(await work.get("k", async () => 5), 5);
  });
});

describe("once", () => {
  test("built on first demand, then shared", async () => {
    let builds = 0;
    const get = once(async () => ++builds);
    assert.equal(builds, 0, "nothing built before the first call");
    assert.deepEqual(await Promise.all([get(), get()]), [1, 1]);
    assert.equal(await get(), 1);
    assert.equal(builds, 1);
  });

  test("a failure reaches the callers that waited; the next call builds again", async () => {
    let builds = 0;
    const get = once(async () => {
      builds++;
      if (builds === 1) throw new Error("not yet");
      return "ready";
    });
    const [first, second] = [get(), get()];
    await assert.rejects(first, /not yet/);
    await assert.rejects(second, /not yet/);
    assert.equal(await get(), "ready");
    assert.equal(await get(), "ready");
    assert.equal(builds, 2);
  });
});
