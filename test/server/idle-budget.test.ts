/**
 * The record of idle connections (src/server/idle-budget.ts): which one is
 * closed when one too many is idle.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { IdleBudget } from "../../src/server/idle-budget.js";

/** One step: a connection goes idle (`idle`, then what is closed) or busy. */
type Step = readonly ["idle", string, string | undefined] | readonly ["busy", string];

const ROWS: readonly { name: string; limit: number; steps: readonly Step[]; size: number }[] = [
  {
    name: "within the limit nothing is closed",
    limit: 2,
    steps: [
      ["idle", "a", undefined],
      ["idle", "b", undefined],
    ],
    size: 2,
  },
  {
    name: "one past the limit: the one idle longest",
    limit: 2,
    steps: [
      ["idle", "a", undefined],
      ["idle", "b", undefined],
      ["idle", "c", "a"],
    ],
    size: 2,
  },
  {
    name: "a connection idle again moves to the end",
    limit: 2,
    steps: [
      ["idle", "a", undefined],
      ["idle", "b", undefined],
      ["busy", "a"],
      ["idle", "a", undefined],
      ["idle", "c", "b"],
    ],
    size: 2,
  },
  {
    name: "a busy connection is not counted",
    limit: 2,
    steps: [
      ["idle", "a", undefined],
      ["idle", "b", undefined],
      ["busy", "a"],
      ["idle", "c", undefined],
      ["idle", "d", "b"],
    ],
    size: 2,
  },
  {
    name: "the same connection idle twice counts once",
    limit: 1,
    steps: [
      ["idle", "a", undefined],
      ["idle", "a", undefined],
    ],
    size: 1,
  },
  {
    name: "a limit of 0 closes each as it goes idle",
    limit: 0,
    steps: [
      ["idle", "a", "a"],
      ["idle", "b", "b"],
    ],
    size: 0,
  },
];

for (const row of ROWS) {
  test(`idle budget: ${row.name}`, () => {
    const budget = new IdleBudget<string>(row.limit);
    for (const [i, step] of row.steps.entries()) {
      if (step[0] === "busy") {
        budget.busy(step[1]);
        continue;
      }
      const closed = budget.idle(step[1]);
      assert.equal(closed, step[2], `step ${i} (${step[1]} idle): got ${closed} closed, want ${step[2]}`);
    }
    assert.equal(budget.size, row.size);
  });
}
