/**
 * Work shared by concurrent callers: the first caller for a key starts it, the
 * others wait for the same promise, and the key is forgotten once it settles
 * (fulfilled or rejected), so the next caller starts afresh. A thundering herd
 * of first requests for one file reads it once; a failure is not remembered.
 * Bounded by construction: only work in progress is held.
 */
export class SharedWork<K, V> {
  readonly #pending = new Map<K, Promise<V>>();

  /** The work for `key` in progress, or `make()` started now and shared until it settles. */
  get(key: K, make: () => Promise<V>): Promise<V> {
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      const started = make();
      pending = started.finally(() => {
        // Only our own promise: a key may have been started again meanwhile.
        if (this.#pending.get(key) === pending) this.#pending.delete(key);
      });
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** How many keys have work in progress. */
  get size(): number {
    return this.#pending.size;
  }
}
