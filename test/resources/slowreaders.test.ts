/**
 * Slow readers: clients that ask for a large file and never read. Each holds a
 * connection slot, the open file and the response's read pieces; without a send
 * timeout they hold them for ever (20 of them filled `--max-connections 20` for
 * good). With one, every stalled connection is destroyed once it has taken
 * nothing for `sendTimeout`, its descriptors are released, and its slot serves
 * the next client, while a client that does read is left alone.
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { opensslCertificate } from "../helpers/tls.js";
import { waitFor } from "../helpers/wait.js";
import { fdCount, MiB, rssBytes, type ServerChild, startServerChild } from "./proc.js";

const STALLED = 100;
const SEND_TIMEOUT = 2000;
// Larger than what the kernel's socket buffers take on loopback (about 4 MiB
// sent and 128 KiB received per connection here), so every download stalls in
// the server. Sparse: nothing to write to disk.
const SIZE = 64 * MiB;
const READER_SIZE = 8 * MiB;

let dir = "";
let server: ServerChild | undefined;
const sockets: Socket[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-slowreaders-"));
  for (const [name, size] of [
    ["big.bin", SIZE],
    ["reader.bin", READER_SIZE],
  ] as const) {
    closeSync(openSync(join(dir, name), "w"));
    truncateSync(join(dir, name), size);
  }
  writeFileSync(join(dir, "nums.txt"), "123456789");
});
after(() => {
  for (const s of sockets) s.destroy();
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Stalled {
  readonly socket: Socket;
  /** When the response head arrived: the server was sending from then on. */
  headAt: number;
  /** Bytes received in all, once closed. */
  received: number;
  closed: boolean;
}

/**
 * A client that sends `GET path` and stops reading as soon as the first bytes
 * arrive. Not reading, it cannot see the server close the connection either;
 * {@link closedByServer} reads on to find out.
 */
function stalledClient(socket: Socket, path: string): Stalled {
  sockets.push(socket);
  const entry: Stalled = { socket, headAt: 0, received: 0, closed: false };
  socket.on("error", () => {}); // the server's destroy arrives as a reset
  socket.on("close", () => (entry.closed = true));
  socket.on("data", (c: Buffer) => {
    entry.received += c.length;
    if (entry.headAt === 0) {
      entry.headAt = performance.now();
      socket.pause();
    }
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return entry;
}

/** Reads what the stalled clients were sent; true when every one was closed short of `size` bytes. */
async function closedByServer(stalled: readonly Stalled[], size: number): Promise<boolean> {
  for (const s of stalled) s.socket.resume();
  return (await waitFor(() => stalled.every((s) => s.closed))) && stalled.every((s) => s.received < size);
}

/**
 * Polls the server's descriptors until they are back to `baseline` (+2); returns
 * when they first dropped below `full`, or `undefined` if they never got back.
 */
async function whenCut(pid: number, full: number, baseline: number, timeoutMs: number): Promise<{ firstCut: number } | undefined> {
  let firstCut = 0;
  const back = await waitFor(
    () => {
      const fds = fdCount(pid);
      if (fds < full && firstCut === 0) firstCut = performance.now();
      return fds <= baseline + 2;
    },
    { deadline: timeoutMs },
  );
  return back ? { firstCut } : undefined;
}

/** Reads `path` to the end, pausing after every piece; resolves with the body's length. */
function steadyReader(port: number, path: string, pauseMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      socket.pause();
      setTimeout(() => socket.resume(), pauseMs);
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const all = Buffer.concat(chunks);
      resolve(all.length - all.indexOf("\r\n\r\n") - 4);
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  });
}

/** `count` connections open at once, each answered 200 to a keep-alive request; then closed. */
async function servedAtOnce(port: number, count: number): Promise<number> {
  const open = Array.from({ length: count }, () => connect({ port, host: "127.0.0.1" }));
  sockets.push(...open);
  const answers = await Promise.all(
    open.map(
      (socket) =>
        new Promise<string>((resolve) => {
          let got = "";
          socket.on("error", () => resolve(got));
          socket.on("close", () => resolve(got));
          socket.on("data", (c: Buffer) => {
            got += c.toString("latin1");
            if (got.endsWith("123456789")) resolve(got);
          });
          socket.write("GET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        }),
    ),
  );
  for (const socket of open) socket.destroy();
  return answers.filter((a) => a.startsWith("HTTP/1.1 200 ") && a.endsWith("123456789")).length;
}

describe("slow readers", () => {
  test(`${STALLED} clients that never read a large file are cut by the send timeout; their slots serve others`, async (t) => {
    server = await startServerChild({ root: dir, sendTimeout: SEND_TIMEOUT, maxConnections: STALLED });
    const child = server;
    // A first download, read to the end, so the baseline includes what any
    // download allocates once (the ETag hash, buffer pools, compiled code).
    assert.equal(await steadyReader(child.port, "/reader.bin", 0), READER_SIZE);
    const buffers0 = (await child.settle()).arrayBuffers;
    const fds0 = fdCount(child.pid);
    const rss0 = rssBytes(child.pid);

    // Taken before the requests are sent: the server's send timer cannot start
    // earlier, however late this process sees the heads on a busy machine.
    const stalledSince = performance.now();
    const stalled = Array.from({ length: STALLED }, () => stalledClient(connect({ port: child.port, host: "127.0.0.1" }), "/big.bin"));
    assert.ok(await waitFor(() => stalled.every((s) => s.headAt > 0)), "not every client got its head");
    // Each download holds its socket and its file while it is stalled.
    const full = fds0 + 2 * STALLED;
    assert.ok(await waitFor(() => fdCount(child.pid) >= full), `descriptors: ${fdCount(child.pid)}, want ${full}`);
    // They hold every slot: one more connection is not served.
    assert.equal(await servedAtOnce(child.port, 1), 0, "a connection past maxConnections was served");

    // Memory with all of them stalled. Each holds at most two read pieces of
    // 512 KiB (src/fs/node.ts): the one the socket is writing and the one read
    // ahead. Before, suspended async frames also kept pieces already sent: 1.9
    // MiB of buffers per stalled download at 100, 2.2 at 200. Resident memory
    // adds what glibc keeps of freed pieces: measured 0.7 to 1.6 MiB in all.
    const buffers = ((await child.settle()).arrayBuffers - buffers0) / STALLED;
    const perClient = (rssBytes(child.pid) - rss0) / STALLED;
    t.diagnostic(
      `per stalled download: ${(buffers / 1024).toFixed(0)} KiB in buffers, ${(perClient / 1024).toFixed(0)} KiB of RSS (${STALLED} stalled, fds ${fds0} -> ${fdCount(child.pid)})`,
    );
    assert.ok(buffers <= MiB + 64 * 1024, `${(buffers / 1024).toFixed(0)} KiB of buffers per stalled download`);
    assert.ok(perClient < 2.5 * MiB, `${(perClient / MiB).toFixed(2)} MiB of RSS per stalled download`);

    // Every stalled connection is destroyed, with its file, and none before the
    // send timeout: descriptors back to the baseline.
    const cut = await whenCut(child.pid, full, fds0, SEND_TIMEOUT + 30_000);
    assert.ok(cut !== undefined, `descriptors: ${fdCount(child.pid)}, baseline ${fds0}: stalled connections still open`);
    assert.ok(cut.firstCut - stalledSince >= SEND_TIMEOUT, `first cut ${(cut.firstCut - stalledSince).toFixed(0)} ms after the requests`);
    assert.ok(await closedByServer(stalled, SIZE), "a stalled client was not cut short");
    // Nothing is left in flight...
    const settled = await child.settle();
    assert.equal(settled.inFlight, 0);
    assert.deepEqual(settled.errors, []);
    t.diagnostic(`after: RSS ${(rssBytes(child.pid) / MiB).toFixed(1)} MiB, fds ${fdCount(child.pid)}`);
    // ...and every slot serves again: as many clients as the limit, at once.
    assert.equal(await servedAtOnce(child.port, STALLED), STALLED);
    // (Their slots are free again once the server has seen them close.)
    assert.ok(await waitFor(() => fdCount(child.pid) <= fds0 + 2));

    // A client that keeps reading is never cut, however long its download takes
    // in all: progress is bytes taken, not time since the request.
    const began = performance.now();
    assert.equal(await steadyReader(child.port, "/reader.bin", 10), READER_SIZE);
    t.diagnostic(`a reader pausing 10 ms per piece took ${((performance.now() - began) / 1000).toFixed(1)} s for ${READER_SIZE / MiB} MiB`);
    assert.equal(await child.close(), 0);
  });

  test("the same over TLS (HTTP/1.1): stalled clients are cut, descriptors return to baseline", async () => {
    const cert = opensslCertificate(dir, "slow");
    const child = await startServerChild({ root: dir, sendTimeout: SEND_TIMEOUT, tls: { cert: cert.cert, key: cert.key } });
    try {
      await child.settle();
      const fds0 = fdCount(child.pid);
      const stalledSince = performance.now(); // before the requests, as above
      const stalled = Array.from({ length: 5 }, () =>
        stalledClient(
          tlsConnect({ port: child.port, host: "127.0.0.1", rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] }),
          "/big.bin",
        ),
      );
      assert.ok(await waitFor(() => stalled.every((s) => s.headAt > 0)), "not every client got its head");
      const full = fds0 + 2 * 5;
      assert.ok(await waitFor(() => fdCount(child.pid) >= full), `descriptors: ${fdCount(child.pid)}, want ${full}`);
      const cut = await whenCut(child.pid, full, fds0, SEND_TIMEOUT + 30_000);
      assert.ok(cut !== undefined, `descriptors: ${fdCount(child.pid)}, baseline ${fds0}: stalled TLS connections still open`);
      assert.ok(cut.firstCut - stalledSince >= SEND_TIMEOUT, `first cut ${(cut.firstCut - stalledSince).toFixed(0)} ms after the requests`);
      assert.ok(await closedByServer(stalled, SIZE), "a stalled TLS client was not cut short");
      assert.equal((await child.settle()).inFlight, 0);
    } finally {
      child.kill();
    }
  });
});
