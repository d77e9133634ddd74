/**
 * The hot path's memory: what a request path resolved to, kept for a short window
 * so that a hot URL costs a map lookup instead of realpath, stat and header
 * building. Like nginx's `open_file_cache_valid`, an entry is trusted for
 * `revalidateMs` and then resolved again on the next request, so an edited, added
 * or deleted file is seen within that window. Files not held in memory are
 * re-stat'ed on every request anyway (see static.ts), and their bytes are checked
 * against the stat when they are opened, so a stale entry can never send bytes
 * that disagree with its headers.
 */
import type { Reply } from "../core/types.js";
import type { Encoding } from "../http/negotiate.js";
import type { Variant } from "./representation.js";
import type { DiskFile } from "./variants.js";

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
    }
  /** A directory asked for without its slash: the redirect target's path (the query is added per request). */
  | { readonly kind: "redirect"; readonly location: string }
  /** A fixed answer: 400, 403, 404. */
  | { readonly kind: "reply"; readonly reply: Reply };

interface Entry {
  readonly resource: Resource;
  readonly checkedAt: number;
}

/** A bounded map from raw request path to {@link Resource}, trusted for a window. */
export class ResourceCache {
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Resource>>();
  readonly #windowMs: number;
  readonly #maxEntries: number;

  constructor(windowMs: number, maxEntries = 10_000) {
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  /**
   * The resource for `key`: from memory while fresh, else from `resolve` (shared by
   * concurrent requests for the same key).
   */
  get(key: string, resolve: () => Promise<Resource>): Resource | Promise<Resource> {
    const entry = this.#entries.get(key);
    if (entry !== undefined && performance.now() - entry.checkedAt < this.#windowMs) return entry.resource;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      const checkedAt = performance.now();
      pending = resolve().then(
        (resource) => {
          this.#pending.delete(key);
          if (this.#windowMs > 0) this.#store(key, { resource, checkedAt });
          return resource;
        },
        (error: unknown) => {
          this.#pending.delete(key);
          throw error;
        },
      );
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** The resource for `key` if it is in memory and fresh, without resolving anything. */
  peek(key: string): Resource | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && performance.now() - entry.checkedAt < this.#windowMs ? entry.resource : undefined;
  }

  /** Forgets `key`, so the next request resolves it again. */
  invalidate(key: string): void {
    this.#entries.delete(key);
  }

  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      // Oldest first: a flood of distinct misses cannot grow the map without bound.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
  }
}
