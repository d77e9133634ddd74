/**
 * A full disk: an upload larger than the free space answers 507 (RFC 4918
 * §11.5) and leaves nothing behind, neither the name nor a temporary file, and
 * the space is free again. On a real 1 MiB tmpfs, which needs root (mount(2));
 * skipped, saying why, where the machine does not allow it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { withServer } from "../helpers/server.js";

let dir = "";
let skip: false | string = false;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-upload-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    skip = `cannot mount a 1 MiB tmpfs here (needs root): ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
});
after(() => {
  if (skip === false) execFileSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
});

const free = (): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

test("a full disk: 507 problem+json for PUT and for a form post; nothing left behind", async (t) => {
  if (skip !== false) {
    t.skip(skip);
    return;
  }
  const before = free();
  await withServer({ root: dir, upload: true }, async (server) => {
    const base = server.urls[0]!;
    const put = await fetch(`${base}big.bin`, { method: "PUT", body: Buffer.alloc(2 * 1024 * 1024, 1) });
    assert.equal(put.status, 507);
    assert.equal(put.headers.get("content-type"), "application/problem+json");
    assert.equal(((await put.json()) as { detail: string }).detail, "The server has no space left for this upload.");
    const form = new FormData();
    form.append("file", new Blob([Buffer.alloc(600 * 1024, 2)]), "a.bin");
    form.append("file", new Blob([Buffer.alloc(600 * 1024, 3)]), "b.bin");
    const post = await fetch(base, { method: "POST", body: form });
    assert.equal(post.status, 507);
    // What fits still works afterwards.
    assert.equal((await fetch(`${base}small.bin`, { method: "PUT", body: "123456789" })).status, 201);
  });
  assert.deepEqual(readdirSync(dir), ["small.bin"]);
  assert.ok(free() >= before - 64 * 1024, `free space back: ${free()} of ${before}`);
});

test("a read-only file system: 403 for a PUT, and for one that must make its directory (--mkdir); never a 500", async (t) => {
  if (skip !== false) {
    t.skip(skip);
    return;
  }
  const ro = mkdtempSync(join(tmpdir(), "wharf-upload-ro-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", ro], { stdio: "pipe" });
  } catch (error) {
    rmSync(ro, { recursive: true, force: true });
    t.skip(`cannot mount a read-only tmpfs here: ${String(error)}`);
    return;
  }
  try {
    await withServer({ root: ro, upload: true, mkdir: true }, async (server) => {
      const base = server.urls[0]!;
      const flat = await fetch(`${base}a.txt`, { method: "PUT", body: "a" });
      assert.equal(flat.status, 403, `PUT a.txt: got ${flat.status}`);
      // mkdir(2) failing (EROFS) was thrown outside the upload's own error handling: 500.
      const deep = await fetch(`${base}new/a.txt`, { method: "PUT", body: "a" });
      assert.equal(deep.status, 403, `PUT new/a.txt: got ${deep.status}`);
      assert.equal(deep.headers.get("content-type"), "application/problem+json");
    });
  } finally {
    execFileSync("umount", [ro]);
    rmSync(ro, { recursive: true, force: true });
  }
});
