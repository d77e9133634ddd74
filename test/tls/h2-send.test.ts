/**
 * The HTTP/2 send timeout's decisions, without sockets: how large the next write
 * to a stream is (src/adapters/h2-send.ts), and what a sweep does to a session
 * (src/server/h2-bounds.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nextSliceSize, SLICE } from "../../src/adapters/h2-send.js";
import { ResponseGate, sessionVerdict } from "../../src/server/h2-bounds.js";
import type { SendState } from "../../src/server/send-timeout.js";

const KiB = 1024;

describe("nextSliceSize", () => {
  // [last write's bytes, ms it took, send timeout, current size] -> want
  const rows: { name: string; args: [number, number, number, number]; want: number }[] = [
    { name: "a write that completed at once: twice the current size", args: [16 * KiB, 0, 30_000, 16 * KiB], want: 32 * KiB },
    { name: "never past the largest", args: [512 * KiB, 0, 30_000, 512 * KiB], want: SLICE.max },
    { name: "1 KiB/s at 30 s: the smallest (16 s a write)", args: [16 * KiB, 16_000, 30_000, 16 * KiB], want: SLICE.min },
    { name: "slower than the timeout allows: still the smallest", args: [16 * KiB, 60_000, 30_000, 16 * KiB], want: SLICE.min },
    { name: "320 KiB/s at a 1 s timeout: 20 KiB fits, so 16 KiB", args: [16 * KiB, 50, 1000, 16 * KiB], want: 16 * KiB },
    { name: "fast, but one step from the current size at most", args: [64 * KiB, 1, 30_000, 64 * KiB], want: 128 * KiB },
    {
      name: "a pace that fell: smaller at once (256 KiB in 2 s at 30 s: 240 KiB fits)",
      args: [256 * KiB, 2000, 30_000, 256 * KiB],
      want: 128 * KiB,
    },
    { name: "a short last piece is measured by its bytes", args: [1000, 100, 30_000, 256 * KiB], want: 16 * KiB },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = nextSliceSize(...row.args);
      assert.equal(got, row.want, `nextSliceSize(${row.args.join(", ")}): got ${got}, want ${row.want}`);
    });
  }

  test("at the pace last seen, the next write takes at most 1/16 of the timeout, unless it is the smallest", () => {
    for (const timeout of [1000, 2000, 30_000, 60_000]) {
      for (const bytesPerSecond of [512, 1024, 16 * KiB, 100 * KiB, 1024 * KiB, 100 * 1024 * KiB]) {
        for (const current of [SLICE.min, 64 * KiB, SLICE.max]) {
          const size = nextSliceSize(current, (current / bytesPerSecond) * 1000, timeout, current);
          const takes = (size / bytesPerSecond) * 1000;
          assert.ok(
            size === SLICE.min || takes <= timeout / 16,
            `timeout ${timeout}, ${bytesPerSecond} B/s, from ${current}: ${size} bytes take ${takes} ms`,
          );
          assert.ok(size >= SLICE.min && size <= SLICE.max && size <= 2 * current, `size ${size} from ${current}`);
        }
      }
    }
  });
});

describe("sessionVerdict", () => {
  const s = (kind: "idle" | "progress" | "waiting" | "stalled"): SendState => ({ kind });
  const rows: { name: string; session: SendState; streams: SendState[]; want: ReturnType<typeof sessionVerdict> }[] = [
    { name: "nothing stalled: keep", session: s("progress"), streams: [s("progress"), s("waiting"), s("idle")], want: { kind: "keep" } },
    { name: "no streams: keep", session: s("idle"), streams: [], want: { kind: "keep" } },
    {
      name: "the connection moves, two streams do not: reset those two",
      session: s("progress"),
      streams: [s("stalled"), s("progress"), s("stalled")],
      want: { kind: "reset", streams: [0, 2] },
    },
    {
      name: "nothing on the connection moved: destroy, not reset",
      session: s("stalled"),
      streams: [s("stalled"), s("stalled")],
      want: { kind: "destroy" },
    },
    {
      name: "the connection waits (within the timeout), one stream stalled: reset it",
      session: s("waiting"),
      streams: [s("stalled"), s("idle")],
      want: { kind: "reset", streams: [0] },
    },
  ];
  for (const row of rows) {
    test(row.name, () => assert.deepEqual(sessionVerdict(row.session, row.streams), row.want));
  }
});

describe("ResponseGate", () => {
  test("waiting items that are gone are dropped: resetting waiting streams cannot grow the queue", () => {
    // 16 responses that never end, then 10,000 streams that wait and are reset at
    // once (what a client with a reset budget of 100 a second does in 100 s).
    const gate = new ResponseGate<{ reset: boolean }>(
      16,
      () => undefined,
      (item) => item.reset,
    );
    for (let i = 0; i < 16; i++) gate.admit({ reset: false });
    const live: { reset: boolean }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const item = { reset: i % 100 !== 0 }; // one in a hundred still open
      if (!item.reset) live.push(item);
      gate.admit(item);
    }
    assert.equal(gate.active, 16);
    assert.ok(gate.queued <= 2 * live.length + 128, `got ${gate.queued} waiting, want at most ${2 * live.length + 128}`);
  });

  test("the waiting items that are not gone start in order as slots free", () => {
    const started: number[] = [];
    const done: (() => void)[] = [];
    const gate = new ResponseGate<number>(
      1,
      (n, finish) => {
        started.push(n);
        done.push(finish);
      },
      (n) => n % 2 === 1,
    );
    for (let n = 0; n < 300; n++) gate.admit(n);
    // Odd items are gone; pruning may have dropped some of them, never an even one.
    for (let i = 0; i < 300 && done.length > i; i++) done[i]!();
    const evens = started.filter((n) => n % 2 === 0);
    assert.deepEqual(
      evens,
      Array.from({ length: 150 }, (_, i) => 2 * i),
    );
  });
});
