/**
 * How hard the properties are run. `npm test` uses a fixed seed and a small budget,
 * so a run is reproducible and takes a few seconds; `npm run fuzz` (test/fuzz/run.mjs)
 * sets FUZZ_SEED to a fresh random seed and FUZZ_SCALE to many times the runs, round
 * after round, and prints the seed of any failure so it can be replayed:
 *
 *     FUZZ_SEED=123 FUZZ_SCALE=50 node --test build/test/fuzz/path.test.js
 */
import type { Parameters } from "fast-check";

/** The seed of every property in `npm test`. */
export const FIXED_SEED = 20261126;

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

/** The seed in force: FUZZ_SEED, else {@link FIXED_SEED}. */
export const seed = envNumber("FUZZ_SEED") ?? FIXED_SEED;
/** Multiplier of every property's run count: FUZZ_SCALE, else 1. */
export const scale = envNumber("FUZZ_SCALE") ?? 1;

/**
 * fast-check parameters for a property that `npm test` runs `runs` times. The seed
 * is in every failure message fast-check prints (`seed: N, path: "..."`).
 */
export function runs<T>(runs: number): Parameters<T> {
  return { seed, numRuns: Math.max(1, Math.round(runs * scale)) };
}
