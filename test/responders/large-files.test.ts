/**
 * Files not kept in memory (file-contents.ts): the digest sidecar's format and
 * rules (digest-sidecar.ts), and the background hash of files above hashLimit —
 * once per version however many ask, within a bounded queue, its provisional tag
 * reported dropped once the content tag is known.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { memoryFileSystem } from "../../src/fs/memory.js";
import { nodeFileSystem } from "../../src/fs/node.js";
import type { FileSystem, Recycling } from "../../src/fs/types.js";
import { formatDigestSidecar, parseDigestSidecar, readDigestSidecar } from "../../src/responders/digest-sidecar.js";
import { BACKGROUND_HASHES, BACKGROUND_RECHECK_BYTES, type Contents, FileContentsCache } from "../../src/responders/file-contents.js";
import { waitFor } from "../helpers/wait.js";

const HEX = "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"; // SHA-256 of "123456789"
const show = (v: unknown): string => JSON.stringify(v);
const hexOf = (d: Uint8Array | undefined): string | undefined => (d === undefined ? undefined : Buffer.from(d).toString("hex"));

describe("parseDigestSidecar", () => {
  const rows: [string, string, string | undefined][] = [
    ["the digest alone", HEX, HEX],
    ["with a newline", `${HEX}\n`, HEX],
    ["with CRLF", `${HEX}\r\n`, HEX],
    ["sha256sum's line", `${HEX}  nums.txt\n`, HEX],
    ["binary mode", `${HEX} *nums.txt\n`, HEX],
    ["a tab, then anything", `${HEX}\twhatever`, HEX],
    ["upper case", HEX.toUpperCase(), HEX],
    ["GNU's escaped-name mark", `\\${HEX}  a\\nb\n`, HEX],
    ["a path for a name", `${HEX}  ./dist/big.iso\n`, HEX],
    ["63 digits", HEX.slice(1), undefined],
    ["65 digits", `${HEX}0`, undefined],
    ["not hex", `${HEX.slice(0, 63)}g`, undefined],
    ["leading space", ` ${HEX}`, undefined],
    ["BSD style", `SHA256 (nums.txt) = ${HEX}`, undefined],
    ["empty", "", undefined],
  ];
  for (const [name, text, want] of rows) {
    test(name, () => {
      const got = hexOf(parseDigestSidecar(text));
      assert.equal(got, want, `parseDigestSidecar(${show(text)}): got ${got}, want ${want}`);
    });
  }

  test("formatDigestSidecar writes sha256sum's line, which parses back", () => {
    const line = formatDigestSidecar(Buffer.from(HEX, "hex"), "nums.txt");
    assert.equal(line, `${HEX}  nums.txt\n`);
    assert.equal(hexOf(parseDigestSidecar(line)), HEX);
  });
});

describe("readDigestSidecar", () => {
  const T = Date.UTC(2026, 0, 1);
  const rows: {
    name: string;
    sidecar: string | { file: string; mtimeMs: number } | Record<string, never> | undefined;
    want: string | undefined;
  }[] = [
    { name: "none", sidecar: undefined, want: undefined },
    { name: "as old as the file", sidecar: { file: `${HEX}  f\n`, mtimeMs: T }, want: HEX },
    { name: "newer than the file", sidecar: { file: HEX, mtimeMs: T + 1 }, want: HEX },
    { name: "older than the file: stale", sidecar: { file: HEX, mtimeMs: T - 1 }, want: undefined },
    { name: "a directory by that name", sidecar: {}, want: undefined },
    { name: "not a digest", sidecar: { file: "hello", mtimeMs: T }, want: undefined },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const fs = memoryFileSystem("/m", {
        "f.bin": { file: "123456789", mtimeMs: T },
        ...(row.sidecar === undefined ? {} : { "f.bin.sha256": row.sidecar }),
      });
      const got = hexOf(await readDigestSidecar(fs, "/m/f.bin", await fs.stat("/m/f.bin")));
      assert.equal(got, row.want);
    });
  }
});

const tagOf = (s: string | Uint8Array): string => `"${createHash("sha256").update(s).digest().subarray(0, 16).toString("base64url")}"`;

describe("background hash of files above hashLimit", () => {
  /** A memory file system that counts opens by path. */
  function counted(tree: Record<string, string>): { fs: FileSystem; opens: Map<string, number> } {
    const inner = memoryFileSystem("/m", tree);
    const opens = new Map<string, number>();
    const fs: FileSystem = {
      ...inner,
      stat: (p) => inner.stat(p),
      realpath: (p) => inner.realpath(p),
      readdir: (p) => inner.readdir(p),
      open: (p) => {
        opens.set(p, (opens.get(p) ?? 0) + 1);
        return inner.open(p);
      },
    };
    return { fs, opens };
  }

  test("many first requests: one hash, a shared provisional tag, then the content tag", async () => {
    const { fs, opens } = counted({ "big.bin": "x".repeat(5000) });
    const dropped: Contents[] = [];
    const cache = new FileContentsCache(fs, { hashLimit: 1000, maxFileBytes: 100, maxBytes: 1 << 20, digests: true }, (c) =>
      dropped.push(c),
    );
    const stat = await fs.stat("/m/big.bin");
    const firsts = await Promise.all(Array.from({ length: 20 }, () => cache.contentsOf("/m/big.bin", stat)));
    const provisional = firsts[0]!;
    assert.equal(provisional.provisional, true);
    assert.equal(provisional.etag.opaque, `"1388-${Math.floor(stat.mtimeMs).toString(16)}"`, "the size-and-mtime tag");
    assert.equal(provisional.digests, undefined);
    for (const first of firsts) assert.equal(first, provisional, "every one shares it");
    assert.ok(cache.holds(provisional), "held until hashed, so a resource can be built on it");
    assert.ok(await waitFor(() => cache.backgroundHashes === 0), "the background hash did not finish");
    assert.deepEqual(dropped, [provisional], "reported dropped once hashed");
    assert.equal(cache.holds(provisional), false);
    assert.equal(opens.get("/m/big.bin"), 1, "read once");
    const hashed = await cache.contentsOf("/m/big.bin", stat);
    assert.equal(hashed.etag.opaque, tagOf("x".repeat(5000)));
    assert.equal(hashed.provisional, undefined);
    assert.equal(hashed.digests?.["sha-256"], createHash("sha256").update("x".repeat(5000)).digest("base64"));
    assert.equal(hashed.digests?.["sha-512"], createHash("sha512").update("x".repeat(5000)).digest("base64"));
    assert.equal(opens.get("/m/big.bin"), 1, "remembered: not read again");
  });

  test("the queue is bounded: past it, a plain tag and no hash", async () => {
    const count = BACKGROUND_HASHES.waiting + 10;
    const tree: Record<string, string> = {};
    for (let i = 0; i < count; i++) tree[`f${i}.bin`] = `${i}`.padEnd(2000, "-");
    const { fs } = counted(tree);
    const cache = new FileContentsCache(fs, { hashLimit: 1000, maxFileBytes: 100, maxBytes: 1 << 20 });
    const got: Contents[] = [];
    // One at a time, as a flood of distinct requests would arrive, without letting the queue run.
    const stats = await Promise.all(Object.keys(tree).map((name) => fs.stat(`/m/${name}`)));
    const pending = Object.keys(tree).map((name, i) => cache.contentsOf(`/m/${name}`, stats[i]!));
    got.push(...(await Promise.all(pending)));
    const queued = got.filter((c) => c.provisional === true).length;
    assert.ok(cache.backgroundHashes <= BACKGROUND_HASHES.waiting + BACKGROUND_HASHES.concurrency, `${cache.backgroundHashes} queued`);
    assert.ok(queued <= BACKGROUND_HASHES.waiting + BACKGROUND_HASHES.concurrency, `${queued} provisional`);
    assert.ok(queued < count, "some were refused");
    for (const c of got) if (c.provisional !== true) assert.equal(cache.holds(c), false, "a refused one is not held");
    assert.ok(await waitFor(() => cache.backgroundHashes === 0));
  });

  test("a file replaced before its hash is not remembered under the old version", async () => {
    const tree: Record<string, string> = { "big.bin": "a".repeat(3000) };
    const fs = memoryFileSystem("/m", tree);
    const cache = new FileContentsCache(fs, { hashLimit: 1000, maxFileBytes: 100, maxBytes: 1 << 20 });
    const before = await fs.stat("/m/big.bin");
    assert.equal((await cache.contentsOf("/m/big.bin", before)).provisional, true);
    // Replaced (a new inode) before the queued hash runs: it reads the new bytes.
    tree["big.bin"] = "b".repeat(3001);
    assert.ok(await waitFor(() => cache.backgroundHashes === 0));
    const old = await cache.contentsOf("/m/big.bin", before);
    assert.notEqual(old.etag.opaque, tagOf("b".repeat(3001)), "the new bytes' tag was remembered for the old version");
    assert.ok(await waitFor(() => cache.backgroundHashes === 0));
    const now = await fs.stat("/m/big.bin");
    await cache.contentsOf("/m/big.bin", now);
    assert.ok(await waitFor(() => cache.backgroundHashes === 0));
    const hashed = await cache.contentsOf("/m/big.bin", now);
    assert.equal(hashed.etag.opaque, tagOf("b".repeat(3001)));
    assert.equal(hashed.digests, undefined, "digests off: no full digests kept, no SHA-512");
  });

  test(`a file rewritten while it is hashed: the hash stops within ${BACKGROUND_RECHECK_BYTES / (1 << 20)} MiB of the change`, async () => {
    // 256 MiB that change (a new mtime) once the first MiB has been read: a growing
    // log or an image being written. The same MiB is yielded again and again.
    const MiB = 1 << 20;
    const size = 256 * MiB;
    const piece = new Uint8Array(MiB).fill(7);
    const before = { kind: "file" as const, size, mtimeMs: 1_750_000_000_000, ino: 42 };
    let mtimeMs = before.mtimeMs;
    let read = 0;
    const statNow = () => Promise.resolve({ ...before, mtimeMs });
    const fs: FileSystem = {
      ...memoryFileSystem("/m", {}),
      // No digest sidecar: only the file itself is there.
      stat: (p) => (p === "/m/log.bin" ? statNow() : Promise.reject(Object.assign(new Error("ENOENT"), { code: "ENOENT" }))),
      realpath: (p) => Promise.resolve(p),
      open: () =>
        Promise.resolve({
          stat: statNow,
          read: async function* () {
            for (let at = 0; at < size; at += MiB) {
              read += MiB;
              if (read === MiB) mtimeMs += 1000;
              yield piece;
            }
          },
          close: () => Promise.resolve(),
        }),
    };
    const cache = new FileContentsCache(fs, { hashLimit: 1000, maxFileBytes: 100, maxBytes: 1 << 20 });
    assert.equal((await cache.contentsOf("/m/log.bin", before)).provisional, true);
    assert.ok(await waitFor(() => cache.backgroundHashes === 0, { deadline: 60_000 }), "the background hash did not end");
    console.log(`# background hash of a 256 MiB file changed after 1 MiB: ${read / MiB} MiB read`);
    assert.ok(read <= BACKGROUND_RECHECK_BYTES + MiB, `${read / MiB} MiB read after the file changed at 1 MiB`);
    assert.notEqual((await cache.contentsOf("/m/log.bin", before)).provisional, undefined, "nothing remembered for the old version");
  });
});

describe("the background hash goes through a handful of buffers", () => {
  // Each piece is given back once hashed and the next read into it: before,
  // hashing a 64 MiB file dropped 128 pieces of 512 KiB as garbage, which glibc
  // kept resident.
  const MiB = 1024 * 1024;
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "wharf-hash-buffers-")));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The node file system, noting the buffer behind every piece a read hands out. */
  function watched(): { fs: FileSystem; buffers: Set<ArrayBufferLike>; pieces: () => number } {
    const buffers = new Set<ArrayBufferLike>();
    let pieces = 0;
    const fs: FileSystem = {
      ...nodeFileSystem,
      open: async (p) => {
        const file = await nodeFileSystem.open(p);
        return {
          stat: () => file.stat(),
          close: () => file.close(),
          read: (start, end) => ({
            [Symbol.asyncIterator]: () => {
              const inner = file.read(start, end)[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & Recycling;
              return {
                next: async () => {
                  const r = await inner.next();
                  if (r.done !== true) {
                    buffers.add(r.value.buffer);
                    pieces++;
                  }
                  return r;
                },
                return: async () => (await inner.return?.()) ?? { done: true as const, value: undefined },
                recycle: (piece: Uint8Array) => inner.recycle?.(piece),
              };
            },
          }),
        };
      },
    };
    return { fs, buffers, pieces: () => pieces };
  }

  const rows = [
    { name: "above hashLimit: the background hash", size: 12 * MiB, limits: { hashLimit: MiB, maxFileBytes: 100, maxBytes: MiB } },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const path = join(dir, `${row.size}-${row.limits.hashLimit}-${row.limits.maxFileBytes}.bin`);
      const content = Buffer.alloc(row.size);
      for (let i = 0; i + 4 <= row.size; i += 4) content.writeUInt32LE(i, i);
      writeFileSync(path, content);
      const { fs, buffers, pieces } = watched();
      const cache = new FileContentsCache(fs, row.limits);
      const stat = await fs.stat(path);
      let contents = await cache.contentsOf(path, stat);
      if (contents.provisional === true) {
        assert.ok(await waitFor(() => cache.backgroundHashes === 0), "the background hash did not finish");
        contents = await cache.contentsOf(path, stat);
      }
      assert.equal(contents.etag.opaque, tagOf(content), "the content tag");
      if (contents.body !== undefined) assert.ok(Buffer.from(contents.body).equals(content), "the kept bytes are the file's");
      assert.ok(pieces() >= row.size / (512 * 1024), `${pieces()} pieces`);
      // 64, 128, 256 KiB, then two 512 KiB buffers in turn (and one from the pool of a
      // read before); one per piece, 24 or 12 here, without giving them back.
      assert.ok(buffers.size <= 6, `${buffers.size} buffers for ${pieces()} pieces`);
    });
  }
});
