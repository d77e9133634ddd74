/**
 * Running out of file descriptors. A server limited to 64 descriptors is filled
 * up with idle connections: a request that needs to open a file or read a
 * directory is answered 503 with Retry-After (not 500, not a hang, not a crash),
 * what needs no descriptor is still served, new connections are refused rather
 * than queued forever, and once the connections close everything works again.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseResponses, rawRequest } from "../helpers/raw.js";
import { waitFor, within } from "../helpers/wait.js";
import { fdCount, type ServerChild, startServerChild } from "./proc.js";

const LIMIT = 64;
const BIG = 2 * 1024 * 1024; // above cacheFileBytes: opened on every request

let dir = "";
let server: ServerChild;
const sockets: Socket[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-fdlimit-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  writeFileSync(join(dir, "big.bin"), Buffer.alloc(BIG, 0x61));
  mkdirSync(join(dir, "dir"));
  writeFileSync(join(dir, "dir", "a.txt"), "a");
  // revalidateMs 0: every request resolves its path again (a listing reads its directory).
  server = await startServerChild({ root: dir, revalidateMs: 0 }, { nofile: LIMIT });
});
after(() => {
  for (const s of sockets) s.destroy();
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A kept-alive connection to send requests on one after another. */
function keptAlive(
  port: number,
): Promise<{ request(target: string): Promise<{ status: number; headers: Record<string, string>; length: number }>; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    sockets.push(socket);
    socket.once("error", reject);
    socket.once("connect", () =>
      resolve({
        socket,
        request: (target) =>
          new Promise((done, fail) => {
            let data = Buffer.alloc(0);
            const onData = (c: Buffer): void => {
              data = Buffer.concat([data, c]);
              const end = data.indexOf("\r\n\r\n");
              if (end < 0) return;
              const length = Number(/\r\ncontent-length: (\d+)/i.exec(data.subarray(0, end).toString("latin1"))?.[1]);
              if (data.length < end + 4 + length) return;
              socket.off("data", onData);
              const [res] = parseResponses(data);
              done({ status: res!.status, headers: res!.headers, length: res!.body.length });
            };
            socket.on("data", onData);
            socket.once("close", () => fail(new Error(`closed while waiting for ${target}`)));
            socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
          }),
      }),
    );
  });
}

/** A connection; `ended` resolves when the server refuses or closes it (never, for one it keeps). */
interface Try {
  readonly ended: Promise<"refused" | "closed">;
  /** What it is now. */
  state(): "refused" | "closed" | "open";
}

function tryConnect(port: number): Try {
  const socket = connect({ port, host: "127.0.0.1" });
  sockets.push(socket);
  let state: "refused" | "closed" | "open" = "open";
  const ended = new Promise<"refused" | "closed">((resolve) => {
    socket.once("error", () => resolve((state = "refused")));
    socket.once("close", () => resolve(state === "open" ? (state = "closed") : state));
  });
  return { ended, state: () => state };
}

describe("out of file descriptors", () => {
  test(`limit ${LIMIT}: 503 while short, full recovery after`, async (t) => {
    const probe = await keptAlive(server.port);
    // First requests: the ETag of big.bin is hashed now, nums.txt is kept in memory.
    assert.equal((await probe.request("/big.bin")).status, 200);
    assert.equal((await probe.request("/nums.txt")).status, 200);
    const fds0 = fdCount(server.pid);

    // Fill every descriptor the server has left with idle connections.
    const tries = Array.from({ length: LIMIT }, () => tryConnect(server.port));
    const full = await waitFor(() => fdCount(server.pid) >= LIMIT - 1);
    // Past the limit a connection is turned away: wait for the first (an event, not a time).
    const turnedAway = await within(Promise.race(tries.map((c) => c.ended)), "none");
    const kept = tries.filter((c) => c.state() === "open").length;
    t.diagnostic(`descriptors ${fds0} -> ${fdCount(server.pid)} of ${LIMIT}; connections: ${kept} kept, ${LIMIT - kept} refused or closed`);
    assert.ok(full, `the server never ran out: ${fdCount(server.pid)} descriptors`);
    assert.notEqual(turnedAway, "none", "every connection was kept: the limit was not reached");

    // Short of descriptors: opening a file fails with EMFILE, which is a 503.
    const busy = await probe.request("/big.bin");
    assert.equal(busy.status, 503, `a request needing a descriptor got ${busy.status}`);
    assert.equal(busy.headers["retry-after"], "1");
    // Reading a directory needs one too.
    const listing = await probe.request("/dir/");
    assert.equal(listing.status, 503, `a listing got ${listing.status}`);
    // What is already in memory needs no descriptor.
    const cached = await probe.request("/nums.txt");
    assert.equal(cached.status, 200);
    // A new connection is not left hanging: refused, or accepted and closed at once.
    // (The deadline is for a server that leaves it hanging: that is the failure.)
    assert.notEqual(await within(tryConnect(server.port).ended, "open"), "open");

    // Recovery: close the idle connections, and everything works again.
    for (const s of sockets) if (s !== probe.socket) s.destroy();
    assert.ok(await waitFor(() => fdCount(server.pid) <= fds0 + 1), `descriptors: ${fdCount(server.pid)}, baseline ${fds0}`);
    const again = await probe.request("/big.bin");
    assert.equal(again.status, 200);
    assert.equal(again.length, BIG);
    assert.equal((await probe.request("/dir/")).status, 200);
    const fresh = await rawRequest(server.port, "GET", "/big.bin");
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.length, BIG);
    const settled = await server.settle();
    t.diagnostic(`server reported: ${JSON.stringify(settled.errors.slice(0, 2))} (${settled.errors.length} lines)`);
    assert.equal(server.process.exitCode, null, "the server died");
  });
});
