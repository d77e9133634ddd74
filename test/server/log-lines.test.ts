/**
 * The default access log's batching (src/server/log-lines.ts): lines of one turn
 * of the event loop go out together, in order, never more than a pipe writes
 * atomically at once (but a single longer line), and nothing is lost on exit.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setImmediate as turn } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { BATCH_UNITS, lineBatcher } from "../../src/server/log-lines.js";

const recorder = () => {
  const writes: string[] = [];
  return { writes, batcher: lineBatcher((text) => writes.push(text)) };
};

describe("lineBatcher", () => {
  test("the lines of one turn are one write, after the turn", async () => {
    const { writes, batcher } = recorder();
    for (let i = 0; i < 5; i++) batcher.line(`line ${i}`);
    assert.deepEqual(writes, []);
    await turn();
    assert.deepEqual(writes, ["line 0\nline 1\nline 2\nline 3\nline 4\n"]);
    batcher.line("next");
    await turn();
    assert.deepEqual(writes.slice(1), ["next\n"]);
  });

  test("a write never holds more than BATCH_UNITS, unless one line does alone; nothing lost or reordered", async () => {
    const { writes, batcher } = recorder();
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push(`${"x".repeat(i % 97)}#${i}`);
    lines.splice(250, 0, "y".repeat(BATCH_UNITS * 2)); // longer than a batch
    for (const l of lines) batcher.line(l);
    await turn();
    assert.equal(writes.join(""), lines.map((l) => `${l}\n`).join(""));
    assert.ok(writes.length > 10, `${writes.length} writes`);
    for (const w of writes) {
      assert.ok(w.endsWith("\n"), "every write ends a line");
      if (w.length > BATCH_UNITS) assert.equal(w.split("\n").length, 2, "only a single line may be longer than a batch");
      assert.ok(Buffer.byteLength(w) <= 4095 || w.split("\n").length === 2, "at most PIPE_BUF - 1 bytes in a batch");
    }
  });

  test("non-ASCII lines: a batch stays within 4,095 bytes of UTF-8", async () => {
    const { writes, batcher } = recorder();
    for (let i = 0; i < 300; i++) batcher.line(`/\u6587\u6587\u6587/${i}`);
    await turn();
    for (const w of writes) assert.ok(Buffer.byteLength(w) <= 4095, `${Buffer.byteLength(w)} bytes`);
    assert.equal(writes.join("").split("\n").length, 301);
  });

  test("flush writes what is pending at once, and the turn's end then writes nothing more", async () => {
    const { writes, batcher } = recorder();
    batcher.line("a");
    batcher.flush();
    assert.deepEqual(writes, ["a\n"]);
    await turn();
    assert.deepEqual(writes, ["a\n"]);
  });
});

describe("stderrLines", () => {
  test("lines still waiting when the process exits are written", () => {
    const module = join(fileURLToPath(new URL(".", import.meta.url)), "../../src/server/log-lines.js");
    // process.exit() in the same turn as the lines: only the exit hook can write them.
    const script = `import { stderrLines } from ${JSON.stringify(module)};
      const lines = stderrLines();
      for (let i = 0; i < 1000; i++) lines.line("line " + i);
      process.exit(0);`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const got = run.stderr.split("\n");
    assert.equal(got.length, 1001);
    assert.equal(got[0], "line 0");
    assert.equal(got[999], "line 999");
  });
});
