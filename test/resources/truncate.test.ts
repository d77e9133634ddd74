/**
 * A file changed while it is being sent. Truncated: the client gets fewer bytes
 * than Content-Length and the connection closes (a pipelined request behind it
 * is never answered on that connection), so no client can take the short body
 * for a complete one. Replaced by rename or deleted: the open descriptor still
 * reads the old version, so the response is the complete old file, exactly as
 * its headers said. The server survives all of it.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import type { RunningServer } from "../../src/server/serve.js";
import { rawRequest } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";

const SIZE = 32 * 1024 * 1024; // far more than socket buffers hold, so the send is still under way
let dir = "";
let server: RunningServer;
let original: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-truncate-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  original = randomBytes(SIZE);
  server = await startServer({ root: dir, revalidateMs: 0 });
});
beforeEach(() => writeFileSync(join(dir, "big.bin"), original));
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Transfer {
  readonly status: number;
  readonly contentLength: number;
  readonly body: Buffer;
  /** Bytes after this response's head that are not its body (a second response). */
  readonly rest: Buffer;
}

/**
 * GET /big.bin with a second request pipelined behind it. Once the head has
 * arrived the client stops reading, `meddle()` changes the file, and then the
 * client reads until the server closes the connection (or a 30 s deadline passes).
 */
function meddledDownload(meddle: () => void): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port: server.port, host: "127.0.0.1" });
    const chunks: Buffer[] = [];
    let meddled = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("the connection was never closed"));
    }, 30_000); // a deadline for a server that never closes it
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      if (!meddled && Buffer.concat(chunks).includes("\r\n\r\n")) {
        meddled = true;
        socket.pause();
        setTimeout(() => {
          meddle();
          socket.resume();
        }, 50);
      }
    });
    socket.on("error", () => {}); // a reset is a close too
    socket.on("close", () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      const end = data.indexOf("\r\n\r\n");
      const head = data.subarray(0, end).toString("latin1");
      const contentLength = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? -1);
      const body = data.subarray(end + 4, end + 4 + contentLength);
      resolve({ status: Number(head.split(" ")[1]), contentLength, body, rest: data.subarray(end + 4 + contentLength) });
    });
    socket.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /nums.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  });
}

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

describe("a file changed while it is sent", () => {
  test("truncated: a short body, then the connection is closed; no response follows on it", async () => {
    const t = await meddledDownload(() => truncateSync(join(dir, "big.bin"), SIZE / 2));
    assert.equal(t.status, 200);
    assert.equal(t.contentLength, SIZE);
    assert.ok(t.body.length < SIZE, `got all ${t.body.length} bytes of a truncated file`);
    assert.ok(t.body.length <= SIZE / 2, `got ${t.body.length} bytes, more than the file now has`);
    assert.ok(t.body.equals(original.subarray(0, t.body.length)), "the bytes sent are not the file's");
    assert.equal(t.rest.length, 0, "a response followed the short body on the same connection");
    // The server lives on, and serves the file as it now is.
    const after = await rawRequest(server.port, "GET", "/nums.txt");
    assert.equal(after.body.toString(), "123456789");
  });

  test("truncated to nothing: the same", async () => {
    const t = await meddledDownload(() => truncateSync(join(dir, "big.bin"), 0));
    assert.equal(t.contentLength, SIZE);
    assert.ok(t.body.length < SIZE);
    assert.equal(t.rest.length, 0);
  });

  test("replaced by rename: the complete old version, as its headers said; the next request gets the new one", async () => {
    const replacement = Buffer.alloc(1000, 0x62);
    const t = await meddledDownload(() => {
      writeFileSync(join(dir, "big.bin.new"), replacement);
      renameSync(join(dir, "big.bin.new"), join(dir, "big.bin"));
    });
    assert.equal(t.contentLength, SIZE);
    assert.equal(t.body.length, SIZE);
    assert.equal(sha(t.body), sha(original), "the body mixes two versions");
    // The pipelined request was answered on the same, still healthy connection.
    assert.match(t.rest.toString("latin1"), /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n123456789$/);
    const next = await rawRequest(server.port, "GET", "/big.bin");
    assert.ok(next.body.equals(replacement));
  });

  test("deleted: the complete old version; the next request is 404", async () => {
    const t = await meddledDownload(() => unlinkSync(join(dir, "big.bin")));
    assert.equal(t.body.length, SIZE);
    assert.equal(sha(t.body), sha(original));
    assert.equal((await rawRequest(server.port, "GET", "/big.bin")).status, 404);
  });
});
