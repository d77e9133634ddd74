/**
 * The TLS transport's own behaviour: HTTP/2 limits and a rapid-reset flood
 * (CVE-2023-44487), plain HTTP on the TLS port, HTTP/1.1-over-TLS timeouts,
 * graceful shutdown with GOAWAY, and the library's handler on a bare
 * `http2.createSecureServer`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type ClientHttp2Session, connect, constants, createSecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { createHandler } from "../../src/handler/create.js";
import type { RunningServer, ServeOptions } from "../../src/server/serve.js";
import { goawayCode, headersAndReset, rawH2 } from "../helpers/h2-frames.js";
import { rawExchange } from "../helpers/raw.js";
import { closeClients, request } from "../helpers/request.js";
import { startServer } from "../helpers/server.js";
import { opensslCertificate, type TestCertificate } from "../helpers/tls.js";
import { waitFor, within } from "../helpers/wait.js";

let dir = "";
let cert: TestCertificate;
const BIG = Buffer.alloc(8 * 1024 * 1024, "w");

before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-h2-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  writeFileSync(join(dir, "big.bin"), BIG);
  cert = opensslCertificate(dir, "h2");
});
after(() => rmSync(dir, { recursive: true, force: true }));

const start = (extra: ServeOptions = {}): Promise<RunningServer> =>
  startServer({ root: dir, tls: { cert: cert.cert, key: cert.key }, ...extra });

function client(port: number): Promise<ClientHttp2Session> {
  const session = connect(`https://localhost:${port}`, { ca: cert.cert });
  session.on("error", () => undefined);
  return new Promise((resolve, reject) => {
    session.once("remoteSettings", () => resolve(session));
    session.once("error", reject);
  });
}

describe("HTTP/2 limits", () => {
  test("the server announces 100 concurrent streams and a 16 KiB header list", async () => {
    const server = await start();
    const session = await client(server.port);
    try {
      assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
      assert.equal(session.remoteSettings.maxHeaderListSize, 16 * 1024);
    } finally {
      session.close();
      await server.close();
    }
  });

  test("rapid reset (CVE-2023-44487): 2,000 streams opened and cancelled do not starve another client, and the flood is cut", async () => {
    const server = await start();
    const victim = await client(server.port);
    const attacker = await rawH2(server.port, cert.cert);
    let received = Buffer.alloc(0);
    let closed = false;
    attacker.on("data", (c: Buffer) => (received = Buffer.concat([received, c])));
    attacker.on("close", () => (closed = true)).on("error", () => undefined);
    try {
      let sent = 0;
      let answeredIn = Number.NaN;
      // 2,000 HEADERS + RST_STREAM pairs, 100 to a write, in a tight loop (bounded: stops when cut).
      for (let batch = 0; batch < 20 && !closed && attacker.writable; batch++) {
        const frames = Array.from({ length: 100 }, (_, i) => headersAndReset(2 * (batch * 100 + i) + 1, "/big.bin"));
        attacker.write(Buffer.concat(frames));
        sent += 100;
        if (batch === 2) {
          // The other client asks in the middle of the flood.
          const asked = performance.now();
          void new Promise<void>((resolve) => {
            const s = victim.request({ ":path": "/nums.txt" }, { endStream: true });
            s.on("response", () => (answeredIn = performance.now() - asked))
              .on("end", resolve)
              .on("error", resolve)
              .resume();
          });
        }
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => closed && !Number.isNaN(answeredIn));
      assert.ok(closed, `the attacking connection is closed (after ${sent} streams)`);
      assert.equal(
        goawayCode(received),
        constants.NGHTTP2_ENHANCE_YOUR_CALM,
        `GOAWAY says why (after ${sent} streams, ${received.length} bytes)`,
      );
      // Answered during the flood (how fast is a measurement, not a test: a busy machine slows it).
      assert.ok(!Number.isNaN(answeredIn), "the other client was not answered");
      // Still serving, to a new connection too.
      const again = await request({ protocol: "h2", port: server.port, ca: cert.cert }, "GET", "/nums.txt");
      assert.equal(again.body.toString(), "123456789");
    } finally {
      attacker.destroy();
      victim.close();
      closeClients();
      await server.close();
    }
  });

  test("an oversized header list is refused, and the connection's other requests go on", async () => {
    const server = await start();
    const session = await client(server.port);
    try {
      const status = await new Promise<number | string>((resolve) => {
        const s = session.request({ ":path": "/nums.txt", "x-big": "a".repeat(20_000) }, { endStream: true });
        s.on("response", (h) => resolve(Number(h[":status"])))
          .on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"))
          .on("close", () => resolve(`closed ${s.rstCode}`));
        s.resume();
      });
      assert.notEqual(status, 200, "served despite the limit");
      const ok = await request({ protocol: "h2", port: server.port, ca: cert.cert }, "GET", "/nums.txt");
      assert.equal(ok.status, 200);
    } finally {
      session.destroy();
      await server.close();
    }
  });
});

describe("the TLS port", () => {
  test("plain HTTP gets a redirect to https, or a 400 when there is no Host to redirect to", async () => {
    const server = await start();
    try {
      const redirect = (await rawExchange(server.port, "GET /a?b=1 HTTP/1.1\r\nHost: localhost:8443\r\n\r\n")).toString("latin1");
      assert.match(redirect, /^HTTP\/1\.1 307 Temporary Redirect\r\n/);
      assert.match(redirect, /\r\nLocation: https:\/\/localhost:8443\/a\?b=1\r\n/);
      const bad = (await rawExchange(server.port, "GET / HTTP/1.0\r\n\r\n")).toString("latin1");
      assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.ok(bad.endsWith(`This port speaks HTTPS: use https://127.0.0.1:${server.port}/\n`), bad);
      // A Host that is not a host name is never reflected into a Location.
      const evil = (await rawExchange(server.port, "GET / HTTP/1.1\r\nHost: a@evil.example/x\r\n\r\n")).toString("latin1");
      assert.match(evil, /^HTTP\/1\.1 400 /);
    } finally {
      await server.close();
    }
  });

  test("HTTPS/1.1 keeps the header timeout against slow clients", async () => {
    const server = await start({ headersTimeout: 300, requestTimeout: 600 });
    try {
      const answer = await new Promise<string>((resolve) => {
        const socket = tlsConnect(
          { port: server.port, host: "127.0.0.1", servername: "localhost", ca: cert.cert, ALPNProtocols: ["http/1.1"] },
          () => {
            socket.write("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
          },
        );
        let got = "";
        socket
          .on("data", (c: Buffer) => (got += c.toString("latin1")))
          .on("close", () => resolve(got))
          .on("error", () => undefined);
        setTimeout(() => socket.destroy(), 30_000).unref(); // a deadline for a server that never cuts it
      });
      assert.match(answer, /^HTTP\/1\.1 408 /);
    } finally {
      await server.close();
    }
  });

  test("close() sends GOAWAY and lets an HTTP/2 download in flight finish", async () => {
    const server = await start();
    const session = await client(server.port);
    let goaway = false;
    const goawayReceived = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    session.on("goaway", () => (goaway = true));
    const stream = session.request({ ":path": "/big.bin" }, { endStream: true });
    await new Promise((resolve) => stream.once("response", resolve));
    stream.pause();
    const closed = server.close();
    // The download resumes only once the GOAWAY is in: the order the test is about.
    await within(goawayReceived, undefined);
    let received = 0;
    await new Promise<void>((resolve, reject) =>
      stream
        .on("data", (c: Buffer) => (received += c.length))
        .on("end", resolve)
        .on("error", reject)
        .resume(),
    );
    await closed;
    assert.ok(goaway, "GOAWAY received");
    assert.equal(received, BIG.length);
    session.destroy();
  });
});

describe("the library on node:http2", () => {
  test("createHandler() is an http2.createSecureServer listener", async () => {
    const server = createSecureServer(
      { cert: cert.cert, key: cert.key, allowHTTP1: true },
      createHandler({ root: dir }, () => {}),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      for (const protocol of ["h2", "https/1.1"] as const) {
        const a = await request({ protocol, port, ca: cert.cert }, "GET", "/nums.txt", { range: "bytes=1-2" });
        assert.deepEqual([a.status, a.body.toString(), a.headers["content-range"]], [206, "23", "bytes 1-2/9"], protocol);
        const big = await request({ protocol, port, ca: cert.cert }, "GET", "/big.bin");
        assert.equal(big.body.length, BIG.length, protocol);
      }
    } finally {
      closeClients();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
