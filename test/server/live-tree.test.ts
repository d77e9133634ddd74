/**
 * A tree of 100,000 files (1,000 directories of 100) is watched within the
 * start-up of `serve({ live: true })`: serve() returns once every directory is
 * watched, and the time is printed (docs/design.md, "Live reload", records it;
 * the issue asks for 2 s). The bound asserted is generous — a busy machine must
 * not fail it — and a change in the last directory is seen.
 */
import assert from "node:assert/strict";
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { serve } from "../../src/index.js";
import { waitFor } from "../helpers/wait.js";

const root = mkdtempSync(join(tmpdir(), "wharf-live-tree-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("100,000 files: watched when serve() returns; a change in the last directory reloads", { timeout: 120_000 }, async () => {
  // Hard links (one system call each, so the tree is made in seconds), to one
  // dotfile per top directory (a file has at most 65,000 links on ext4).
  for (let d = 0; d < 1000; d++) {
    const top = join(root, `d${d % 10}`);
    const dir = join(top, `s${d}`);
    mkdirSync(dir, { recursive: true });
    if (d < 10) writeFileSync(join(top, ".source"), "");
    for (let f = 0; f < 100; f++) linkSync(join(top, ".source"), join(dir, `f${f}.txt`));
  }
  const start = performance.now();
  const server = await serve({ root, port: 0, host: "127.0.0.1", live: true, log: false });
  const ms = performance.now() - start;
  try {
    console.log(`# 100,000 files in 1,011 directories watched in ${Math.round(ms)} ms (${server.live?.directories} directories)`);
    assert.deepEqual(server.live, { mode: "watch", directories: 1011 });
    assert.ok(ms < 30_000, `took ${ms} ms`);
    let data = "";
    const socket = connect({ port: server.port, host: "127.0.0.1" });
    socket.on("data", (d: Buffer) => (data += d.toString()));
    socket.write("GET /__wharf/events HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert.ok(await waitFor(() => data.includes("event: hello")));
    writeFileSync(join(root, "d9", "s999", "new.txt"), "changed");
    assert.ok(await waitFor(() => data.includes("event: reload"), { deadline: 10_000 }), data);
    socket.destroy();
  } finally {
    await server.close();
  }
});
