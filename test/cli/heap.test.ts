/**
 * The CLI's V8 heap policy (src/cli/heap.ts): the flag it sets, and the
 * operator's own value kept. Its effect on memory is measured by the attack
 * (docs/reliability.md), not asserted here: when V8 collects is timing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HEAP_GROWING_PERCENT, heapFlags } from "../../src/cli/heap.js";

const ROWS: readonly { name: string; execArgv: readonly string[]; want: readonly string[] }[] = [
  { name: "no flags: the growth set", execArgv: [], want: [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`] },
  {
    name: "other flags: the growth set",
    execArgv: ["--enable-source-maps", "--max-old-space-size=512"],
    want: [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`],
  },
  { name: "the operator's value kept", execArgv: ["--heap-growing-percent=50"], want: [] },
  { name: "the operator's value kept (underscores)", execArgv: ["--heap_growing_percent=0"], want: [] },
  { name: "the operator's value kept (separate argument)", execArgv: ["--heap-growing-percent", "80"], want: [] },
  {
    name: "a flag that only starts the same is not it",
    execArgv: ["--heap-growing-percentage=5"],
    want: [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`],
  },
];

for (const row of ROWS) {
  test(`heap flags: ${row.name}`, () => {
    assert.deepEqual(heapFlags(row.execArgv), row.want, `execArgv ${JSON.stringify(row.execArgv)}`);
  });
}
