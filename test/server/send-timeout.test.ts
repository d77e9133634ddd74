/**
 * The send timeout's decision (src/server/send-timeout.ts), without sockets: a
 * connection is "stalled" only after a whole timeout with bytes waiting and none
 * taken; any progress, or nothing waiting, starts the count again.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type SendProgress, sendCheckInterval, sendState } from "../../src/server/send-timeout.js";

const TIMEOUT = 1000;

describe("sendState", () => {
  // Each row: looks at the connection in order, as [time, pending, completed] -> want.
  const rows: { name: string; looks: [number, number, number, string][] }[] = [
    {
      name: "nothing to send is idle, however long",
      looks: [
        [0, 0, 0, "idle"],
        [5000, 0, 0, "idle"],
      ],
    },
    {
      name: "bytes waiting and none taken: stalled after the timeout, not before",
      looks: [
        [0, 100, 50, "progress"],
        [500, 100, 50, "waiting"],
        [999, 100, 50, "waiting"],
        [1000, 100, 50, "stalled"],
      ],
    },
    {
      name: "a write finished resets the count",
      looks: [
        [0, 100, 50, "progress"],
        [900, 100, 60, "progress"],
        [1800, 100, 60, "waiting"],
        [1900, 100, 60, "stalled"],
      ],
    },
    {
      name: "more queued without anything taken is no progress",
      looks: [
        [0, 100, 50, "progress"],
        [600, 400, 50, "waiting"],
        [1000, 900, 50, "stalled"],
      ],
    },
    {
      name: "an idle gap starts a fresh wait",
      looks: [
        [0, 100, 50, "progress"],
        [900, 0, 0, "idle"],
        [950, 100, 150, "progress"],
        [1900, 100, 150, "waiting"],
        [1950, 100, 150, "stalled"],
      ],
    },
    {
      name: "the same count after an idle gap is a fresh wait too",
      looks: [
        [0, 100, 50, "progress"],
        [900, 0, 0, "idle"],
        [950, 100, 50, "progress"],
        [1900, 100, 50, "waiting"],
      ],
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const seen: SendProgress = { completed: 0, since: -1 };
      for (const [now, pending, completed, want] of row.looks) {
        const got = sendState(seen, pending, completed, now, TIMEOUT).kind;
        assert.equal(got, want, `at ${now} ms, pending ${pending}, completed ${completed}: got ${got}, want ${want}`);
      }
    });
  }

  test("the sweep runs often enough to cut within the timeout plus at most 1 s", () => {
    for (const [timeout, want] of [
      [30_000, 1000],
      [2000, 500],
      [100, 50],
      [1, 50],
    ] as const) {
      assert.equal(sendCheckInterval(timeout), want, `timeout ${timeout}`);
    }
  });
});
