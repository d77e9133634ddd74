/**
 * Issue 14's bound on live reload, at the size the issue names: 10,000
 * event-stream clients against a server in a child process started with
 * `--live --max-connections 1000`. At most 1,000 streams are served (the rest
 * are closed unanswered by the connection limit), and a graceful close with a
 * 60 s grace period ends every served stream with its last event (`bye`) and
 * completes long before the grace period would have run out.
 *
 * Each side holds one descriptor per connection: when this process's limit
 * cannot hold 10,000 sockets (and cannot be raised: Node has no setrlimit),
 * the test is skipped with the limit in the reason.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { waitFor, within } from "../helpers/wait.js";
import { openFileLimit, type ServerChild, startServerChild } from "./proc.js";

const CLIENTS = 10_000;
const LIMIT = 1000;
const ADDRESSES = 200;
// This process holds every client socket at once (refused ones close at once,
// but may not have yet); the runner and Node need a few hundred more.
const NEEDED = CLIENTS + 512;

const dir = mkdtempSync(join(tmpdir(), "wharf-live-streams-"));
writeFileSync(join(dir, "index.html"), "<html><head></head><body>hi</body></html>");
let server: ServerChild | undefined;
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Stream {
  readonly socket: Socket;
  data: string;
  closed: boolean;
}

/** Runs `task` for 0..count-1, `width` at a time. */
async function inWindows(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

const limit = openFileLimit();
test(`${CLIENTS} event-stream clients against --max-connections ${LIMIT}: at most ${LIMIT} served, each ends with a last event, shutdown is prompt`, {
  timeout: 120_000,
  skip: limit < NEEDED ? `descriptor limit ${limit} is below the ${NEEDED} this test needs (raise it with ulimit -n)` : false,
}, async (t) => {
  server = await startServerChild({ root: dir, live: true, maxConnections: LIMIT, shutdownTimeout: 60_000 }, { nofile: LIMIT + 1024 });
  const streams: Stream[] = [];
  const started = performance.now();
  // 200 handshakes in flight at a time (well within the listen backlog); a
  // client is done when it has its hello or the server has closed it.
  await inWindows(CLIENTS, 200, (i) => {
    // From 200 loopback addresses (127.1.0.1-200, 50 clients each): one address
    // may hold at most MAX_STREAMS_PER_ADDRESS (64) streams, and this test is
    // about the connection limit, so no address comes near its own.
    const socket = connect({ port: server!.port, host: "127.0.0.1", localAddress: `127.1.0.${1 + (i % ADDRESSES)}` });
    sockets.push(socket);
    const s: Stream = { socket, data: "", closed: false };
    streams[i] = s;
    return new Promise<void>((resolve) => {
      socket.on("data", (d: Buffer) => {
        s.data += d.toString("latin1");
        if (s.data.includes("event: hello")) resolve();
      });
      // A refused connection may reset before or after our write.
      socket.on("error", () => undefined);
      socket.on("close", () => {
        s.closed = true;
        resolve();
      });
      socket.write("GET /__wharf/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
    });
  });
  const served = streams.filter((s) => !s.closed);
  const connectedMs = performance.now() - started;
  t.diagnostic(
    `${served.length} of ${CLIENTS} streams served under --max-connections ${LIMIT} (${connectedMs.toFixed(0)} ms to connect all)`,
  );
  assert.ok(served.length <= LIMIT, `${served.length} streams served, limit ${LIMIT}`);
  // Connections are accepted in order and the served ones stay open: the limit is filled.
  assert.equal(served.length, LIMIT);
  for (const s of served) assert.match(s.data, /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: text\/event-stream[\s\S]*event: hello\n/i);
  // Refused ones got nothing at all: not a response, not a stream.
  const refused = streams.filter((s) => s.closed);
  assert.equal(refused.length, CLIENTS - LIMIT);
  for (const s of refused) assert.equal(s.data, "", "a refused connection was answered");

  // Shutdown: the grace period is 60 s; a close that waited for the streams would not settle within 20.
  const closeStarted = performance.now();
  const code = await within(server.close(), "still open", { deadline: 20_000 });
  const closeMs = performance.now() - closeStarted;
  assert.equal(code, 0, "the server did not exit promptly");
  assert.ok(await waitFor(() => served.every((s) => s.closed), { deadline: 10_000 }), "every served stream closed");
  const withoutBye = served.filter((s) => !/event: bye\ndata: \{\}\n\n/.test(s.data));
  assert.equal(withoutBye.length, 0, `${withoutBye.length} served streams ended without their last event`);
  t.diagnostic(`graceful close with ${served.length} open streams: ${closeMs.toFixed(0)} ms`);
});
