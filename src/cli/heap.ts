/**
 * The V8 heap policy of the wharf process (the CLI only: a library does not
 * change its host's flags).
 *
 * V8 lets the old generation grow to up to several times what survived the last
 * full collection before it collects again, and an array buffer whose object
 * was promoted is freed only by that collection. Under a mix of hostile clients
 * (`npm run attack -- --tls`) wharf's live old generation was about 21 MiB; it
 * grew to 52 MiB, and dead buffers from 32 to 73 MiB, over each 11-second cycle,
 * and RSS followed (238 to 266 MiB, then down again). With the old generation
 * allowed 30 % above what survived, the 5-minute run peaked at 232 MiB with no
 * such swings, and the hot path did not get slower (`bench:ab`, 0.96-1.00×
 * against this setting: within the noise). A server's live heap is mostly its
 * bounded caches; collecting it more often costs little.
 *
 * `--heap-growing-percent` is read by V8 at every full collection, so setting it
 * once the process runs takes effect (unlike `--max-semi-space-size`, read only
 * at startup). An operator's own value (`node --heap-growing-percent=N`) is kept.
 */
import { setFlagsFromString } from "node:v8";

/** The old generation's growth between full collections, in percent of what survived. */
export const HEAP_GROWING_PERCENT = 30;

/** The V8 flags to set, given the process's own: none when the operator set the growth themselves. */
export function heapFlags(execArgv: readonly string[]): string[] {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent(?:=|$)/.test(arg))) return [];
  return [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

/** Applies {@link heapFlags} to this process. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): void {
  for (const flag of heapFlags(execArgv)) setFlagsFromString(flag);
}
