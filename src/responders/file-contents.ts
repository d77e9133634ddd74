/**
 * What wharf remembers about file contents: the ETag, and for small files the
 * bytes themselves, so a hot file is answered from memory with no open, read or
 * hash per request.
 *
 * A file's ETag is a hash of its bytes, so every machine serving the same bytes
 * gives the same tag (a replica, a redeploy that only touched mtimes, a CDN origin
 * switch all keep client caches valid). Each file is read once per change: entries
 * are keyed by canonical path and checked against the file's identity (inode,
 * size, mtime) on every use.
 *
 * This cache owns every body wharf keeps — files, their compressed forms, and
 * generated pages (listings, see {@link FileContentsCache.page}) — and weighs them
 * in bytes: together at most `maxBytes` (`cacheBytes`), oldest dropped first. What
 * it knows besides (paths, tags) is weighed separately, at most
 * {@link METADATA_BYTES}. Others may build on a body only while this cache holds
 * it: {@link FileContentsCache.holds} says whether it does, and the `dropped`
 * callback hears of every body it lets go, so that whoever built on it (the
 * resource cache, resources.ts) lets go too. That is what makes `cacheBytes` a
 * bound on all bodies kept, not just on this map.
 */
import { createHash } from "node:crypto";
import { sameFile } from "../core/identity.js";
import { SharedWork } from "../core/shared-work.js";
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
  /** The canonical path, or the key of a generated page. */
  readonly key: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Compressed forms of `body`, made on first demand. */
  readonly encoded: Map<Encoding, Contents | Promise<Contents>>;
}

/**
 * The budget of what is known besides bodies (paths, tags, sizes), so that tags of
 * files too large to keep are remembered without re-hashing them: about 10,000
 * files with paths of 100 characters.
 */
export const METADATA_BYTES = 4 * 1024 * 1024;

/**
 * What an entry weighs besides its body and path: the objects, the map slot, the
 * tag. An estimate: all the bookkeeping of a cached file, its resolved URL
 * included, measured about 510 bytes on Node 20.
 */
const ENTRY_BYTES = 320;

/** Compressed output is at most this much larger than its input (zstd's and zlib's bounds are below it). */
const expansionBound = (size: number): number => size + (size >> 6) + 64;

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
  readonly #dropped: (contents: Contents) => void;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new SharedWork<string, Contents>();
  /** Every Contents with a body that this cache holds: entries and their compressed forms. */
  readonly #held = new WeakSet<Contents>();
  #bytes = 0;
  #metadata = 0;
  /**
   * Lookups of a file's tag and bytes answered from memory, and those that read or
   * hashed the file (for `--metrics`). Counted always: only a resolution asks,
   * never a request answered from the resolved-URL cache.
   */
  hits = 0;
  misses = 0;

  /** `dropped` is called with each Contents (with a body) the cache stops holding. */
  constructor(fs: FileSystem, limits: ContentsLimits, dropped: (contents: Contents) => void = () => {}) {
    this.#fs = fs;
    this.#limits = limits;
    this.#dropped = dropped;
  }

  /** Bytes of bodies held right now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of metadata held right now (estimated per entry, see {@link METADATA_BYTES}). */
  get metadataBytes(): number {
    return this.#metadata;
  }

  /** Whether `contents` (as returned by this cache) has a body this cache still holds. */
  holds(contents: Contents): boolean {
    return this.#held.has(contents);
  }

  /** The tag (and, if small, the bytes) of the file at `path`, whose current stat is `stat`. */
  contentsOf(path: string, stat: FileStat): Promise<Contents> | Contents {
    const known = this.#entries.get(path);
    const { hashLimit, maxFileBytes, maxBytes } = this.#limits;
    const keep = stat.size <= maxFileBytes && stat.size <= maxBytes;
    // A known version whose body was dropped for room is read again, not hashed again.
    const knownTag = known !== undefined && sameFile(known, stat) ? known.etag : undefined;
    if (knownTag !== undefined && (known!.body !== undefined || !keep)) {
      this.hits++;
      return known!;
    }
    // Nothing to read: the tag is the stat's (a file too large to hash).
    if (stat.size > hashLimit && stat.size > maxFileBytes) return { etag: metadataTag(stat), body: undefined };
    this.misses++;
    // Concurrent first requests for one file share a single read.
    const key = `${path}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
    return this.#pending.get(key, () => this.#read(path, stat, knownTag));
  }

  async #read(path: string, stat: FileStat, knownTag: EntityTag | undefined): Promise<Contents> {
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
        const etag = knownTag ?? (opened.size <= this.#limits.hashLimit ? bytesTag(body) : metadataTag(opened));
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
    if (sameFile(opened, stat)) {
      const entry: Entry = { ...contents, key: path, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, encoded: new Map() };
      this.#remember(entry);
      // The entry itself, so that holds() can answer for what the caller got.
      return entry;
    }
    // The file changed between stat and open: what we read describes another version.
    return { etag: metadataTag(stat), body: undefined };
  }

  /**
   * A generated page (a directory listing) kept under `key` within the same budget,
   * so that its compressed forms ({@link encodedOf}) are made once per version of
   * the page. The same bytes again return the Contents already held.
   */
  page(key: string, body: Uint8Array): Contents {
    const etag = bytesTag(body);
    const known = this.#entries.get(key);
    if (known !== undefined && known.etag.opaque === etag.opaque) return known;
    if (body.length > this.#limits.maxBytes) {
      this.#forget(key);
      return { etag, body };
    }
    const entry: Entry = { etag, body, key, ino: -1, size: body.length, mtimeMs: 0, encoded: new Map() };
    this.#remember(entry);
    return entry;
  }

  /**
   * The body of `identity` (Contents this cache returned) compressed with
   * `encoding`, made once per version and kept within the same budget; `undefined`
   * when the body is not held, or when it could not be kept with its compressed
   * forms within the budget even alone (the caller then compresses while sending).
   */
  encodedOf(identity: Contents, encoding: Encoding): Contents | Promise<Contents> | undefined {
    if (!this.#held.has(identity) || identity.body === undefined) return undefined;
    const entry = identity as Entry;
    const known = entry.encoded.get(encoding);
    if (known !== undefined) return known;
    // Room for the worst case is checked before compressing (forms still being made
    // counted at their worst too), so whatever is stored fits: the entry alone never
    // exceeds the budget, and trimming the others always brings it back within.
    let reserved = expansionBound(identity.body.length);
    for (const form of entry.encoded.values())
      reserved += form instanceof Promise ? expansionBound(identity.body.length) : (form.body?.length ?? 0);
    if (identity.body.length + reserved > this.#limits.maxBytes) return undefined;
    const pending = compressBytes(encoding, identity.body).then((body) => {
      const contents: Contents = { etag: bytesTag(body), body };
      if (this.#entries.get(entry.key) === entry && entry.encoded.get(encoding) === pending) {
        entry.encoded.set(encoding, contents);
        this.#held.add(contents);
        this.#bytes += body.length;
        this.#trim(entry.key);
      }
      return contents;
    });
    entry.encoded.set(encoding, pending);
    pending.catch(() => entry.encoded.delete(encoding));
    return pending;
  }

  /** Bytes of bodies `entry` holds, its own and its compressed forms'. */
  #weightOf(entry: Entry): number {
    let bytes = entry.body?.length ?? 0;
    for (const form of entry.encoded.values()) if (!(form instanceof Promise)) bytes += form.body?.length ?? 0;
    return bytes;
  }

  #remember(entry: Entry): void {
    this.#forget(entry.key);
    this.#entries.set(entry.key, entry);
    if (entry.body !== undefined) this.#held.add(entry);
    this.#bytes += entry.body?.length ?? 0;
    this.#metadata += ENTRY_BYTES + 2 * entry.key.length;
    this.#trim(entry.key);
  }

  /**
   * Oldest first (never `key`), until within both budgets: over the body budget,
   * an entry's bodies are dropped but its tag is kept (so the file is read again
   * when next asked for, but not hashed again); over the metadata budget, the
   * entry goes.
   */
  #trim(key: string): void {
    for (const [oldKey, old] of this.#entries) {
      const overBodies = this.#bytes > this.#limits.maxBytes;
      const overMetadata = this.#metadata > METADATA_BYTES;
      if (!overBodies && !overMetadata) break;
      if (oldKey === key) continue;
      if (overMetadata) this.#forget(oldKey);
      else if (old.body !== undefined) this.#demote(old);
    }
  }

  /** Drops `entry`'s bodies, keeping what is known about the file (its tag), in its place. */
  #demote(entry: Entry): void {
    this.#bytes -= this.#weightOf(entry);
    this.#entries.set(entry.key, { ...entry, body: undefined, encoded: new Map() });
    this.#release(entry);
  }

  #forget(key: string): void {
    const old = this.#entries.get(key);
    if (old === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= this.#weightOf(old);
    this.#metadata -= ENTRY_BYTES + 2 * old.key.length;
    this.#release(old);
  }

  /** Tells whoever built on `entry`'s bodies that they are no longer held. */
  #release(entry: Entry): void {
    // Forms still being compressed are not counted and will not be stored (see encodedOf).
    for (const form of entry.encoded.values()) {
      if (form instanceof Promise || !this.#held.delete(form)) continue;
      this.#dropped(form);
    }
    if (this.#held.delete(entry)) this.#dropped(entry);
  }
}
