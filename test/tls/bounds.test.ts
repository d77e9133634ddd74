/**
 * The TLS port under hostile clients (issue 10, items 2, 3, 15, 20): an HTTP/2
 * client that announces a zero window, one that sends a header list past the
 * limit before it acknowledges the limit, a plain-HTTP client that trickles its
 * head, and a plain-HTTP request whose Host would make the redirect point
 * anywhere. Descriptors are counted in a server child process (/proc/PID/fd).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { type RunningServer, serve } from "../../src/server/serve.js";
import {
  FRAME,
  type Frame,
  parseFrames,
  rawH2,
  request,
  responseStatus,
  SETTING,
  SETTINGS_ACK,
  settings,
  windowUpdate,
} from "../helpers/h2-frames.js";
import { rawExchange } from "../helpers/raw.js";
import { opensslCertificate, type TestCertificate } from "../helpers/tls.js";
import { waitFor } from "../helpers/wait.js";
import { fdCount, startServerChild } from "../resources/proc.js";

const BIG = 8 * 1024 * 1024; // above the cache's file limit: every request opens the file
const MID = 1024 * 1024;
const ENHANCE_YOUR_CALM = 0xb;

let dir = "";
let cert: TestCertificate;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-tls-bounds-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  writeFileSync(join(dir, "big.bin"), Buffer.alloc(BIG, 0x62));
  writeFileSync(join(dir, "mid.bin"), Buffer.alloc(MID, 0x6d));
  cert = opensslCertificate(dir, "bounds");
});
after(() => rmSync(dir, { recursive: true, force: true }));

const start = (extra: Parameters<typeof serve>[0] = {}): Promise<RunningServer> =>
  serve({ root: dir, port: 0, host: "127.0.0.1", log: false, tls: { cert: cert.cert, key: cert.key }, ...extra });

/** A raw h2 connection and the frames it has received so far. */
async function h2Client(port: number, first?: Buffer): Promise<{ socket: Socket; frames: () => Frame[]; closed: () => boolean }> {
  const socket = await rawH2(port, cert.cert, first);
  let data = Buffer.alloc(0);
  let closed = false;
  socket.on("data", (c: Buffer) => (data = Buffer.concat([data, c])));
  socket.on("close", () => (closed = true)).on("error", () => undefined);
  return { socket, frames: () => parseFrames(data), closed: () => closed };
}

/**
 * The server's descriptors at rest once it has served one request: the first one
 * opens what stays open for good (the directory watcher's inotify descriptor,
 * src/fs/watch.ts), which is not what these tests count.
 */
async function restingDescriptors(port: number, pid: number): Promise<number> {
  const session = http2Connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    const req = session.request({ ":method": "HEAD", ":path": "/big.bin" });
    req
      .on("response", () => undefined)
      .on("end", resolve)
      .on("error", reject);
    req.end();
    req.resume();
  });
  await new Promise<void>((resolve) => session.close(resolve));
  let last = -1;
  await waitFor(
    () => {
      const now = fdCount(pid);
      const still = now === last;
      last = now;
      return still;
    },
    { deadline: 5000, interval: 100 },
  );
  return last;
}

describe("HTTP/2 send timeout and open files", () => {
  test("a zero window on 100 streams for a large file: at most 16 files open, the session destroyed after the send timeout, descriptors back to baseline", async (t) => {
    const server = await startServerChild({ root: dir, tls: { cert: cert.cert, key: cert.key }, sendTimeout: 1000 });
    try {
      const baseline = await restingDescriptors(server.port, server.pid);
      const client = await h2Client(server.port, settings([[SETTING.INITIAL_WINDOW_SIZE, 0]]));
      client.socket.write(SETTINGS_ACK);
      client.socket.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => request(2 * i + 1, "/big.bin"))));
      const heads = (): number => client.frames().filter((f) => f.type === FRAME.HEADERS).length;
      assert.ok(await waitFor(() => heads() >= 16, { deadline: 10_000 }), `response heads: got ${heads()}, want 16`);
      // Each answered stream has its file open, waiting for a window that never opens.
      const held = fdCount(server.pid) - baseline;
      assert.ok(held <= 16 + 2, `descriptors held: got ${held} over baseline, want at most 16 files and the socket`);
      assert.equal(heads(), 16, "streams past the 16th wait without being answered (or opening a file)");
      const stalledAt = performance.now();
      assert.ok(await waitFor(() => client.closed(), { deadline: 15_000 }), "the session is destroyed and its connection closed");
      t.diagnostic(
        `16 heads, ${held} descriptors over baseline; closed ${(performance.now() - stalledAt).toFixed(0)} ms after the 16th head (sendTimeout 1000)`,
      );
      assert.ok(
        client.frames().some((f) => f.type === FRAME.GOAWAY),
        `GOAWAY sent: ${client
          .frames()
          .map((f) => `${f.type}/${f.streamId}`)
          .join(" ")}`,
      );
      assert.ok(
        await waitFor(() => fdCount(server.pid) <= baseline, { deadline: 5000 }),
        `descriptors: got ${fdCount(server.pid)}, want baseline ${baseline}`,
      );
    } finally {
      server.kill();
    }
  });

  // Node merges a stream's queued writes (writev) into one whose callback comes at
  // the end: a 1 MiB body written at once showed no progress for three seconds and
  // was cut. Sliced writes (src/adapters/h2-send.ts) complete as the window opens.
  test("a slow download (the window opened 16 KiB every 50 ms) is not cut by the send timeout", async () => {
    const server = await start({ sendTimeout: 1000 });
    const client = await h2Client(server.port, settings([[SETTING.INITIAL_WINDOW_SIZE, 0]]));
    const pacer = setInterval(() => client.socket.write(Buffer.concat([windowUpdate(1, 16 * 1024), windowUpdate(0, 16 * 1024)])), 50);
    try {
      client.socket.write(SETTINGS_ACK);
      client.socket.write(request(1, "/mid.bin"));
      const body = (): number =>
        client
          .frames()
          .filter((f) => f.type === FRAME.DATA && f.streamId === 1)
          .reduce((n, f) => n + f.payload.length, 0);
      const ended = (): boolean => client.frames().some((f) => f.type === FRAME.DATA && f.streamId === 1 && (f.flags & 0x1) !== 0);
      // 1 MiB at 320 KiB/s: about three send timeouts.
      assert.ok(await waitFor(() => ended() || client.closed(), { deadline: 20_000 }), `ends: ${body()} of ${MID} bytes`);
      assert.equal(
        body(),
        MID,
        `frames ${client
          .frames()
          .map((f) => `${f.type}/${f.streamId}`)
          .join(" ")}`,
      );
      assert.equal(client.closed(), false, "the connection stays open");
    } finally {
      clearInterval(pacer);
      client.socket.destroy();
      await server.close();
    }
  });
});

describe("HTTP/2 send timeout per stream", () => {
  const CANCEL = 0x8;
  const dataBytes = (frames: Frame[], id: number): number =>
    frames.filter((f) => f.type === FRAME.DATA && f.streamId === id).reduce((n, f) => n + f.payload.length, 0);
  const ended = (frames: Frame[], id: number): boolean =>
    frames.some((f) => f.type === FRAME.DATA && f.streamId === id && (f.flags & 0x1) !== 0);
  const resetCode = (frames: Frame[], id: number): number | undefined =>
    frames.find((f) => f.type === FRAME.RST_STREAM && f.streamId === id)?.payload.readUInt32BE(0);

  test("streams starved of window are reset (CANCEL) and their files closed, while the stream the client reads finishes on the same connection", async (t) => {
    const server = await startServerChild({ root: dir, tls: { cert: cert.cert, key: cert.key }, sendTimeout: 1000 });
    const resting = await restingDescriptors(server.port, server.pid);
    const client = await h2Client(server.port, settings([[SETTING.INITIAL_WINDOW_SIZE, 0]]));
    // Only stream 1's window (and the connection's) is opened: 16 KiB every 50 ms.
    const pacer = setInterval(() => client.socket.write(Buffer.concat([windowUpdate(1, 16 * 1024), windowUpdate(0, 16 * 1024)])), 50);
    try {
      const baseline = resting + 1; // and this client's socket
      client.socket.write(SETTINGS_ACK);
      client.socket.write(Buffer.concat([request(1, "/mid.bin"), request(3, "/big.bin"), request(5, "/big.bin")]));
      const heads = (): number => client.frames().filter((f) => f.type === FRAME.HEADERS).length;
      assert.ok(await waitFor(() => heads() === 3, { deadline: 10_000 }), `response heads: got ${heads()}, want 3`);
      assert.ok(
        fdCount(server.pid) >= baseline + 2,
        `descriptors: got ${fdCount(server.pid)}, want the two big.bin files open over ${baseline}`,
      );
      const answeredAt = performance.now();
      assert.ok(
        await waitFor(() => resetCode(client.frames(), 3) !== undefined && resetCode(client.frames(), 5) !== undefined, {
          deadline: 10_000,
        }),
        "streams 3 and 5 reset",
      );
      t.diagnostic(`streams 3 and 5 reset ${(performance.now() - answeredAt).toFixed(0)} ms after their heads (sendTimeout 1000)`);
      assert.deepEqual([resetCode(client.frames(), 3), resetCode(client.frames(), 5)], [CANCEL, CANCEL]);
      assert.ok(
        await waitFor(() => fdCount(server.pid) <= baseline, { deadline: 5000 }),
        `descriptors: got ${fdCount(server.pid)}, want baseline ${baseline} once both are reset`,
      );
      assert.ok(
        await waitFor(() => ended(client.frames(), 1) || client.closed(), { deadline: 20_000 }),
        `stream 1 ends: ${dataBytes(client.frames(), 1)} of ${MID} bytes`,
      );
      assert.equal(dataBytes(client.frames(), 1), MID);
      assert.equal(client.closed(), false, "the connection stays open");
      assert.equal(resetCode(client.frames(), 1), undefined, "stream 1 is not reset");
    } finally {
      clearInterval(pacer);
      client.socket.destroy();
      server.kill();
    }
  });

  test("1.3 KiB/s scaled to a 1 s timeout (2 KiB every 50 ms per stream): a file and a body in memory both finish", async () => {
    const server = await start({ sendTimeout: 1000 });
    const client = await h2Client(server.port, settings([[SETTING.INITIAL_WINDOW_SIZE, 0]]));
    const pacer = setInterval(
      () => client.socket.write(Buffer.concat([windowUpdate(1, 2048), windowUpdate(3, 2048), windowUpdate(0, 4096)])),
      50,
    );
    const SPAN = 128 * 1024;
    try {
      client.socket.write(SETTINGS_ACK);
      // big.bin is read from its file piece by piece; mid.bin is within the cache's file limit, held in memory.
      const range: [string, string][] = [["range", `bytes=0-${SPAN - 1}`]];
      client.socket.write(Buffer.concat([request(1, "/big.bin", range), request(3, "/mid.bin", range)]));
      assert.ok(
        await waitFor(() => (ended(client.frames(), 1) && ended(client.frames(), 3)) || client.closed(), { deadline: 30_000 }),
        `both end: ${dataBytes(client.frames(), 1)} and ${dataBytes(client.frames(), 3)} of ${SPAN} bytes`,
      );
      assert.deepEqual([dataBytes(client.frames(), 1), dataBytes(client.frames(), 3)], [SPAN, SPAN]);
      assert.deepEqual([resetCode(client.frames(), 1), resetCode(client.frames(), 3), client.closed()], [undefined, undefined, false]);
    } finally {
      clearInterval(pacer);
      client.socket.destroy();
      await server.close();
    }
  });
});

describe("HTTP/2 header list limit", () => {
  /** The answer to a GET with a field of `size` bytes: a status, or `RST_STREAM n`. */
  async function answer(port: number, size: number, ack: boolean): Promise<{ first: number | string; next: number | string }> {
    const client = await h2Client(port);
    try {
      if (ack) {
        // Node applies its SETTINGS once acknowledged: wait for them, then acknowledge
        // (read by the server before the requests that follow on the connection).
        await waitFor(() => client.frames().some((f) => f.type === FRAME.SETTINGS && (f.flags & 0x1) === 0), { deadline: 5000 });
        client.socket.write(SETTINGS_ACK);
      }
      client.socket.write(Buffer.concat([request(1, "/nums.txt", [["x-big", "a".repeat(size)]]), request(3, "/nums.txt")]));
      const outcome = (id: number): number | string | undefined => {
        const f = client.frames().find((x) => x.streamId === id && (x.type === FRAME.HEADERS || x.type === FRAME.RST_STREAM));
        return f === undefined
          ? undefined
          : f.type === FRAME.HEADERS
            ? responseStatus(f.payload)
            : `RST_STREAM ${f.payload.readUInt32BE(0)}`;
      };
      await waitFor(() => outcome(1) !== undefined && outcome(3) !== undefined, { deadline: 5000 });
      return { first: outcome(1) ?? "none", next: outcome(3) ?? "none" };
    } finally {
      client.socket.destroy();
    }
  }

  const rows = [
    { name: "a 64,000-byte field in the client's first flight", size: 64_000, ack: false, want: 431 },
    { name: "a 20,000-byte field in the client's first flight", size: 20_000, ack: false, want: 431 },
    { name: "a 16,000-byte field: the list fits in 16 KiB", size: 16_000, ack: false, want: 200 },
    {
      name: "a 64,000-byte field after the client acknowledged the limit (Node's own check)",
      size: 64_000,
      ack: true,
      want: `RST_STREAM ${ENHANCE_YOUR_CALM}`,
    },
  ];
  test("the 16 KiB header list is enforced, whether or not the client acknowledged it; the connection goes on", async () => {
    const server = await start();
    try {
      for (const row of rows) {
        const got = await answer(server.port, row.size, row.ack);
        assert.deepEqual(got, { first: row.want, next: 200 }, `${row.name}: got ${JSON.stringify(got)}, want ${row.want} then 200`);
      }
    } finally {
      await server.close();
    }
  });

  test("the 431 has its access-log line, like any answer", async () => {
    const lines: string[] = [];
    const server = await start({ log: (line) => lines.push(line) });
    try {
      assert.deepEqual(await answer(server.port, 64_000, false), { first: 431, next: 200 });
      const logged = (): string[] => lines.filter((l) => l.includes('"GET /nums.txt HTTP/2.0"'));
      assert.ok(await waitFor(() => logged().length === 2, { deadline: 5000 }), `log lines: ${JSON.stringify(lines)}`);
      assert.deepEqual(
        logged()
          .map((l) => / (\d{3}) /.exec(l.split('"GET /nums.txt HTTP/2.0"')[1]!)?.[1])
          .sort(),
        ["200", "431"],
      );
    } finally {
      await server.close();
    }
  });

  test("maxHeaderSize sets the HTTP/2 limit too, announced and enforced", async () => {
    const server = await start({ maxHeaderSize: 32 * 1024 });
    try {
      const client = await h2Client(server.port);
      await waitFor(() => client.frames().some((f) => f.type === FRAME.SETTINGS), { deadline: 5000 });
      const announced = client.frames().find((f) => f.type === FRAME.SETTINGS)!.payload;
      const params = new Map<number, number>();
      for (let at = 0; at + 6 <= announced.length; at += 6) params.set(announced.readUInt16BE(at), announced.readUInt32BE(at + 2));
      client.socket.destroy();
      assert.equal(params.get(SETTING.MAX_HEADER_LIST_SIZE), 32 * 1024);
      assert.deepEqual(await answer(server.port, 20_000, false), { first: 200, next: 200 });
      assert.deepEqual(await answer(server.port, 40_000, false), { first: 431, next: 200 });
    } finally {
      await server.close();
    }
  });
});

describe("HTTP/1.1 over TLS next to HTTP/2", () => {
  test("a request line that says HTTP/2.0 over TLS (HTTP/1.1 by ALPN) is answered 505, and the server goes on", async () => {
    const server = await start();
    try {
      const ask = (line: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const socket = tlsConnect(
            { port: server.port, host: "127.0.0.1", servername: "localhost", ca: cert.cert, ALPNProtocols: ["http/1.1"] },
            () => {
              socket.write(`${line}\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
            },
          );
          let got = "";
          socket
            .on("data", (c: Buffer) => (got += c.toString("latin1")))
            .on("error", reject)
            .on("close", () => resolve(got));
        });
      assert.match(await ask("GET /nums.txt HTTP/2.0"), /^HTTP\/1\.1 505 /);
      assert.match(await ask("GET /nums.txt HTTP/1.1"), /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n123456789$/);
    } finally {
      await server.close();
    }
  });
});

describe("the head deadline on the TLS port", () => {
  /** Connects, sends `bytes` one at a time every `everyMs`, and resolves when the server closes. */
  function trickle(port: number, bytes: Buffer, everyMs: number): Promise<{ answer: string; unsent: number }> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: "127.0.0.1" });
      let sent = 0;
      let answer = "";
      const timer = setInterval(() => {
        if (sent < bytes.length && socket.writable) socket.write(bytes.subarray(sent, ++sent));
      }, everyMs);
      const giveUp = setTimeout(() => socket.destroy(), 15_000);
      socket.on("data", (c: Buffer) => (answer += c.toString("latin1"))).on("error", () => undefined);
      socket.on("close", () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve({ answer, unsent: bytes.length - sent });
      });
    });
  }

  test("plain HTTP trickled a byte every 50 ms is answered 408 and closed at headersTimeout, while it still sends", async () => {
    const server = await start({ headersTimeout: 500, requestTimeout: 1000 });
    try {
      const head = Buffer.from(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${"a".repeat(400)}`);
      const { answer, unsent } = await trickle(server.port, head, 50);
      assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/, `got ${JSON.stringify(answer.slice(0, 40))}`);
      assert.ok(unsent > 0, "closed before the client stopped sending");
    } finally {
      await server.close();
    }
  });

  test("a client that sends nothing, and one that trickles its ClientHello, are cut at headersTimeout", async () => {
    const server = await start({ headersTimeout: 500, requestTimeout: 1000 });
    // A real ClientHello, caught by a listener that is not TLS.
    const hello = await new Promise<Buffer>((resolve) => {
      const catcher = createServer((s) =>
        s.once("data", (d: Buffer) => {
          resolve(d);
          s.destroy();
          catcher.close();
        }),
      ).listen(0, "127.0.0.1", () => {
        const address = catcher.address() as { port: number };
        tlsConnect({ port: address.port, host: "127.0.0.1", servername: "localhost", ca: cert.cert }).on("error", () => undefined);
      });
    });
    try {
      const [silent, slowHello] = await Promise.all([trickle(server.port, Buffer.alloc(0), 50), trickle(server.port, hello, 50)]);
      assert.equal(silent.answer, "");
      assert.equal(slowHello.answer, "");
      assert.ok(
        slowHello.unsent > 0,
        `closed before the ClientHello was complete (${hello.length - slowHello.unsent} of ${hello.length} bytes)`,
      );
    } finally {
      await server.close();
    }
  });
});

describe("plain HTTP on the TLS port: the redirect names only this server", () => {
  test("a Host this server answers for gets 307, any other 400", async () => {
    const server = await start();
    const rows = [
      { host: "localhost:8443", want: 307, location: "https://localhost:8443/a?b=1" },
      { host: `127.0.0.1:${server.port}`, want: 307, location: `https://127.0.0.1:${server.port}/a?b=1` },
      { host: "[::1]", want: 307, location: "https://[::1]/a?b=1" }, // in the certificate
      { host: "LocalHost.", want: 307, location: "https://LocalHost./a?b=1" },
      { host: "evil.example", want: 400 },
      { host: "localhost.evil.example:443", want: 400 },
      { host: "127.0.0.2", want: 400 },
      { host: "[::2]:8443", want: 400 },
    ];
    try {
      for (const row of rows) {
        const answer = (await rawExchange(server.port, `GET /a?b=1 HTTP/1.1\r\nHost: ${row.host}\r\n\r\n`)).toString("latin1");
        const status = Number(answer.slice(9, 12));
        const location = /\r\nLocation: ([^\r]*)\r\n/.exec(answer)?.[1];
        assert.deepEqual({ status, location }, { status: row.want, location: row.location }, `Host: ${row.host}`);
      }
      const twice = (await rawExchange(server.port, "GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n")).toString("latin1");
      assert.match(twice, /^HTTP\/1\.1 400 /, "two Host fields");
    } finally {
      await server.close();
    }
  });
});
