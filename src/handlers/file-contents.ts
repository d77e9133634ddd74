/**
 * What wharf remembers about file contents: the ETag, and for small files the
 * bytes themselves, so a hot file is answered from memory with no open, read or
 * hash per request.
 *
 * A file's ETag is a hash of its bytes, so every machine serving the same bytes
 * gives the same tag (a replica, a redeploy that only touched mtimes, a CDN origin
 * switch all keep client caches valid). Each file is read once per change: entries
 * are keyed by canonical path and checked against the file's identity (inode,
 * size, mtime) on every use. Memory is bounded by a byte budget; the oldest bodies
 * are dropped first.
 */
import { createHash } from "node:crypto";
import type { FileStat, FileSystem } from "../fs/types.js";
import type { EntityTag } from "../http/etag.js";
import type { Encoding } from "../http/negotiate.js";
import { compressBytes } from "./encoders.js";

/** What is known about one version of a file. */
export interface Contents {
  readonly etag: EntityTag;
  /** The whole file, when it is small enough to keep. */
  readonly body: Uint8Array | undefined;
}

interface Entry extends Contents {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Compressed forms of `body`, made on first demand. */
  readonly encoded: Map<Encoding, Contents | Promise<Contents>>;
}

/** How many files' tags are remembered, bodies or not. */
const MAX_ENTRIES = 10_000;

/**
 * The tag of a file too large to hash on the request path: size and modification
 * time, in hex. It is still strong for wharf (it changes whenever the file is
 * rewritten), but equal across machines only where mtimes were preserved.
 */
export function metadataTag(stat: FileStat): EntityTag {
  return { weak: false, opaque: `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"` };
}

/** The tag of some bytes: 128 bits of SHA-256, base64url — 22 characters. */
export function bytesTag(bytes: Uint8Array): EntityTag {
  const hash = createHash("sha256").update(bytes).digest();
  return { weak: false, opaque: `"${hash.subarray(0, 16).toString("base64url")}"` };
}

function sameVersion(entry: Entry, stat: FileStat): boolean {
  return entry.ino === stat.ino && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs;
}

/** Limits of {@link FileContentsCache}. */
export interface ContentsLimits {
  /** Files up to this size are hashed; larger ones get {@link metadataTag}. */
  readonly hashLimit: number;
  /** Files up to this size are kept in memory. */
  readonly maxFileBytes: number;
  /** All kept bodies together stay under this. */
  readonly maxBytes: number;
}

export class FileContentsCache {
  readonly #fs: FileSystem;
  readonly #limits: ContentsLimits;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Contents>>();
  #bytes = 0;

  constructor(fs: FileSystem, limits: ContentsLimits) {
    this.#fs = fs;
    this.#limits = limits;
  }

  /** Bytes of file bodies held right now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The tag (and, if small, the bytes) of the file at `path`, whose current stat is `stat`. */
  contentsOf(path: string, stat: FileStat): Promise<Contents> | Contents {
    const known = this.#entries.get(path);
    if (known !== undefined && sameVersion(known, stat)) return known;
    const { hashLimit, maxFileBytes } = this.#limits;
    if (stat.size > hashLimit && stat.size > maxFileBytes) return { etag: metadataTag(stat), body: undefined };
    // Concurrent first requests for one file share a single read.
    const key = `${path}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#read(path, stat).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #read(path: string, stat: FileStat): Promise<Contents> {
    const file = await this.#fs.open(path);
    let contents: Contents;
    let opened: FileStat;
    try {
      opened = await file.stat();
      const keep = opened.size <= this.#limits.maxFileBytes && opened.size <= this.#limits.maxBytes;
      if (keep) {
        const body = new Uint8Array(opened.size);
        let offset = 0;
        for await (const chunk of file.read(0, opened.size)) {
          body.set(chunk.subarray(0, opened.size - offset), offset);
          offset += chunk.length;
        }
        // Shorter than its stat: it is being rewritten; serve what the stat promised never.
        const etag = opened.size <= this.#limits.hashLimit ? bytesTag(body) : metadataTag(opened);
        contents = offset === opened.size ? { etag, body } : { etag: metadataTag(opened), body: undefined };
      } else if (opened.size <= this.#limits.hashLimit) {
        const hash = createHash("sha256");
        for await (const chunk of file.read(0, opened.size)) hash.update(chunk);
        contents = { etag: { weak: false, opaque: `"${hash.digest().subarray(0, 16).toString("base64url")}"` }, body: undefined };
      } else {
        contents = { etag: metadataTag(opened), body: undefined };
      }
    } finally {
      await file.close();
    }
    // Remember it only if the file is still what the request saw.
    if (opened.ino === stat.ino && opened.size === stat.size && opened.mtimeMs === stat.mtimeMs) {
      this.#remember(path, { ...contents, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, encoded: new Map() });
      return contents;
    }
    // The file changed between stat and open: what we read describes another version.
    return { etag: metadataTag(stat), body: undefined };
  }

  /**
   * The file's body compressed with `encoding`, made once per file version and kept
   * within the same budget; `undefined` when the body is not held in memory.
   */
  encodedOf(path: string, stat: FileStat, encoding: Encoding): Contents | Promise<Contents> | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined || !sameVersion(entry, stat) || entry.body === undefined) return undefined;
    const known = entry.encoded.get(encoding);
    if (known !== undefined) return known;
    const pending = compressBytes(encoding, entry.body).then((body) => {
      const contents: Contents = { etag: bytesTag(body), body };
      if (this.#entries.get(path) === entry) {
        entry.encoded.set(encoding, contents);
        this.#bytes += body.length;
        this.#trim(path);
      }
      return contents;
    });
    entry.encoded.set(encoding, pending);
    pending.catch(() => entry.encoded.delete(encoding));
    return pending;
  }

  #remember(path: string, entry: Entry): void {
    this.#forget(path);
    this.#entries.set(path, entry);
    this.#bytes += entry.body?.length ?? 0;
    this.#trim(path);
  }

  /** Drops the oldest entries (never `path`'s) until within budget. */
  #trim(path: string): void {
    // Oldest first: drop bodies (and then entries) until within budget.
    for (const oldPath of this.#entries.keys()) {
      if (this.#bytes <= this.#limits.maxBytes && this.#entries.size <= MAX_ENTRIES) break;
      if (oldPath === path) continue;
      this.#forget(oldPath);
    }
  }

  #forget(path: string): void {
    const old = this.#entries.get(path);
    if (old === undefined) return;
    this.#bytes -= old.body?.length ?? 0;
    for (const variant of old.encoded.values()) if (!(variant instanceof Promise)) this.#bytes -= variant.body?.length ?? 0;
    this.#entries.delete(path);
  }
}
