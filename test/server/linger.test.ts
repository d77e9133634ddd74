/**
 * An error answer must reach a client that is still sending. A request head far
 * over the limit (200 KB) is refused after the first 16 KiB; closing at once,
 * with the rest unread, makes the kernel send a reset, and a reset makes the
 * client's kernel drop the 431 it had not read yet. Over TLS that happened every
 * time (0 of 20 answered before the lingering close), over plain TCP it depends
 * on timing. Each row runs 10 times, plain and TLS.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { type RunningServer, serve } from "../../src/server/serve.js";
import { opensslCertificate, type TestCertificate } from "../helpers/tls.js";

let dir = "";
let cert: TestCertificate;
const servers: RunningServer[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-linger-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  cert = opensslCertificate(dir, "linger");
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(tls: boolean): Promise<RunningServer> {
  const server = await serve({
    root: dir,
    port: 0,
    host: "127.0.0.1",
    log: false,
    ...(tls ? { tls: { cert: cert.cert, key: cert.key } } : {}),
  });
  servers.push(server);
  return server;
}

/** Sends `bytes` at once and resolves with everything read until the server closes. */
function exchange(port: number, tls: boolean, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = tls
      ? tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] })
      : connect({ port, host: "127.0.0.1" });
    let data = "";
    socket.on("data", (c: Buffer) => (data += c.toString("latin1")));
    socket.on("error", () => {}); // a reset: judged by what arrived
    socket.on("close", () => resolve(data));
    socket.once(tls ? "secureConnect" : "connect", () => socket.write(bytes));
  });
}

const rows = [
  { name: "a 200 KB header", bytes: `GET /nums.txt HTTP/1.1\r\nHost: x\r\nX-Big: ${"x".repeat(200_000)}\r\n\r\n`, status: "431" },
  { name: "a 200 KB target", bytes: `GET /nums.txt?${"q".repeat(200_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, status: "431" },
  {
    name: "a bad header line, 200 KB after it",
    bytes: `GET /nums.txt HTTP/1.1\r\nHost: x\r\nBad Header\r\n${"X-Pad: y\r\n".repeat(20_000)}\r\n`,
    status: "400",
  },
];

for (const tls of [false, true]) {
  describe(`a refused request still being sent gets its answer (${tls ? "TLS" : "plain"})`, () => {
    for (const row of rows) {
      test(row.name, async () => {
        const server = await start(tls);
        for (let i = 0; i < 10; i++) {
          const got = await exchange(server.port, tls, row.bytes);
          assert.match(got, new RegExp(`^HTTP/1\\.1 ${row.status} `), `try ${i}: got ${JSON.stringify(got.slice(0, 80))}`);
        }
      });
    }
  });
}
