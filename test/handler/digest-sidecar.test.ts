/**
 * A digest sidecar (`FILE.sha256`) is read under the file's own containment:
 * one that is a symlink (out of the root, or onto a dotfile) is not read, so a
 * secret elsewhere that happens to be 64 hex digits (`openssl rand -hex 32`)
 * never becomes the file's ETag or Repr-Digest; a FIFO or a directory in its
 * place is ignored without blocking; only its first 66 bytes are read, however
 * large it is. These held before this test was written: the sidecar is opened
 * with FileSystem.open, which opens only the canonical path (a symlink there is
 * ENOENT, src/fs/node.ts `openAt`); the test keeps it so.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createHandler } from "../../src/handler/create.js";
import type { Reply, WharfRequest } from "../../src/index.js";

const sha256 = (bytes: Uint8Array): Buffer => createHash("sha256").update(bytes).digest();
const tagFrom = (digest: Buffer): string => `"${digest.subarray(0, 16).toString("base64url")}"`;
/** 8 KiB: over the test's hashLimit (4 KiB) and cacheFileBytes (1 KiB). */
const bytes = (seed: number): Buffer => Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 31 + seed) % 251));
/** A key kept as 64 hex digits, outside the root and in a dotfile inside it. */
const SECRET = sha256(Buffer.from("the operator's secret key"));
const GOOD = bytes(9);

const base = mkdtempSync(join(tmpdir(), "wharf-digest-sidecar-"));
const root = join(base, "site");
mkdirSync(root);
after(() => rmSync(base, { recursive: true, force: true }));
writeFileSync(join(base, "secret.key"), `${SECRET.toString("hex")}\n`);
writeFileSync(join(root, ".env"), `${SECRET.toString("hex")}\n`);
const rows: Array<{ name: string; file: string; make: (sidecar: string) => void; want: "ignored" | "used" }> = [
  { name: "a symlink out of the root", file: "out.bin", make: (s) => symlinkSync(join(base, "secret.key"), s), want: "ignored" },
  { name: "a symlink onto a dotfile in the root", file: "dot.bin", make: (s) => symlinkSync(join(root, ".env"), s), want: "ignored" },
  { name: "a relative symlink out of the root", file: "rel.bin", make: (s) => symlinkSync("../secret.key", s), want: "ignored" },
  { name: "a FIFO", file: "fifo.bin", make: (s) => execFileSync("mkfifo", [s]), want: "ignored" },
  { name: "a directory", file: "dir.bin", make: (s) => mkdirSync(s), want: "ignored" },
  {
    name: "a regular file of 64 MiB (sparse), the digest first",
    file: "huge.bin",
    make: (s) => {
      writeFileSync(s, `${sha256(GOOD).toString("hex")}  huge.bin\n`);
      truncateSync(s, 64 * 1024 * 1024);
    },
    want: "used",
  },
  {
    name: "a regular file (control)",
    file: "good.bin",
    make: (s) => writeFileSync(s, `${sha256(GOOD).toString("hex")}  good.bin\n`),
    want: "used",
  },
];
const day = 1_750_000_000;
for (const row of rows) {
  writeFileSync(join(root, row.file), GOOD);
  utimesSync(join(root, row.file), day, day);
  row.make(join(root, `${row.file}.sha256`));
}
// Sidecars (and what the symlinks lead to) newer than the files.
for (const p of [join(base, "secret.key"), join(root, ".env"), join(root, "good.bin.sha256"), join(root, "huge.bin.sha256")])
  utimesSync(p, day + 60, day + 60);

function request(path: string): WharfRequest {
  return { method: "HEAD", target: path, pathname: path, search: "", header: () => undefined, remoteAddress: "192.0.2.7" };
}

describe("a digest sidecar is read only as a regular file beside the file", () => {
  const handler = createHandler({ root, hashLimit: 4096, cacheFileBytes: 1024, digest: true, revalidateMs: 0 }, () => {});
  for (const row of rows) {
    test(`${row.name}: ${row.want}`, { timeout: 10_000 }, async () => {
      const reply: Reply = await handler.handle(request(`/${row.file}`));
      assert.equal(reply.status, 200);
      const etag = reply.headers["etag"];
      const digest = reply.headers["repr-digest"];
      assert.notEqual(etag, tagFrom(SECRET), `${row.file}: the secret became the ETag`);
      assert.ok(!String(digest).includes(SECRET.toString("base64")), `${row.file}: the secret became the Repr-Digest: ${digest}`);
      if (row.want === "used") {
        assert.equal(etag, tagFrom(sha256(GOOD)));
        assert.equal(digest, `sha-256=:${sha256(GOOD).toString("base64")}:`);
      } else {
        // Without a usable sidecar: the size-and-mtime tag while the file is hashed in the background.
        assert.ok(etag === tagFrom(sha256(GOOD)) || /^"2000-[0-9a-f]+"$/.test(String(etag)), `${row.file}: got ETag ${etag}`);
      }
    });
  }
});
