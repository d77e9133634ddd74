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
import { createHash, type Hash } from "node:crypto";
import { BackgroundQueue } from "../core/background.js";
import { sameFile } from "../core/identity.js";
import { SharedWork } from "../core/shared-work.js";
import type { FileStat, FileSystem, OpenFile, Recycling } from "../fs/types.js";
import type { Digests } from "../http/digest-fields.js";
import type { EntityTag } from "../http/etag.js";
import type { Encoding } from "../http/negotiate.js";
import { readDigestSidecar } from "./digest-sidecar.js";
import { compressBytes } from "./encoders.js";

/** What is known about one version of a file. */
export interface Contents {
  readonly etag: EntityTag;
  /** The whole file, when it is small enough to keep. */
  readonly body: Uint8Array | undefined;
  /**
   * The full digests of the bytes (Repr-Digest, RFC 9530 §3), when they are known
   * and {@link ContentsLimits.digests} is on: hashed, or SHA-256 from a sidecar.
   */
  readonly digests?: Digests | undefined;
  /**
   * Set on the size-and-mtime tag of a file being hashed in the background: what
   * is built on it is dropped once the content tag is known (through the
   * `dropped` callback, as for a body), so later requests get the content tag.
   */
  readonly provisional?: true;
  /**
   * On the content tag of a file hashed in the background: the provisional tag
   * it had before, which still stands for the same bytes (a download begun then
   * resumes with If-Range, see preconditions.ts `formerEtag`).
   */
  readonly formerEtag?: EntityTag | undefined;
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

/** What an entry weighs against {@link METADATA_BYTES}: its bookkeeping, its key, its digests' text (two bytes a character). */
const metadataWeight = (entry: Entry): number =>
  ENTRY_BYTES + 2 * entry.key.length + 2 * ((entry.digests?.["sha-256"].length ?? 0) + (entry.digests?.["sha-512"]?.length ?? 0));

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

/** The content tag of bytes whose SHA-256 is `sha256`: its first 128 bits, base64url — 22 characters. */
export function contentTag(sha256: Uint8Array): EntityTag {
  return { weak: false, opaque: `"${Buffer.from(sha256.buffer, sha256.byteOffset, 16).toString("base64url")}"` };
}

/** The tag of some bytes: 128 bits of SHA-256, base64url — 22 characters. */
export function bytesTag(bytes: Uint8Array): EntityTag {
  return contentTag(createHash("sha256").update(bytes).digest());
}

/**
 * Hashes bytes as they come: SHA-256 for the tag always; with `digests`, SHA-512
 * too, and both kept whole for Repr-Digest. Off, it is exactly the hash it was.
 */
class ContentHash {
  readonly #sha256 = createHash("sha256");
  readonly #sha512: Hash | undefined;
  constructor(digests: boolean) {
    this.#sha512 = digests ? createHash("sha512") : undefined;
  }
  update(chunk: Uint8Array): void {
    this.#sha256.update(chunk);
    this.#sha512?.update(chunk);
  }
  /** The tag and, with digests on, the digests. */
  result(): { readonly etag: EntityTag; readonly digests: Digests | undefined } {
    const sha256 = this.#sha256.digest();
    const etag = contentTag(sha256);
    if (this.#sha512 === undefined) return { etag, digests: undefined };
    return { etag, digests: { "sha-256": sha256.toString("base64"), "sha-512": this.#sha512.digest("base64") } };
  }
}

/** The tag and digests of bytes in memory. */
function hashBytes(bytes: Uint8Array, digests: boolean): { readonly etag: EntityTag; readonly digests: Digests | undefined } {
  const hash = new ContentHash(digests);
  hash.update(bytes);
  return hash.result();
}

/**
 * Files hashed in the background at once, per handler: one, so that the disk and
 * a core are shared with requests, not taken from them; and how many more may
 * wait (a flood of first requests for distinct large files is refused past it,
 * and asks again on a later request).
 */
export const BACKGROUND_HASHES = { concurrency: 1, waiting: 64 } as const;

/**
 * A background hash gives up when the file yields nothing for this long (a stuck
 * network mount): the slot is not held for ever.
 */
export const BACKGROUND_STALL_MS = 30_000;

/**
 * A background hash looks at the file's path again after each this many bytes,
 * and stops when it is another version: a large file rewritten or appended to
 * all the time (a growing log, a build writing an image) would otherwise keep
 * the one hashing slot reading gigabytes whose hash is thrown away at the end.
 */
export const BACKGROUND_RECHECK_BYTES = 16 * 1024 * 1024;

/** Limits of {@link FileContentsCache}. */
export interface ContentsLimits {
  /**
   * Files up to this size are hashed before their first answer; larger ones, not
   * kept in memory and without a digest sidecar, get {@link metadataTag} until
   * they are hashed in the background.
   */
  readonly hashLimit: number;
  /** Files up to this size are kept in memory. */
  readonly maxFileBytes: number;
  /** All kept bodies together stay under this. */
  readonly maxBytes: number;
  /** Keep full digests, SHA-256 and SHA-512, of what is hashed (Repr-Digest). @default false */
  readonly digests?: boolean;
}

export class FileContentsCache {
  readonly #fs: FileSystem;
  readonly #limits: ContentsLimits;
  readonly #dropped: (contents: Contents) => void;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new SharedWork<string, Contents>();
  /** Large files to hash once, after a first request (see {@link contentsOf}). */
  readonly #background = new BackgroundQueue(BACKGROUND_HASHES.concurrency, BACKGROUND_HASHES.waiting);
  /** The provisional tag of each file queued or being hashed, by version key: bounded by the queue. */
  readonly #provisional = new Map<string, Contents>();
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

  /** Files waiting or being hashed in the background. */
  get backgroundHashes(): number {
    return this.#background.size;
  }

  /**
   * The tag (and, if small, the bytes) of the file at `path`, whose current stat is `stat`:
   *
   * - kept in memory (up to `maxFileBytes`): read once, hashed from the bytes;
   * - else, a digest sidecar (`FILE.sha256`, digest-sidecar.ts) not older than the
   *   file gives the content tag without reading the file;
   * - else, up to `hashLimit`: hashed by streaming the file once;
   * - else, the size-and-mtime tag for now, and the file is hashed once in the
   *   background ({@link BACKGROUND_HASHES}); the tag is marked provisional, so
   *   that what is built on it is dropped once the content tag is known.
   */
  contentsOf(path: string, stat: FileStat): Promise<Contents> | Contents {
    const known = this.#entries.get(path);
    const { maxFileBytes, maxBytes } = this.#limits;
    const keep = stat.size <= maxFileBytes && stat.size <= maxBytes;
    // A known version whose body was dropped for room is read again, not hashed again.
    const same = known !== undefined && sameFile(known, stat) ? known : undefined;
    if (same !== undefined && (same.body !== undefined || !keep)) {
      this.hits++;
      return same;
    }
    this.misses++;
    // Concurrent first requests for one file share a single read.
    const key = `${path}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
    if (!keep) return this.#provisional.get(key) ?? this.#pending.get(key, () => this.#unkept(path, stat, key));
    return this.#pending.get(key, () => this.#read(path, stat, same));
  }

  /** A file not kept in memory: its sidecar's digest, its streamed hash, or a provisional tag and a hash later. */
  async #unkept(path: string, stat: FileStat, key: string): Promise<Contents> {
    const sha256 = await readDigestSidecar(this.#fs, path, stat);
    if (sha256 !== undefined) {
      const digests = this.#limits.digests ? { "sha-256": Buffer.from(sha256).toString("base64") } : undefined;
      return this.#remembered(path, stat, stat, { etag: contentTag(sha256), body: undefined, digests });
    }
    if (stat.size <= this.#limits.hashLimit) return this.#read(path, stat, undefined);
    const provisional: Contents = { etag: metadataTag(stat), body: undefined, provisional: true };
    const queued = this.#background.add(key, async () => {
      try {
        await this.#hashLater(path, stat);
      } finally {
        this.#provisional.delete(key);
        if (this.#held.delete(provisional)) this.#dropped(provisional);
      }
    });
    // Refused (the queue is full): a plain tag, asked again on a later resolution.
    if (!queued) return { etag: metadataTag(stat), body: undefined };
    this.#provisional.set(key, provisional);
    this.#held.add(provisional);
    return provisional;
  }

  /** Hashes a large file off the request path and remembers its content tag, if it is still the version asked for. */
  async #hashLater(path: string, stat: FileStat): Promise<void> {
    const file = await this.#fs.open(path);
    try {
      const opened = await file.stat();
      if (!sameFile(opened, stat)) return;
      const hash = new ContentHash(this.#limits.digests === true);
      let unchecked = 0;
      for await (const chunk of withStallDeadline(file, opened.size, BACKGROUND_STALL_MS)) {
        hash.update(chunk);
        unchecked += chunk.length;
        if (unchecked >= BACKGROUND_RECHECK_BYTES) {
          unchecked = 0;
          // The path, not the descriptor: a file replaced by rename is another version too.
          const now = await this.#fs.stat(path).catch(() => undefined);
          if (now === undefined || !sameFile(now, stat)) return;
        }
      }
      // Rewritten in place while it was read: the hash describes no version.
      this.#remembered(path, stat, await file.stat(), { ...hash.result(), body: undefined, formerEtag: metadataTag(stat) });
    } finally {
      await file.close();
    }
  }

  async #read(path: string, stat: FileStat, known: Contents | undefined): Promise<Contents> {
    const file = await this.#fs.open(path);
    let contents: Contents;
    let opened: FileStat;
    const digests = this.#limits.digests === true;
    try {
      opened = await file.stat();
      const keep = opened.size <= this.#limits.maxFileBytes && opened.size <= this.#limits.maxBytes;
      if (keep) {
        // A Buffer, not a plain Uint8Array: Node's socket write wraps anything else
        // in a new Buffer view on every response (stream.js _uint8ArrayToBuffer).
        // alloc, never allocUnsafe: a pooled slice would keep its 8 KiB slab alive.
        const body = Buffer.alloc(opened.size);
        let offset = 0;
        await eachPiece(file, opened.size, (chunk) => {
          body.set(chunk.subarray(0, opened.size - offset), offset);
          offset += chunk.length;
        });
        // The bytes are in memory: hashed whatever hashLimit says (it bounds reading, not hashing).
        // Shorter than its stat: it is being rewritten; serve what the stat promised never.
        const hashed = known === undefined ? hashBytes(body, digests) : { etag: known.etag, digests: known.digests };
        contents = offset === opened.size ? { ...hashed, body } : { etag: metadataTag(opened), body: undefined };
      } else if (opened.size <= this.#limits.hashLimit) {
        const hash = new ContentHash(digests);
        await eachPiece(file, opened.size, (chunk) => hash.update(chunk));
        contents = { ...hash.result(), body: undefined };
      } else {
        contents = { etag: metadataTag(opened), body: undefined };
      }
    } finally {
      await file.close();
    }
    return this.#remembered(path, stat, opened, contents);
  }

  /** Remembers `contents` only if the file is still what the request saw (`opened` is `stat`). */
  #remembered(path: string, stat: FileStat, opened: FileStat, contents: Contents): Contents {
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
      const contents: Contents = { ...hashBytes(body, this.#limits.digests === true), body };
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
    this.#metadata += metadataWeight(entry);
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
    this.#metadata -= metadataWeight(old);
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

/**
 * `use` on each piece of the first `size` bytes of `file`, each given back once
 * used (copied or hashed, synchronously), so the next is read into it and the
 * last is kept for the next download (src/fs/node.ts): a file read into the
 * cache or hashed went through fresh 64, 128, 256 and 512 KiB buffers each time,
 * and a cache too small for the files asked for reads them again and again.
 */
async function eachPiece(file: OpenFile, size: number, use: (piece: Uint8Array) => void): Promise<void> {
  const pieces = file.read(0, size)[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & Recycling;
  try {
    for (let next = await pieces.next(); next.done !== true; next = await pieces.next()) {
      use(next.value);
      pieces.recycle?.(next.value);
    }
  } finally {
    await pieces.return?.();
  }
}

/**
 * The bytes of `file`, `[0, size)`, failing when no chunk comes for `stallMs`:
 * background work holds its slot for as long as the file keeps coming, never
 * for ever.
 */
async function* withStallDeadline(file: OpenFile, size: number, stallMs: number): AsyncGenerator<Uint8Array> {
  const chunks = file.read(0, size)[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & Recycling;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("wharf: background hash stalled")), stallMs);
        timer.unref();
      });
      try {
        const next = await Promise.race([chunks.next(), stalled]);
        if (next.done === true) return;
        yield next.value;
        // The consumer (a hash) has taken it: the next piece is read into it, so a
        // 64 MiB hash goes through two buffers, not 128 fresh 512 KiB ones that
        // the collector chases and glibc keeps resident once freed.
        chunks.recycle?.(next.value);
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    await chunks.return?.();
  }
}
