/**
 * How the Node writer hands a file's pieces to the socket (src/adapters/node.ts):
 * to a TLS socket in slices of at most 64 KiB, each after the one before has
 * drained; to any socket, a piece is given back to its file only once the
 * write of it (of its last slice) has completed. A fake response records the
 * writes, so the sizes and the order of events are exact.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { test } from "node:test";
import type { OpenedBody } from "../../src/adapters/body.js";
import { writeReply } from "../../src/adapters/node.js";
import type { Reply } from "../../src/core/types.js";

const KiB = 1024;

/** A response whose writes complete (callback, then 'drain') a tick later. */
class FakeResponse extends EventEmitter {
  readonly writes: number[] = [];
  readonly events: string[] = [];
  destroyed = false;
  ended = false;
  pending = 0;
  constructor(readonly socket: { encrypted?: boolean }) {
    super();
  }
  writeHead(): this {
    return this;
  }
  write(chunk: Uint8Array, done?: () => void): boolean {
    assert.equal(this.pending, 0, "a write made before the one before it drained");
    this.writes.push(chunk.length);
    this.events.push(`write ${chunk.length / KiB}`);
    this.pending++;
    setImmediate(() => {
      this.pending--;
      this.events.push(`written ${chunk.length / KiB}`);
      done?.();
      this.emit("drain");
    });
    return false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

/** A body of the given piece sizes, recording what is given back. */
function body(sizes: number[], events: string[]): OpenedBody {
  const pieces = sizes.map((n) => Buffer.alloc(n * KiB));
  let i = 0;
  const iterator = {
    next: async (): Promise<IteratorResult<Uint8Array>> =>
      i < pieces.length ? { value: pieces[i++] as Buffer, done: false } : { value: undefined, done: true },
    recycle: (piece: Uint8Array): void => {
      events.push(`recycled ${piece.length / KiB}`);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { bytes: iterator, close: async () => undefined };
}

const reply: Reply = { status: 200, headers: { "content-length": "1" }, body: { kind: "empty" } };

const cases: { name: string; encrypted: boolean; sizes: number[]; writes: number[] }[] = [
  { name: "TLS: a 512 KiB piece in 64 KiB slices", encrypted: true, sizes: [512], writes: [64, 64, 64, 64, 64, 64, 64, 64] },
  { name: "TLS: 64 KiB and smaller pieces as they are", encrypted: true, sizes: [64, 10], writes: [64, 10] },
  { name: "TLS: a 100 KiB piece as 64 + 36", encrypted: true, sizes: [100], writes: [64, 36] },
  { name: "plain: a 512 KiB piece in one write", encrypted: false, sizes: [512, 512], writes: [512, 512] },
];

for (const c of cases) {
  test(c.name, async () => {
    const res = new FakeResponse({ encrypted: c.encrypted });
    await writeReply(res as unknown as ServerResponse, { reply, body: body(c.sizes, res.events) });
    assert.deepEqual(
      res.writes.map((n) => n / KiB),
      c.writes,
    );
    assert.equal(res.ended, true);
    assert.equal(res.destroyed, false);
  });
}

test("a piece is given back only after its last slice is written, and before the next piece is asked for", async () => {
  const res = new FakeResponse({ encrypted: true });
  await writeReply(res as unknown as ServerResponse, { reply, body: body([128, 64], res.events) });
  assert.deepEqual(res.events, [
    "write 64",
    "written 64",
    "write 64",
    "written 64",
    "recycled 128",
    "write 64",
    "written 64",
    "recycled 64",
  ]);
});

test("over a plain socket, given back once the write of it completed", async () => {
  const res = new FakeResponse({});
  await writeReply(res as unknown as ServerResponse, { reply, body: body([512, 256], res.events) });
  assert.deepEqual(res.events, ["write 512", "written 512", "recycled 512", "write 256", "written 256", "recycled 256"]);
});

test("a connection cut while a piece waits to drain asks for no further piece, and the read is stopped", async () => {
  // HTTP/1.1 (plain and TLS) and a watched HTTP/2 stream take the same path: the
  // response is gone by the time the write it waited on settles.
  for (const encrypted of [false, true]) {
    let asked = 0;
    let returned = 0;
    const pieces = [Buffer.alloc(512 * KiB), Buffer.alloc(512 * KiB), Buffer.alloc(512 * KiB)];
    const iterator = {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        asked++;
        const piece = pieces[asked - 1];
        return piece === undefined ? { value: undefined, done: true } : { value: piece, done: false };
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        returned++;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    // A client that stopped reading: its first write never completes; then the send timeout cuts it.
    const res = new (class extends FakeResponse {
      override write(chunk: Uint8Array): boolean {
        this.writes.push(chunk.length);
        if (this.writes.length === 1) {
          setImmediate(() => {
            this.destroyed = true;
            this.emit("close");
          });
        }
        return false;
      }
    })({ encrypted });
    await writeReply(res as unknown as ServerResponse, { reply, body: { bytes: iterator, close: async () => undefined } });
    assert.equal(asked, 1, `${encrypted ? "TLS" : "plain"}: pieces asked for`);
    assert.equal(returned, 1, "the read is stopped (its read ahead settled and released)");
    assert.equal(res.ended, false);
  }
});
