/**
 * A temporary tree on disk whose bytes make the numbers obvious (`nums.txt` is
 * `123456789`), plus the awkward names every listing and resolver must survive,
 * dotfiles, and symlinks that stay inside or leave the root.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Fixture {
  /** The directory to serve. */
  readonly root: string;
  /** A sibling of the root, outside it, holding `secret.txt`. */
  readonly outside: string;
  remove(): void;
}

/** Names that break naive encoders and escapers; each file's content is its own name. */
export const AWKWARD_NAMES = [
  "with space.txt",
  "100%.txt",
  "hash#tag.txt",
  "question?.txt",
  "semi;colon.txt",
  `quote"s'.txt`,
  "ünïcödé ✓.txt",
  "<img src=x onerror=alert(1)>.txt",
  "a&amp;b.txt",
  "plus+sign.txt",
  "colon:x.txt",
] as const;

/** A fixed modification time, so Last-Modified is predictable. */
export const MTIME = new Date("2026-01-02T03:04:05Z");

export function createFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), "wharf-test-"));
  const root = join(base, "public");
  const outside = join(base, "public-old"); // shares the root's prefix: sirv's startsWith bug
  const files: Record<string, string | Buffer> = {
    "nums.txt": "123456789",
    "empty.txt": "",
    "index-less/a.txt": "a",
    "index-less/sub/b.txt": "b",
    "site/index.html": "<!doctype html><title>site</title>",
    "htm/index.htm": "htm index",
    "style.css": "body{}",
    "app.js": "export {};",
    "module.mjs": "export {};",
    "data.json": "{}",
    "image.svg": "<svg/>",
    "code.wasm": Buffer.from([0, 0x61, 0x73, 0x6d]),
    "archive.tar.gz": Buffer.from([0x1f, 0x8b, 8, 0]),
    "blob.unknownext": "?",
    ".env": "SECRET=1",
    ".git/config": "[core]",
    ".well-known/security.txt": "Contact: mailto:x@example.com",
    ".well-known/.hidden": "no",
  };
  for (const name of AWKWARD_NAMES) files[`awkward/${name}`] = name;
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
    utimesSync(path, MTIME, MTIME);
  }
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, "secret.txt"), "secret");
  symlinkSync(join(outside, "secret.txt"), join(root, "escape.txt"));
  symlinkSync(outside, join(root, "escape-dir"));
  symlinkSync("nums.txt", join(root, "link-inside.txt"));
  symlinkSync(".git/config", join(root, "link-to-git.txt"));
  symlinkSync("loop-b", join(root, "loop-a"));
  symlinkSync("loop-a", join(root, "loop-b"));
  symlinkSync("does-not-exist", join(root, "dangling"));
  return { root, outside, remove: () => rmSync(base, { recursive: true, force: true }) };
}
