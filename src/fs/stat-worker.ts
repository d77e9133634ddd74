/**
 * The worker thread of ./node.ts `statEntries` for large batches: `lstat` of
 * every name, synchronously, off the event loop, answered as one array of
 * numbers. A synchronous stat costs this thread about 5 microseconds; the same
 * stat through libuv's thread pool costs the process about twice that in
 * queueing, wake-ups and one callback and object per call on the event loop
 * (measured for 100,000 names: 0.6 s of CPU here, 1.0-1.2 s by callbacks).
 */
import { lstatSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

/** What the worker is started with. */
export interface StatJob {
  /** Marks the job: a library loaded in some other worker must not take that worker's data for one. */
  readonly kind: "wharf-stat";
  /** The directory, as a path the names are joined to (its descriptor's name on Linux). */
  readonly dir: string;
  readonly sep: string;
  readonly names: readonly string[];
}

/** Numbers per name in the answer: kind (0 none, 1 file, 2 directory, 3 other), size, mtimeMs, ino (./node.ts reads them). */
const STAT_FIELDS = 4;

function statAll({ dir, sep, names }: StatJob): Float64Array {
  const out = new Float64Array(names.length * STAT_FIELDS);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    // Never outside `dir`: a name that cannot be one entry's is not stat'ed.
    if (name === "" || name === "." || name === ".." || name.includes(sep) || name.includes("/")) continue;
    let s: ReturnType<typeof lstatSync>;
    try {
      s = lstatSync(dir + sep + name, { throwIfNoEntry: false });
    } catch {
      continue; // EACCES, ELOOP, ...: no stat, as for a name that is gone
    }
    if (s === undefined || s.isSymbolicLink()) continue;
    const at = i * STAT_FIELDS;
    out[at] = s.isFile() ? 1 : s.isDirectory() ? 2 : 3;
    out[at + 1] = s.size;
    out[at + 2] = s.mtimeMs;
    out[at + 3] = s.ino;
  }
  return out;
}

if (parentPort !== null && (workerData as Partial<StatJob> | null)?.kind === "wharf-stat") {
  const out = statAll(workerData as StatJob);
  parentPort.postMessage(out, [out.buffer as ArrayBuffer]);
}
