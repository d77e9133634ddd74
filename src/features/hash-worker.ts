/**
 * The worker thread of ./hash-pool.ts: checks passwords against hashes, one job at
 * a time, off the event loop. A job checks every hash it is given (see
 * ./auth.ts: one per hash kind in the file), so its cost does not depend on
 * which one is the user's.
 */
import { parentPort } from "node:worker_threads";
import { checkPassword } from "./password-hash.js";

/** A job, as posted by the pool. */
export interface HashJob {
  readonly id: number;
  readonly password: string;
  readonly hashes: readonly string[];
}

/** A job's answer: for each hash, whether the password matched. */
export interface HashResult {
  readonly id: number;
  readonly matches: readonly boolean[];
}

parentPort?.on("message", (job: HashJob) => {
  const result: HashResult = { id: job.id, matches: job.hashes.map((hash) => checkPassword(job.password, hash)) };
  parentPort?.postMessage(result);
});
