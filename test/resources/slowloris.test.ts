/**
 * Slowloris: 1,000 connections that trickle their request headers a byte at a
 * time. A normal request is still answered while all of them hang on, and the
 * header timeout cuts every slow one (with a 408), however steadily it trickles.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunningServer } from "../../src/server/serve.js";
import { rawRequest } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { openFileLimit } from "./proc.js";

const WANTED = 1000;
// Server and clients share this process: two descriptors per connection.
const COUNT = Math.min(WANTED, Math.floor((openFileLimit() - 128) / 2));
const HEADERS_TIMEOUT = 1500;

let dir = "";
let server: RunningServer;
const sockets: Socket[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-slowloris-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  server = await startServer({ root: dir, headersTimeout: HEADERS_TIMEOUT, requestTimeout: 5000 });
});
after(async () => {
  for (const s of sockets) s.destroy();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Slow {
  readonly socket: Socket;
  readonly openedAt: number;
  closedAt: number;
  answer: string;
}

describe("slowloris", () => {
  test(`${COUNT} trickling connections: a normal request is answered, the slow ones are cut by the header timeout`, async (t) => {
    if (COUNT < WANTED) t.diagnostic(`descriptor limit ${openFileLimit()}: ${COUNT} connections instead of ${WANTED}`);
    const slow: Slow[] = [];
    const head = "GET /nums.txt HTTP/1.1\r\nHost: x\r\n";
    for (let i = 0; i < COUNT; i++) {
      const socket = connect({ port: server.port, host: "127.0.0.1" });
      sockets.push(socket);
      const entry: Slow = { socket, openedAt: performance.now(), closedAt: 0, answer: "" };
      slow.push(entry);
      socket.on("data", (c: Buffer) => (entry.answer += c.toString("latin1")));
      socket.on("error", () => {}); // a reset after the 408 is fine
      socket.on("close", () => (entry.closedAt = performance.now()));
      socket.write(head);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    // Each slow client sends one more header byte every 100 ms, forever: a
    // per-read idle timeout would never fire; only a deadline for the whole head does.
    let n = 0;
    const trickle = setInterval(() => {
      n++;
      for (const e of slow) if (e.closedAt === 0) e.socket.write(n % 2 === 1 ? "X" : "-");
    }, 100);
    try {
      // The normal request goes in once the slow clients have trickled a few bytes
      // each (the input's own pace, not a wait for the server). Not "once all are
      // connected": past the listen backlog a SYN is retried after a second, and
      // the first connections' header timeout would run out meanwhile.
      await waitFor(() => n >= 3);
      // A normal request gets its answer while every slow connection is still open.
      const res = await rawRequest(server.port, "GET", "/nums.txt");
      const openNow = slow.filter((e) => e.closedAt === 0).length;
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "123456789");
      assert.equal(openNow, COUNT, "the normal request was answered only after slow connections were cut");

      // Every slow connection is closed, and none before its header timeout.
      const allClosed = await waitFor(() => slow.every((e) => e.closedAt !== 0), { deadline: HEADERS_TIMEOUT + 30_000, interval: 50 });
      assert.ok(allClosed, `${slow.filter((e) => e.closedAt === 0).length} slow connections still open`);
    } finally {
      clearInterval(trickle);
    }
    const early = slow.filter((e) => e.closedAt - e.openedAt < HEADERS_TIMEOUT * 0.9);
    assert.equal(early.length, 0, `${early.length} closed before the header timeout`);
    const lasted = Math.max(...slow.map((e) => e.closedAt - e.openedAt));
    const sorted = slow.map((e) => e.closedAt - e.openedAt).sort((a, b) => a - b);
    t.diagnostic(
      `slow connections lasted ${Math.round(sorted[0]!)}..${Math.round(lasted)} ms, median ${Math.round(sorted[sorted.length >> 1]!)} (headers timeout ${HEADERS_TIMEOUT} ms)`,
    );
    const with408 = slow.filter((e) => e.answer.startsWith("HTTP/1.1 408 ")).length;
    assert.equal(
      with408,
      COUNT,
      `${COUNT - with408} got no 408: ${JSON.stringify(slow.find((e) => !e.answer.startsWith("HTTP/1.1 408 "))?.answer)}`,
    );
    // Nothing but the 408: the trickled bytes never became a request.
    assert.ok(slow.every((e) => !e.answer.includes("123456789")));
  });
});
