/**
 * Work done later, off the request's way: at most `concurrency` jobs at once, at
 * most `capacity` waiting, each key once while it waits or runs. Past the
 * capacity a job is refused, not queued: whoever asked goes on without it and may
 * ask again later (a flood of first requests for distinct large files costs a
 * bounded queue, not memory without end). A job's failure is its own business:
 * the queue only moves on.
 */
export class BackgroundQueue {
  readonly #concurrency: number;
  readonly #capacity: number;
  readonly #waiting: { readonly key: string; readonly run: () => Promise<void> }[] = [];
  /** Keys waiting or running. */
  readonly #keys = new Set<string>();
  #running = 0;

  constructor(concurrency: number, capacity: number) {
    this.#concurrency = concurrency;
    this.#capacity = capacity;
  }

  /** Jobs waiting or running. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * Queues `run` under `key`: `true` when it is queued (or a job with this key
   * already is), `false` when the queue is full.
   */
  add(key: string, run: () => Promise<void>): boolean {
    if (this.#keys.has(key)) return true;
    if (this.#waiting.length >= this.#capacity) return false;
    this.#keys.add(key);
    this.#waiting.push({ key, run });
    this.#next();
    return true;
  }

  #next(): void {
    while (this.#running < this.#concurrency) {
      const job = this.#waiting.shift();
      if (job === undefined) return;
      this.#running++;
      // Started in a later task: never inside the request that queued it.
      setImmediate(() => {
        Promise.resolve()
          .then(job.run)
          .catch(() => {})
          .finally(() => {
            this.#running--;
            this.#keys.delete(job.key);
            this.#next();
          });
      });
    }
  }
}
