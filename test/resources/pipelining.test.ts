/**
 * Pipelining on the asynchronous path: connections that send thousands of
 * requests for a file too large for the memory cache (so each one opens it and
 * streams it) and never read. Before the cap each connection had every request
 * it had read under way at once: a descriptor, 64 KiB written and 128 KiB read
 * ahead each, 2-3 GB for four connections. Now at most MAX_PIPELINED requests per
 * connection are under way and the connection is not read while more wait; past
 * MAX_WAITING waiting, the connection is closed.
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MAX_PIPELINED, MAX_WAITING } from "../../src/server/pipeline.js";
import { parseResponses, rawExchange, rawRequest } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";
import { fdCount, MiB, rssBytes, type ServerChild, startServerChild } from "./proc.js";

const ATTACKERS = 4;
const REQUESTS = 4000;
// Over cacheFileBytes (1 MiB): never held in memory, every request opens it.
const SIZE = 2 * MiB;
const FILES = 100;

let dir = "";
let server: ServerChild;
const sockets: Socket[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-pipelining-"));
  closeSync(openSync(join(dir, "big.bin"), "w"));
  truncateSync(join(dir, "big.bin"), SIZE);
  writeFileSync(join(dir, "nums.txt"), "123456789");
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  server = await startServerChild({ root: dir });
});
after(() => {
  for (const s of sockets) s.destroy();
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Waits until the server's descriptors and RSS have not moved (RSS by under
 * 2 MiB) for 1 s, or its descriptors passed `fdLimit`; at most `timeoutMs`.
 */
async function quiet(pid: number, fdLimit: number, timeoutMs: number): Promise<void> {
  let fds = fdCount(pid);
  let rss = rssBytes(pid);
  let still = 0;
  await waitFor(
    () => {
      const f = fdCount(pid);
      const r = rssBytes(pid);
      still = f === fds && Math.abs(r - rss) < 2 * MiB ? still + 1 : 0;
      fds = f;
      rss = r;
      return still >= 10 || f > fdLimit;
    },
    { deadline: timeoutMs, interval: 100 },
  );
}

describe("pipelining without reading", () => {
  test(`${ATTACKERS} connections pipeline ${REQUESTS} streamed downloads each: at most ${MAX_PIPELINED} under way, closed past ${MAX_WAITING} waiting, others served meanwhile`, async (t) => {
    // Warm up: one download of the file, read to the end.
    const warm = await rawExchange(server.port, "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(parseResponses(warm)[0]?.body.length, SIZE);
    await server.settle();
    const fds0 = fdCount(server.pid);
    const rss0 = rssBytes(server.pid);

    const request = `GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(REQUESTS);
    const attackers = Array.from({ length: ATTACKERS }, () => {
      const socket = connect({ port: server.port, host: "127.0.0.1" });
      sockets.push(socket);
      socket.on("error", () => {});
      socket.write(request);
      // Its answers are read and dropped only so that it sees the server close it:
      // the cap acts as the requests are parsed, before any answer is written.
      socket.resume();
      return socket;
    });
    try {
      // Past MAX_WAITING parsed and waiting, each connection is closed by the server.
      const closed = await waitFor(() => attackers.every((s) => s.closed || s.destroyed), { deadline: 20_000 });
      assert.ok(closed, `${attackers.filter((s) => !s.closed).length} of ${ATTACKERS} flooding connections still open`);
      // Before the cap on waiting, what Node parsed from each connection's last
      // 64 KiB read (about 1,900 of these requests) waited its turn, held: 50-60
      // MiB for the four. Uncapped before that, each also held a descriptor, a 64
      // KiB and a 128 KiB piece: 2-3 GB. What remains is the heap Node grew to
      // parse those reads, which V8 keeps: measured +31 MiB, none of it held.
      // Their files close with them.
      await waitFor(() => fdCount(server.pid) <= fds0 + 2, { deadline: 20_000 });
      await quiet(server.pid, Number.POSITIVE_INFINITY, 20_000);
      const settled = await server.settle();
      const fds1 = fdCount(server.pid);
      const rss1 = rssBytes(server.pid);
      t.diagnostic(
        `fds ${fds0} -> ${fds1}; RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} MiB; ${settled.inFlight} requests read and not answered`,
      );
      assert.ok(fds1 <= fds0 + 2, `${fds1} descriptors open, baseline ${fds0}`);
      assert.ok(rss1 - rss0 < ATTACKERS * 16 * MiB, `RSS grew ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);

      // Other clients are answered: a file from memory, and a whole streamed download.
      const small = await rawRequest(server.port, "GET", "/nums.txt");
      assert.equal(small.status, 200);
      assert.equal(small.body.toString(), "123456789");
      const big = parseResponses(await rawExchange(server.port, "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      assert.equal(big[0]?.status, 200);
      assert.equal(big[0]?.body.length, SIZE);
    } finally {
      for (const s of attackers) s.destroy();
    }
    let inFlight = -1;
    await waitFor(async () => (inFlight = (await server.settle()).inFlight) === 0, { interval: 50 });
    assert.equal(inFlight, 0, "responses still counted in flight");
  });

  test(`a connection with ${MAX_WAITING} requests waiting is kept; with one more it is closed`, async () => {
    // Cold requests for the big file, never read: the first MAX_PIPELINED start and
    // stall, the rest wait. One write, so that one read brings all of them.
    const count = (n: number): string => "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".repeat(n);
    const open = async (n: number): Promise<Socket> => {
      const socket = connect({ port: server.port, host: "127.0.0.1" });
      sockets.push(socket);
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(count(n));
      return socket;
    };
    const kept = await open(MAX_PIPELINED + MAX_WAITING);
    const cut = await open(MAX_PIPELINED + MAX_WAITING + 1);
    cut.resume(); // reads (and drops) its answers, to see the close
    assert.ok(await waitFor(() => cut.closed || cut.destroyed, { deadline: 10_000 }), "the connection one past the cap is still open");
    // The kept one is still served: it reads its answers now and gets the first whole.
    const first = await new Promise<Buffer>((resolve) => {
      let got = Buffer.alloc(0);
      kept.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length > SIZE) resolve(got);
      });
    });
    assert.match(first.subarray(0, 20).toString("latin1"), /^HTTP\/1\.1 200 /);
    assert.equal(kept.closed, false);
    kept.destroy();
    cut.destroy();
  });

  test(`a client that pipelines ${FILES} cold requests and reads gets every answer, in order`, async () => {
    // First requests for each small file (none cached yet: the asynchronous path),
    // every fifth one for the big file instead: its answers fill the socket, so
    // the connection is paused and resumed many times on the way.
    const path = (i: number): string => (i % 5 === 0 ? "/big.bin" : `/f${i}.txt`);
    const requests = Array.from(
      { length: FILES },
      (_, i) => `GET ${path(i)} HTTP/1.1\r\nHost: x\r\n${i === FILES - 1 ? "Connection: close\r\n" : ""}\r\n`,
    );
    const responses = parseResponses(await rawExchange(server.port, requests.join(""), "127.0.0.1", 20_000));
    assert.equal(responses.length, FILES);
    responses.forEach((r, i) => {
      assert.equal(r.status, 200, `response ${i}`);
      if (i % 5 === 0) assert.equal(r.body.length, SIZE, `response ${i}: ${r.body.length} bytes`);
      else assert.equal(r.body.toString(), `file ${i}\n`.repeat(i + 1), `response ${i}: got another file's body`);
    });
  });
});
