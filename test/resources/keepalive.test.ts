/**
 * Many idle keep-alive connections: the server's memory per connection is
 * bounded, and the idle timeout closes every one of them, after which its
 * descriptors are back to baseline. 10,000 connections when the descriptor
 * limit allows (each side holds one descriptor per connection), else as many as fit.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../helpers/wait.js";
import { fdCount, MiB, openFileLimit, rssBound, rssBytes, type ServerChild, startServerChild } from "./proc.js";

const WANTED = Number(process.env["WHARF_IDLE_CONNECTIONS"] ?? 10_000);
// Both this process and the server hold one descriptor per connection, plus a
// few dozen of their own (and the test runner's).
const COUNT = Math.min(WANTED, openFileLimit() - 256);
const KEEP_ALIVE_MS = 4000;

let dir = "";
let server: ServerChild;
const sockets: Socket[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-idle-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  server = await startServerChild({ root: dir, keepAliveTimeout: KEEP_ALIVE_MS });
});
after(() => {
  for (const s of sockets) s.destroy();
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Idle {
  readonly socket: Socket;
  /**
   * When the request was sent (the server's idle timer cannot start earlier,
   * however late this busy process sees the answer), when the response was
   * complete, and when the server closed the connection.
   */
  sentAt: number;
  answeredAt: number;
  closedAt: number;
}

/** Runs `task` over `items`, `width` at a time. */
async function inWindows<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

describe("idle keep-alive connections", () => {
  test(`${COUNT} idle connections: bounded memory, all closed by the idle timeout`, async (t) => {
    if (COUNT < WANTED) t.diagnostic(`descriptor limit ${openFileLimit()}: ${COUNT} connections instead of ${WANTED}`);
    await server.settle();
    const fds0 = fdCount(server.pid);
    const rss0 = rssBytes(server.pid);

    // Connect all first (200 handshakes in flight at a time, well within the
    // listen backlog), then send one request on each, so that every idle timer
    // starts within the same second or two.
    const idle: Idle[] = [];
    await inWindows(
      Array.from({ length: COUNT }, (_, i) => i),
      200,
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ port: server.port, host: "127.0.0.1" });
          sockets.push(socket);
          const entry: Idle = { socket, sentAt: 0, answeredAt: 0, closedAt: 0 };
          idle.push(entry);
          socket.once("connect", () => resolve());
          socket.once("error", reject);
          socket.once("close", () => (entry.closedAt = performance.now()));
        }),
    );
    await inWindows(
      idle,
      500,
      (entry) =>
        new Promise<void>((resolve, reject) => {
          let got = "";
          const onData = (c: Buffer): void => {
            got += c.toString("latin1");
            if (got.endsWith("\r\n\r\n123456789")) {
              entry.answeredAt = performance.now();
              entry.socket.off("data", onData);
              resolve();
            }
          };
          entry.socket.on("data", onData);
          entry.socket.once("close", () => reject(new Error(`closed before its response: ${JSON.stringify(got)}`)));
          entry.sentAt = performance.now();
          entry.socket.write("GET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        }),
    );

    // All open and idle: measure the server.
    await server.settle();
    const fds1 = fdCount(server.pid);
    const rss1 = rssBytes(server.pid);
    const stillOpen = idle.filter((e) => e.closedAt === 0).length;
    assert.equal(stillOpen, COUNT, "connections closed before the measurement: the idle timeout is too short for this machine");
    assert.ok(fds1 >= fds0 + COUNT, `server holds ${fds1 - fds0} descriptors for ${COUNT} connections`);
    const perConnection = (rss1 - rss0) / COUNT;
    t.diagnostic(
      `${COUNT} idle: RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} MiB (${(perConnection / 1024).toFixed(1)} KiB each), fds ${fds0} -> ${fds1}`,
    );
    // An idle HTTP/1.1 connection costs Node a socket, a parser and a few small
    // objects: about 9 KiB measured here (heap growth included). 16 KiB is the
    // bound; a buffered response or read buffer kept per connection would be 64 KiB.
    assert.ok(perConnection < rssBound(16 * 1024), `${(perConnection / 1024).toFixed(1)} KiB per idle connection`);

    // 10,000 is also the default maxConnections: one more is closed unanswered.
    if (COUNT === 10_000) {
      const refused = await new Promise<string>((resolve) => {
        const extra = connect({ port: server.port, host: "127.0.0.1" });
        let got = "";
        extra.on("data", (c: Buffer) => (got += c.toString("latin1")));
        extra.on("error", () => {});
        extra.on("close", () => resolve(got));
        extra.write("GET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\n");
      });
      assert.equal(refused, "", "connection 10,001 was answered");
    }

    // The idle timeout closes every one, and not before it has run out.
    const closed = await waitFor(() => idle.every((e) => e.closedAt !== 0), { deadline: KEEP_ALIVE_MS + 30_000, interval: 100 });
    assert.ok(
      closed,
      `${idle.filter((e) => e.closedAt === 0).length} connections still open ${KEEP_ALIVE_MS + 30_000} ms after the last response`,
    );
    const early = idle.filter((e) => e.closedAt - e.sentAt < KEEP_ALIVE_MS * 0.9);
    assert.equal(early.length, 0, `${early.length} closed well before the idle timeout`);

    assert.ok(await waitFor(() => fdCount(server.pid) <= fds0 + 2), `descriptors: ${fds0} before, ${fdCount(server.pid)} after`);
    const settled = await server.settle();
    assert.equal(settled.inFlight, 0);
    const rss2 = rssBytes(server.pid);
    t.diagnostic(`after close: RSS ${(rss2 / MiB).toFixed(1)} MiB, fds ${fdCount(server.pid)}`);
    assert.ok(rss2 <= rss1 + 8 * MiB, `RSS kept growing after the connections closed: ${(rss2 / MiB).toFixed(1)} MiB`);
  });
});
