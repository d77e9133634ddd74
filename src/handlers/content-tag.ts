/**
 * Content-derived entity tags: a file's ETag is a hash of its bytes, so every
 * machine serving the same bytes gives the same tag (a CDN, a second replica, a
 * redeploy that only touched mtimes all keep client caches valid). Each file is
 * hashed once per change: tags are cached by path and checked against the file's
 * identity (inode, size, mtime) on every use.
 */
import { createHash } from "node:crypto";
import type { FileStat, FileSystem } from "../fs/types.js";
import type { EntityTag } from "../http/etag.js";

interface Cached {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly tag: EntityTag;
}

/** How many paths' tags are remembered; the oldest are forgotten first. */
const MAX_ENTRIES = 10_000;

/**
 * The tag of a file too large to hash on the request path: size and modification
 * time, in hex. It is still strong (it changes whenever the bytes are replaced
 * through normal writes), but only equal across machines that preserved mtimes.
 */
export function metadataTag(stat: FileStat): EntityTag {
  return { weak: false, opaque: `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"` };
}

/** The tag of some bytes: 128 bits of SHA-256, base64url — 22 characters. */
export function bytesTag(hash: Uint8Array): EntityTag {
  return { weak: false, opaque: `"${Buffer.from(hash.subarray(0, 16)).toString("base64url")}"` };
}

export class ContentTags {
  readonly #fs: FileSystem;
  readonly #hashLimit: number;
  readonly #cache = new Map<string, Cached>();
  readonly #pending = new Map<string, Promise<EntityTag>>();

  constructor(fs: FileSystem, hashLimit: number) {
    this.#fs = fs;
    this.#hashLimit = hashLimit;
  }

  /** The ETag for the file at `path`, whose current stat is `stat`. */
  async tagFor(path: string, stat: FileStat): Promise<EntityTag> {
    if (stat.size > this.#hashLimit) return metadataTag(stat);
    const cached = this.#cache.get(path);
    if (cached !== undefined && cached.ino === stat.ino && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) {
      return cached.tag;
    }
    // Concurrent first requests for one file share a single read.
    const key = `${path}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#hash(path, stat).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #hash(path: string, stat: FileStat): Promise<EntityTag> {
    const file = await this.#fs.open(path);
    try {
      const opened = await file.stat();
      const hash = createHash("sha256");
      for await (const chunk of file.read(0, opened.size)) hash.update(chunk);
      const tag = bytesTag(hash.digest());
      // Only remember the tag if the file is still what the request saw.
      if (opened.ino === stat.ino && opened.size === stat.size && opened.mtimeMs === stat.mtimeMs) {
        if (this.#cache.size >= MAX_ENTRIES) {
          const oldest = this.#cache.keys().next();
          if (!oldest.done) this.#cache.delete(oldest.value);
        }
        this.#cache.delete(path);
        this.#cache.set(path, { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, tag });
      }
      return tag;
    } finally {
      await file.close();
    }
  }
}
