/**
 * Graceful drain, through the real CLI: SIGTERM while 100 downloads are in
 * flight. The listening socket closes at once (no new connection is accepted),
 * every download completes in full, and the process exits 0. A client that
 * stops reading is cut when the grace period (--shutdown-timeout) runs out, and
 * the exit is still 0. The same with --workers 2.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const DOWNLOADS = 100;
// More than the socket buffers of a client that is not reading can hold (about
// 4 MiB on Linux), so each response is still being written when the signal comes
// (the shutdown line confirms it: "waiting ... for 100 responses").
const SIZE = 6 * 1024 * 1024;

let dir = "";
let bytes = Buffer.alloc(0);
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-drain-"));
  bytes = randomBytes(SIZE);
  writeFileSync(join(dir, "big.bin"), bytes);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function startWharf(...flags: string[]): Promise<RunningCli> {
  return startCli(["0", "-b", "127.0.0.1", "-d", dir, "-q", ...flags]);
}

/**
 * Whether anything listens on 127.0.0.1:`port`, from the kernel's table of TCP
 * sockets (state 0A is LISTEN): a state to wait for where no event says it.
 */
function listening(port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1] === local && fields[3] === "0A";
    });
}

/** A download that reads its head and then stops reading until `resume()`. */
interface Download {
  readonly socket: Socket;
  /** Resolves when the head has arrived. */
  readonly started: Promise<void>;
  /** Resolves with the body once the connection has closed. */
  readonly done: Promise<{ contentLength: number; body: Buffer; finishedAt: number }>;
  resume(): void;
}

function download(port: number): Download {
  const socket = connect({ port, host: "127.0.0.1" });
  const chunks: Buffer[] = [];
  let headSeen = false;
  let signalStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (signalStarted = resolve));
  socket.on("data", (c: Buffer) => {
    chunks.push(c);
    if (!headSeen && Buffer.concat(chunks).includes("\r\n\r\n")) {
      headSeen = true;
      socket.pause();
      signalStarted();
    }
  });
  socket.on("error", () => {});
  const done = new Promise<{ contentLength: number; body: Buffer; finishedAt: number }>((resolve) => {
    socket.on("close", () => {
      const data = Buffer.concat(chunks);
      const end = data.indexOf("\r\n\r\n");
      const contentLength = Number(/\r\ncontent-length: (\d+)/i.exec(data.subarray(0, end).toString("latin1"))?.[1] ?? -1);
      resolve({ contentLength, body: data.subarray(end + 4), finishedAt: performance.now() });
    });
  });
  socket.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  return { socket, started, done, resume: () => socket.resume() };
}

/** How a new connection fares: refused, or accepted and closed without a byte. */
function newConnection(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let got = "";
    socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
    socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    socket.on("close", () => resolve(got === "" ? "closed unanswered" : `answered: ${got.slice(0, 20)}`));
    socket.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  });
}

async function drainScenario(flags: string[], expectRefused: (outcome: string) => void): Promise<RunningCli> {
  const wharf = await startWharf(...flags);
  const downloads = Array.from({ length: DOWNLOADS }, () => download(wharf.port));
  await Promise.all(downloads.map((d) => d.started));

  wharf.child.kill("SIGTERM");
  assert.ok(await wharf.err.until(/shutting down/), `no shutdown line: ${wharf.stderr()}`);
  // The listener is closed before anything else happens: right after the line,
  // in the same turn of the child's event loop (or, with workers, once each has
  // closed its handle). Wait for the kernel to show it, not for a time.
  assert.ok(await waitFor(() => !listening(wharf.port)), `still listening on ${wharf.port}`);
  expectRefused(await newConnection(wharf.port));
  assert.equal(wharf.child.exitCode, null, "exited with downloads in flight");

  for (const d of downloads) d.resume();
  const results = await Promise.all(downloads.map((d) => d.done));
  for (const [i, r] of results.entries()) {
    assert.equal(r.contentLength, SIZE, `download ${i}: Content-Length`);
    assert.equal(r.body.length, SIZE, `download ${i}: got ${r.body.length} of ${SIZE} bytes`);
    assert.ok(r.body.equals(bytes), `download ${i}: wrong bytes`);
  }
  assert.equal((await wharf.exited).code, 0, wharf.stderr());
  return wharf;
}

describe("graceful drain on SIGTERM", () => {
  test(`${DOWNLOADS} downloads in flight all complete, no new connection is accepted, exit 0`, async () => {
    const wharf = await drainScenario(["--shutdown-timeout", "20"], (outcome) => assert.equal(outcome, "ECONNREFUSED"));
    // All 100 were still being written when the signal came.
    assert.match(wharf.stderr(), new RegExp(`waiting up to 20s for ${DOWNLOADS} responses`));
  });

  test("a client that stops reading is cut when the grace period runs out; exit 0", async () => {
    const wharf = await startWharf("--shutdown-timeout", "1");
    const stuck = download(wharf.port);
    await stuck.started;
    const signalled = performance.now();
    wharf.child.kill("SIGTERM");
    assert.equal((await wharf.exited).code, 0, wharf.stderr());
    const waited = performance.now() - signalled;
    assert.ok(waited >= 900, `exited after ${Math.round(waited)} ms, before the grace period ran out`);
    // Only now does the client read again: what the server had sent, and then the end.
    stuck.resume();
    const result = await stuck.done;
    assert.ok(result.body.length < SIZE, "the stuck download completed: it was not cut");
  });

  test(`--workers 2: ${DOWNLOADS} downloads complete, no new connection is served, exit 0`, async (t) => {
    await drainScenario(["--workers", "2", "--shutdown-timeout", "20"], (outcome) => {
      t.diagnostic(`a new connection during the drain: ${outcome}`);
      assert.ok(
        outcome === "ECONNREFUSED" || outcome === "ECONNRESET" || outcome === "closed unanswered",
        `a new connection was ${outcome}`,
      );
    });
  });
});
