/**
 * The hot path's memory: what a request path resolved to, so that a hot URL costs
 * a map lookup instead of realpath, stat and header building.
 *
 * Fresh on the next request after a change (issue 11 item 9): the resolution
 * declares the directories it depends on ({@link Pins.watch}), and where the file
 * system can watch them (fs/watch.ts), they are watched before they are read and
 * an event in any of them drops the entry before the next request is read. A
 * result is stored only if it was read under watches that saw no event; else it
 * is resolved once more.
 * Every entry is also trusted for `revalidateMs` at most, like nginx's
 * `open_file_cache_valid`: that window is the freshness of entries that could not
 * be watched (the bound reached, the system's limit, a file system without
 * watches) and a backstop where events never come (network and FUSE mounts,
 * WSL's `/mnt/c`, an event queue overflow). Files not held in memory are
 * re-stat'ed on every request anyway (see static.ts), and their bytes are checked
 * against the stat when they are opened, so a stale entry can never send bytes
 * that disagree with its headers.
 *
 * Bounded by construction, in bytes (issue 10, item 4: a cache counted in
 * entries and keyed by the raw path let 1,000 spellings of 40 files hold 1 GB):
 *
 * - Keyed by the canonical path (path/resolve.ts `canonicalPathname`), so `/a`,
 *   `//a`, `/./a` and `/x/../a` are one entry. A raw path that is already
 *   canonical is its own key: the hot path looks it up as it came, as before.
 *   Other spellings are remembered in a small alias map (raw → canonical), within
 *   an eighth of the budget, so a browser that sends `'` unencoded still gets the
 *   synchronous answer; a flood of spellings only churns that map.
 * - Each entry is weighed: its key, the strings it keeps, and a fixed allowance
 *   for its objects (measured); all entries and aliases together stay within
 *   `maxBytes` ({@link RESOLVED_BYTES}), oldest dropped first.
 * - Bodies are not weighed here because an entry never holds one on its own: a
 *   resolution declares every body it builds on ({@link Pins}), those bodies must
 *   be held by the contents cache (file-contents.ts) when the entry is stored or
 *   the body is declared, and when the contents cache drops one, {@link release}
 *   drops every entry built on it. So every body reachable from this cache is one
 *   the contents cache holds, and `cacheBytes` bounds them all.
 */

import { SharedWork } from "../core/shared-work.js";
import type { Reply, WharfRequest } from "../core/types.js";
import type { DirectoryWatcher, Lease } from "../fs/watch.js";
import type { Encoding } from "../http/negotiate.js";
import type { DiskFile } from "./file-variants.js";
import type { Variant } from "./variant.js";

/** What a request path leads to, with everything that can be decided once. */
export type Resource =
  /** A file or a generated page (a listing), in one or more codings. */
  | {
      readonly kind: "representations";
      /** The representation without content coding, replies built once. */
      readonly identity: Variant;
      /** The codings it can also be sent in, in order of preference. */
      readonly offered: readonly Encoding[];
      /** The variant in one of `offered`, made on first demand and then kept. */
      variant(encoding: Encoding): Variant | Promise<Variant>;
      /** Files whose bytes are read from disk at send time: re-stat'ed per request. */
      readonly onDisk: readonly DiskFile[];
      /** Bytes of strings it keeps whose length varies (file-system paths), for its weight. */
      readonly footprint: number;
    }
  /**
   * A directory's listing: the directory read once, each request's view (format,
   * sort, filter, page) picked from it (src/responders/listing/resource.ts).
   */
  | {
      readonly kind: "listing";
      select(req: WharfRequest): Extract<Resource, { kind: "representations" }> | Promise<Extract<Resource, { kind: "representations" }>>;
      /** Bytes of the directory's names and entries it keeps. */
      readonly footprint: number;
    }
  /** A directory asked for without its slash: the redirect target's path (the query is added per request). */
  | { readonly kind: "redirect"; readonly location: string }
  /** A fixed answer: 400, 403, 404. */
  | { readonly kind: "reply"; readonly reply: Reply };

/**
 * How a resolution tells the cache which bodies its resource builds on, at any
 * time (a compressed variant is made on first demand, after the entry is stored).
 */
export interface Pins {
  /** The resource holds `owner`'s body; if its owner no longer holds it, the entry is not kept. */
  hold(owner: object): void;
  /**
   * The resource depends on the entries of the directory `dir` (an absolute path):
   * an entry added, removed, renamed or written there, or `dir` itself moved,
   * must drop it. Declared before anything in `dir` is read, so that its watch is
   * in place first; `"already-read"` for a directory known only after it was read
   * (the real path behind a symlink): then it must have been watched since before
   * the resolution began, or the cache resolves again.
   */
  watch(dir: string, read?: "already-read"): void;
}

/** The default budget of the resolved-URL cache, aliases included. */
export const RESOLVED_BYTES = 16 * 1024 * 1024;

/**
 * What an entry weighs besides its key and `footprint`: the Resource, its Variants
 * (up to four, with their header records and replies), closures, map slots and
 * pins. Measured on Node 20 at about 510 bytes of heap for a compressible file
 * with two codings made (4,000 of them; the file's contents-cache entry
 * included); the flat header lists of its replies (core/reply.ts `sharedReply`)
 * add about 450 more (4,000 files asked for in three codings: 3,973 → 4,422 bytes
 * of heap a file). 1.5 KiB, so that a default budget holds about 9,500 URLs.
 */
export const ENTRY_BYTES = 1536;
/** What an alias weighs besides its two strings (map slot, string headers). */
export const ALIAS_BYTES = 96;
/** What each directory an entry depends on adds to its weight (the lease's slots; the watch is weighed by fs/watch.ts). */
export const DEPENDENCY_BYTES = 32;

/**
 * Resolutions of one URL before its result is stored even though a watch it
 * depends on fired meanwhile, or was made too late (then only the window vouches
 * for it). One is the rule; a second is needed when an edit lands during the
 * first, or for a symlink's target directory seen for the first time.
 */
const ATTEMPTS = 3;

/** What one resolution has declared so far, and the entry it became. */
interface Pinning {
  readonly owners: Set<object>;
  /** The directories the resolution depends on. */
  readonly dirs: Set<string>;
  /** Set when an owner was gone: the resource must not be (or stay) cached. */
  dropped: boolean;
  entry: Entry | undefined;
}

interface Entry {
  readonly resource: Resource;
  /** Trusted while the clock is below this: resolved at, plus the window. */
  readonly expires: number;
  readonly key: string;
  readonly weight: number;
  readonly pinning: Pinning;
  /** The watches that drop it on a change, if the file system has them. */
  readonly lease: Lease | undefined;
}

/** An entry's weight: see {@link ENTRY_BYTES}. Strings count two bytes a character (the worst case). */
export function weightOf(key: string, resource: Resource, dependencies = 0): number {
  const own =
    resource.kind === "representations" || resource.kind === "listing"
      ? resource.footprint
      : resource.kind === "redirect"
        ? 2 * resource.location.length
        : 0;
  return ENTRY_BYTES + 2 * key.length + own + DEPENDENCY_BYTES * dependencies;
}

const aliasWeight = (raw: string, canonical: string): number => ALIAS_BYTES + 2 * (raw.length + canonical.length);

/** Options of {@link ResourceCache}. */
export interface ResourceCacheOptions {
  /** Entries and aliases together stay within this. @default RESOLVED_BYTES */
  readonly maxBytes?: number;
  /** Whether the owner of a pinned body still holds it (the contents cache's `holds`). */
  readonly isHeld?: (owner: object) => boolean;
  /** Watches the directories entries depend on; without it, entries are trusted for the window only. */
  readonly watcher?: DirectoryWatcher | undefined;
  /** The clock of the window, in milliseconds (tests pass their own). @default performance.now */
  readonly now?: () => number;
}

/**
 * A map from canonical request path to {@link Resource}, dropped on a change in a
 * watched directory, trusted for a window at most, weighed in bytes.
 */
export class ResourceCache {
  readonly #entries = new Map<string, Entry>();
  /** Raw spelling → canonical path, for spellings that are not canonical. */
  readonly #aliases = new Map<string, string>();
  /** Body owner → the entries built on it, so that dropping the body drops them. */
  readonly #holders = new Map<object, Set<Entry>>();
  readonly #pending = new SharedWork<string, Resource>();
  readonly #windowMs: number;
  readonly #maxBytes: number;
  readonly #maxAliasBytes: number;
  readonly #isHeld: (owner: object) => boolean;
  readonly #watcher: DirectoryWatcher | undefined;
  readonly #now: () => number;
  #bytes = 0;
  #aliasBytes = 0;

  constructor(windowMs: number, options: ResourceCacheOptions = {}) {
    this.#windowMs = windowMs;
    const maxBytes = options.maxBytes ?? RESOLVED_BYTES;
    this.#maxAliasBytes = Math.floor(maxBytes / 8);
    this.#maxBytes = maxBytes - this.#maxAliasBytes;
    this.#isHeld = options.isHeld ?? (() => true);
    this.#watcher = options.watcher;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Bytes weighed right now: entries and aliases. */
  get bytes(): number {
    return this.#bytes + this.#aliasBytes;
  }

  /** Entries held right now (aliases not counted). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The resource for the canonical path `key`: from memory while fresh, else from
   * `resolve` (shared by concurrent requests for the same key), which declares the
   * bodies it builds on through `pins`.
   */
  get(key: string, resolve: (pins: Pins) => Promise<Resource>): Resource | Promise<Resource> {
    const entry = this.#entries.get(key);
    if (entry !== undefined && this.#now() < entry.expires) return entry.resource;
    return this.#pending.get(key, () => this.#resolve(key, resolve));
  }

  /**
   * The resource for the raw request path `raw` if it is in memory and fresh,
   * without resolving anything: `raw` itself when it is canonical (one lookup),
   * else through its alias.
   */
  peek(raw: string): Resource | undefined {
    let entry = this.#entries.get(raw);
    if (entry === undefined) {
      const canonical = this.#aliases.get(raw);
      if (canonical === undefined) return undefined;
      entry = this.#entries.get(canonical);
      if (entry === undefined) return undefined;
    }
    return this.#now() < entry.expires ? entry.resource : undefined;
  }

  /** Remembers that the raw path `raw` names `canonical` (a pure fact: it never goes stale). */
  alias(raw: string, canonical: string): void {
    if (raw === canonical || this.#aliases.has(raw)) return;
    const weight = aliasWeight(raw, canonical);
    if (weight > this.#maxAliasBytes) return;
    this.#aliases.set(raw, canonical);
    this.#aliasBytes += weight;
    for (const [oldRaw, oldCanonical] of this.#aliases) {
      if (this.#aliasBytes <= this.#maxAliasBytes) break;
      this.#aliases.delete(oldRaw);
      this.#aliasBytes -= aliasWeight(oldRaw, oldCanonical);
    }
  }

  /** Forgets `key`, so the next request resolves it again. */
  invalidate(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#delete(entry);
  }

  /** The body of `owner` is no longer held: forget every entry built on it. */
  release(owner: object): void {
    const built = this.#holders.get(owner);
    if (built === undefined) return;
    for (const entry of [...built]) this.#delete(entry);
  }

  /**
   * Resolves `key` and stores the result, once it is known to have been read
   * under watches that were in place before each read ({@link Lease.current}):
   * a change between a read and the making of its watch would otherwise go
   * unseen. Else it resolves once more, now under those watches.
   */
  async #resolve(key: string, resolve: (pins: Pins) => Promise<Resource>): Promise<Resource> {
    let held: Lease | undefined; // keeps the last pass's watches while the next pass runs
    try {
      for (let attempt = 1; ; attempt++) {
        const start = this.#watcher?.tick ?? 0;
        const checkedAt = this.#now();
        const pinning: Pinning = { owners: new Set(), dirs: new Set(), dropped: false, entry: undefined };
        const lease = this.#windowMs > 0 ? this.#watcher?.lease(() => this.#changed(pinning)) : undefined;
        const pins: Pins = {
          hold: (owner) => this.#hold(pinning, owner),
          watch: (dir, read) => {
            pinning.dirs.add(dir);
            lease?.add(dir, read === "already-read" ? start : undefined);
          },
        };
        let resource: Resource;
        try {
          resource = await resolve(pins);
        } catch (error) {
          lease?.release();
          throw error;
        }
        if (this.#windowMs === 0) return resource;
        held?.release();
        held = lease;
        // Not complete (bound, system limit): the window is all there is, resolving again would not help.
        const settled = lease === undefined || !lease.complete || lease.current() || attempt === ATTEMPTS;
        if (!settled) continue;
        held = undefined; // the entry owns it now
        // The window counts from when the reading began, unless every directory read
        // was watched before it was read and still is: then what was read is what is
        // there now (a change since would have called back), and the window counts
        // from now. Otherwise a read longer than the window (a 100,000-entry
        // directory: 500 ms and more) would be stale the moment it was stored.
        const watchedThroughout = lease?.complete && lease.current();
        this.#store(key, resource, watchedThroughout ? this.#now() : checkedAt, pinning, lease);
        return resource;
      }
    } finally {
      held?.release();
    }
  }

  /** A watched directory changed: the entry built by `pinning`, if stored, goes. */
  #changed(pinning: Pinning): void {
    pinning.dropped = true;
    if (pinning.entry !== undefined) this.#delete(pinning.entry);
  }

  #hold(pinning: Pinning, owner: object): void {
    if (pinning.dropped || pinning.owners.has(owner)) return;
    if (!this.#isHeld(owner)) {
      pinning.dropped = true;
      if (pinning.entry !== undefined) this.#delete(pinning.entry);
      return;
    }
    pinning.owners.add(owner);
    if (pinning.entry !== undefined) this.#index(pinning.entry, owner);
  }

  #index(entry: Entry, owner: object): void {
    let built = this.#holders.get(owner);
    if (built === undefined) this.#holders.set(owner, (built = new Set()));
    built.add(entry);
  }

  #store(key: string, resource: Resource, checkedAt: number, pinning: Pinning, lease: Lease | undefined): void {
    // A body dropped while this was being resolved: answer with it, but do not keep it.
    for (const owner of pinning.owners) if (!this.#isHeld(owner)) pinning.dropped = true;
    const weight = weightOf(key, resource, pinning.dirs.size);
    if (pinning.dropped || weight > this.#maxBytes) {
      lease?.release();
      return;
    }
    const old = this.#entries.get(key);
    if (old !== undefined) this.#delete(old);
    const entry: Entry = { resource, expires: checkedAt + this.#windowMs, key, weight, pinning, lease };
    pinning.entry = entry;
    for (const owner of pinning.owners) this.#index(entry, owner);
    this.#entries.set(key, entry);
    this.#bytes += weight;
    // Oldest first: a flood of distinct misses cannot grow the map past its budget.
    for (const oldest of this.#entries.values()) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#delete(oldest);
    }
  }

  #delete(entry: Entry): void {
    entry.pinning.dropped = true;
    entry.lease?.release();
    if (this.#entries.get(entry.key) !== entry) return;
    this.#entries.delete(entry.key);
    this.#bytes -= entry.weight;
    for (const owner of entry.pinning.owners) {
      const built = this.#holders.get(owner);
      built?.delete(entry);
      if (built?.size === 0) this.#holders.delete(owner);
    }
  }
}

/** Lookups a cache answered from memory, and those it had to resolve or read. */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
}

/**
 * A {@link ResourceCache} that counts its lookups, for `--metrics`. A subclass,
 * chosen once when the handler is built, so that without metrics the hot path's
 * `peek` is the plain one and counts nothing. A lookup is a hit when it answers
 * from a fresh entry and a miss when it must resolve (or wait for a resolution
 * under way); a request for a file read from disk looks up twice (the quick
 * path's `peek`, then `get` after the stat), so lookups can exceed requests.
 */
export class CountingResourceCache extends ResourceCache implements CacheCounts {
  hits = 0;
  misses = 0;

  override get(key: string, resolve: (pins: Pins) => Promise<Resource>): Resource | Promise<Resource> {
    const found = super.get(key, resolve);
    if (found instanceof Promise) this.misses++;
    else this.hits++;
    return found;
  }

  // A peek that finds nothing is not counted: the request goes on to `get`, which counts it.
  override peek(raw: string): Resource | undefined {
    const found = super.peek(raw);
    if (found !== undefined) this.hits++;
    return found;
  }
}
