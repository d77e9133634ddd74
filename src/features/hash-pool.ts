/**
 * Password checks off the event loop: a small pool of worker threads
 * (./hash-worker.ts) with a bounded number of checks pending.
 *
 * Why: a bcrypt check costs tens of milliseconds of CPU by design. On the event
 * loop, 40 concurrent wrong passwords made every other request (a signed-in
 * user's, a health check) wait 2.7 s. In workers the loop stays free, and with at
 * most `maxPending` checks running or queued, a password-guessing flood costs a
 * bounded amount of memory and a bounded wait; past the bound the caller is told
 * "busy" at once (basicAuth answers 503 with Retry-After) instead of queueing
 * without end.
 *
 * Loaded with `import()` by ./auth.ts at the first check that needs it: a server
 * without auth, or with only plain or `{SHA}` accounts, never starts a worker.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { HashJob, HashResult } from "./hash-worker.js";

/** What a check came to: whether the password matched each hash, or no room to check. */
export type CheckOutcome = { readonly kind: "checked"; readonly matches: readonly boolean[] } | { readonly kind: "busy" };

/** Checks `password` against every one of `hashes`. */
export type HashCheck = (password: string, hashes: readonly string[]) => Promise<CheckOutcome>;

/** How big a pool is. */
export interface PoolOptions {
  /** Worker threads, started as checks need them. */
  readonly workers: number;
  /** Checks running or queued at once; one more is answered `busy`. */
  readonly maxPending: number;
}

/**
 * One worker on a machine of two cores or fewer, two above: the event loop keeps a
 * core of its own even while a flood of guesses keeps the pool busy. Sixteen
 * pending checks: at bcrypt cost 10 (about 70 ms each in bcryptjs) a sign-in
 * waits at most about a second behind a flood before it is checked.
 */
export const POOL_DEFAULTS: PoolOptions = { workers: Math.max(1, Math.min(2, availableParallelism() - 1)), maxPending: 16 };

/** A pool of hashing workers. */
export interface HashPool {
  readonly check: HashCheck;
  /** Checks running or queued. */
  readonly pending: number;
  /** Stops the workers (queued checks are rejected). */
  close(): Promise<void>;
}

interface Entry {
  readonly job: HashJob;
  resolve(outcome: CheckOutcome): void;
  reject(error: Error): void;
}

interface Slot {
  readonly worker: Worker;
  entry: Entry | undefined;
}

const WORKER_URL = new URL("./hash-worker.js", import.meta.url);

/** A pool; workers start at the first check and stay (unreferenced: they never keep the process alive when idle). */
export function hashPool(options: PoolOptions = POOL_DEFAULTS): HashPool {
  const { workers, maxPending } = options;
  const slots: Slot[] = [];
  const queue: Entry[] = [];
  let busy = 0;
  let nextId = 0;

  const start = (): Slot => {
    // None of the process's own flags: `--input-type` (a script run with `node -e`)
    // would stop the worker from loading, and `--inspect` would clash on its port.
    const worker = new Worker(WORKER_URL, { execArgv: [] });
    const slot: Slot = { worker, entry: undefined };
    let failure = "";
    worker.unref();
    worker.on("message", (result: HashResult) => {
      const entry = slot.entry;
      if (entry === undefined || entry.job.id !== result.id) return;
      slot.entry = undefined;
      busy--;
      worker.unref();
      entry.resolve({ kind: "checked", matches: result.matches });
      dispatch();
    });
    worker.on("error", (error) => void (failure = `: ${error.message}`)); // 'exit' follows and settles the job
    worker.on("exit", () => {
      slots.splice(slots.indexOf(slot), 1);
      const entry = slot.entry;
      if (entry !== undefined) {
        busy--;
        entry.reject(new Error(`wharf: the password-hashing worker stopped${failure}`));
      }
      dispatch();
    });
    slots.push(slot);
    return slot;
  };

  const dispatch = (): void => {
    while (queue.length > 0) {
      const slot = slots.find((s) => s.entry === undefined) ?? (slots.length < workers ? start() : undefined);
      if (slot === undefined) return;
      const entry = queue.shift()!;
      slot.entry = entry;
      busy++;
      // Referenced while it works: a check in progress keeps the process alive.
      slot.worker.ref();
      slot.worker.postMessage(entry.job);
    }
  };

  const check: HashCheck = (password, hashes) => {
    if (busy + queue.length >= maxPending) return Promise.resolve({ kind: "busy" });
    return new Promise((resolve, reject) => {
      queue.push({ job: { id: nextId++, password, hashes }, resolve, reject });
      dispatch();
    });
  };

  return {
    check,
    get pending() {
      return busy + queue.length;
    },
    async close() {
      for (const entry of queue.splice(0)) entry.reject(new Error("wharf: the password-hashing pool was closed"));
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

let shared: HashPool | undefined;

/** The process's pool, shared by every basicAuth: the bound is per process, as the CPU is. */
export function sharedHashPool(): HashPool {
  shared ??= hashPool();
  return shared;
}
