/**
 * An upload's body deadline is idle time (nginx's `client_body_timeout`), not
 * Node's absolute `requestTimeout`: a slow client that keeps sending finishes, one
 * that stops is cut (408) and leaves no temporary file, and a body nobody reads
 * keeps the absolute deadline (src/server/body-deadline.ts). The bodies span
 * about three times `requestTimeout`; no test measures time, each waits for events.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { constants as h2, connect as http2Connect } from "node:http2";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { withServer } from "../helpers/server.js";
import { opensslCertificate } from "../helpers/tls.js";
import { waitFor } from "../helpers/wait.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const base = mkdtempSync(join(tmpdir(), "wharf-upload-timeout-"));
  dirs.push(base);
  mkdirSync(join(base, "sub"));
  return base;
}

const TIMEOUTS = { requestTimeout: 600, headersTimeout: 300 };
/** Ten chunks 200 ms apart: about 2 s, more than three times requestTimeout. */
const CHUNKS = 10;
const CHUNK = Buffer.alloc(1000, "u");
const temps = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith(".wharf-upload-"));

/** A raw connection: what it received, and whether it closed. */
function rawClient(port: number): { socket: Socket; received: () => string; closed: () => boolean } {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  let data = "";
  let closed = false;
  socket.on("data", (d: Buffer) => {
    data += d.toString("latin1");
  });
  socket.on("close", () => {
    closed = true;
  });
  return { socket, received: () => data, closed: () => closed };
}

/** Writes `chunks` chunks, one every `everyMs`, until done or the socket is gone; resolves with how many went. */
function trickle(write: (chunk: Buffer) => boolean, gone: () => boolean, chunks: number, everyMs: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      if (gone() || sent === chunks) {
        clearInterval(timer);
        resolve(sent);
        return;
      }
      write(CHUNK);
      sent++;
    }, everyMs);
  });
}

test("HTTP/1.1: an upload that keeps sending for three times requestTimeout is stored whole (201)", async () => {
  const r = root();
  await withServer({ root: r, upload: true, ...TIMEOUTS }, async (server) => {
    const c = rawClient(server.port);
    c.socket.write(`PUT /sub/slow.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${CHUNKS * CHUNK.length}\r\n\r\n`);
    const sent = await trickle(
      (chunk) => c.socket.write(chunk),
      () => c.closed() || c.received() !== "",
      CHUNKS,
      200,
    );
    assert.equal(sent, CHUNKS, `answered before the body was sent: ${JSON.stringify(c.received().slice(0, 40))}`);
    assert.ok(await waitFor(() => c.received().includes("\r\n\r\n")), "no answer");
    assert.match(c.received(), /^HTTP\/1\.1 201 /, `got ${JSON.stringify(c.received().slice(0, 40))}`);
    c.socket.destroy();
  });
  assert.deepEqual(readFileSync(join(r, "sub", "slow.bin")), Buffer.concat(Array.from({ length: CHUNKS }, () => CHUNK)));
  assert.deepEqual(temps(join(r, "sub")), []);
});

test("HTTP/1.1: an upload that stops sending is answered 408, closed, and leaves no temporary file", async () => {
  const r = root();
  await withServer({ root: r, upload: true, ...TIMEOUTS }, async (server) => {
    const c = rawClient(server.port);
    c.socket.write(`PUT /sub/stalled.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n`);
    c.socket.write(CHUNK);
    assert.ok(await waitFor(() => c.closed(), { deadline: 10_000 }), "still open");
    assert.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/, `got ${JSON.stringify(c.received().slice(0, 40))}`);
    assert.ok(await waitFor(() => temps(join(r, "sub")).length === 0), `left behind: ${temps(join(r, "sub"))}`);
  });
  assert.deepEqual(readdirSync(join(r, "sub")), []);
});

test("HTTP/1.1 with uploads on: a body that is dropped keeps the absolute requestTimeout (408 while it still sends)", async () => {
  // A GET's body is read and dropped, never the handler's: as without uploads,
  // it must be complete within requestTimeout however steadily it arrives.
  const r = root();
  await withServer({ root: r, upload: true, ...TIMEOUTS }, async (server) => {
    const c = rawClient(server.port);
    c.socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${100 * CHUNK.length}\r\n\r\n`);
    const sent = await trickle(
      (chunk) => c.socket.write(chunk),
      () => c.closed(),
      100,
      100,
    );
    assert.ok(sent < 100, "the whole body went: the deadline never came");
    assert.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/, `got ${JSON.stringify(c.received().slice(0, 40))}`);
  });
});

test("HTTP/2: an upload that keeps sending is stored (201); one that stops is reset (CANCEL) and its temporary file removed", async () => {
  const r = root();
  const cert = opensslCertificate(r, "idle");
  const options = { root: r, upload: true, tls: { cert: cert.cert, key: cert.key }, ...TIMEOUTS };
  await withServer(options, async (server) => {
    const session = http2Connect(`https://localhost:${server.port}`, { ca: cert.cert });
    session.on("error", () => undefined);
    try {
      const steady = session.request({ ":method": "PUT", ":path": "/sub/steady.bin" });
      const stalled = session.request({ ":method": "PUT", ":path": "/sub/stalled.bin" });
      let status: number | undefined;
      steady.on("response", (headers) => {
        status = Number(headers[h2.HTTP2_HEADER_STATUS]);
      });
      steady.resume();
      let stalledCode: number | undefined;
      for (const s of [steady, stalled]) s.on("error", () => undefined);
      stalled.once("close", () => {
        stalledCode = stalled.rstCode;
      });
      stalled.write(CHUNK);
      const sent = await trickle(
        (chunk) => steady.write(chunk),
        () => steady.destroyed,
        CHUNKS,
        200,
      );
      assert.equal(sent, CHUNKS, "the steady stream was cut");
      steady.end();
      assert.ok(await waitFor(() => status !== undefined, { deadline: 10_000 }), "no answer to the steady upload");
      assert.equal(status, 201);
      assert.ok(await waitFor(() => stalledCode !== undefined, { deadline: 10_000 }), "the stalled stream is still open");
      assert.equal(stalledCode, h2.NGHTTP2_CANCEL);
      assert.ok(await waitFor(() => temps(join(r, "sub")).length === 0), `left behind: ${temps(join(r, "sub"))}`);
    } finally {
      session.destroy();
    }
  });
  assert.deepEqual(readdirSync(join(r, "sub")), ["steady.bin"]);
  assert.equal(readFileSync(join(r, "sub", "steady.bin")).length, CHUNKS * CHUNK.length);
});
