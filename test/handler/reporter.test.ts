/**
 * The error reporter is the caller's code: if it throws while a failure is being
 * reported, the request still gets its 500 and the process goes on. An exception
 * there used to become an unhandled rejection, which ends a Node process.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { memoryFileSystem } from "../../src/fs/memory.js";
import type { FileSystem } from "../../src/fs/types.js";
import { createHandler } from "../../src/handler/create.js";
import { rawRequest } from "../helpers/raw.js";

const servers: Server[] = [];
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

test("a reporter that throws: the client still gets 500, and nothing is left unhandled", async () => {
  const memory = memoryFileSystem("/m", { "big.bin": "x".repeat(4096) });
  // Opening fails in a way no status is mapped for (a 500), after the reply was decided.
  const fs: FileSystem = {
    ...memory,
    realpath: memory.realpath.bind(memory),
    stat: memory.stat.bind(memory),
    readdir: memory.readdir.bind(memory),
    open: () => Promise.reject(new Error("the disk is on fire")),
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    let reported = 0;
    const handler = createHandler({ root: "/m", fs, cacheFileBytes: 0 }, () => {
      reported++;
      throw new Error("the reporter itself fails");
    });
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const res = await rawRequest((server.address() as AddressInfo).port, "GET", "/big.bin");
    assert.equal(res.status, 500);
    assert.ok(reported >= 1, "the failure was reported");
    // Rejections are reported after the microtask queue drains: give it a turn of the loop.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
