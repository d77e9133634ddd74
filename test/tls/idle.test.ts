/**
 * Idle connections over TLS are capped (src/server/idle-budget.ts): past
 * IDLE_TLS_CONNECTIONS the one idle longest is closed, a connection with a
 * response under way never is, and an HTTP/2 session with no stream counts as
 * idle and is sent GOAWAY. Each is over the real TLS port of serve().
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { IDLE_TLS_CONNECTIONS } from "../../src/server/idle-budget.js";
import { withServer } from "../helpers/server.js";
import { opensslCertificate, type TestCertificate } from "../helpers/tls.js";
import { nextEvent, waitFor } from "../helpers/wait.js";

const BIG = 8 * 1024 * 1024; // more than the socket buffers take: a client that does not read stalls it

let dir = "";
let cert: TestCertificate;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-tls-idle-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  writeFileSync(join(dir, "big.bin"), Buffer.alloc(BIG, 0x62));
  cert = opensslCertificate(dir, "idle");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A TLS server whose keep-alive timeout never closes a connection during a test: only the cap does. */
const options = () => ({ root: dir, keepAliveTimeout: 120_000, tls: { cert: cert.cert, key: cert.key } });

/** An HTTP/1.1 connection over TLS, whether the server has closed it, and what it read. */
interface Client {
  readonly socket: TLSSocket;
  closed: boolean;
  /** Bytes read, and the chunks since the last request (small answers only: see {@link getNums}). */
  bytes: number;
  chunks: Buffer[];
}

/** Every client a test opened, destroyed after it whatever happened. */
const opened: Client[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.socket.destroy();
});

function open(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
    const client: Client = { socket, closed: false, bytes: 0, chunks: [] };
    opened.push(client);
    socket.on("data", (chunk: Buffer) => {
      client.bytes += chunk.length;
      client.chunks.push(chunk);
    });
    socket.on("close", () => (client.closed = true)).on("error", () => undefined);
    socket.once("secureConnect", () => resolve(client));
    socket.once("error", reject);
  });
}

const text = (client: Client): string => Buffer.concat(client.chunks).toString("latin1");

/** GET /nums.txt on `client`: the status line, once its whole answer (9 bytes of body) is read. */
async function getNums(client: Client): Promise<string> {
  client.chunks = [];
  client.socket.write("GET /nums.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
  const whole = await waitFor(() => text(client).includes("123456789") || client.closed);
  assert.ok(whole, "an answer to GET /nums.txt");
  return text(client).split("\r\n")[0]!;
}

/**
 * `n` connections, each made idle by one request: the first `ordered` one after
 * the other (so the first is idle longest), then the rest 32 at a time.
 */
async function idleClients(port: number, n: number, ordered: number): Promise<Client[]> {
  const one = async (): Promise<Client> => {
    const client = await open(port);
    assert.equal(await getNums(client), "HTTP/1.1 200 OK");
    return client;
  };
  const clients: Client[] = [];
  for (let i = 0; i < ordered; i++) clients.push(await one());
  while (clients.length < n) {
    const batch = Math.min(32, n - clients.length);
    clients.push(...(await Promise.all(Array.from({ length: batch }, one))));
  }
  return clients;
}

test("past the cap the connections idle longest are closed, the others kept", async () => {
  await withServer(options(), async (server) => {
    const extra = 3;
    const clients = await idleClients(server.port, IDLE_TLS_CONNECTIONS + extra, extra + 1);
    const closed = await waitFor(() => clients.slice(0, extra).every((c) => c.closed));
    assert.ok(closed, `the ${extra} idle longest closed by the server`);
    // Each of the others still answers on its connection: none was closed.
    for (const i of [extra, extra + 1, Math.floor(IDLE_TLS_CONNECTIONS / 2), clients.length - 1]) {
      assert.equal(await getNums(clients[i]!), "HTTP/1.1 200 OK", `connection ${i} kept`);
    }
    assert.equal(clients.filter((c) => c.closed).length, extra, "exactly the ones past the cap closed");
  });
});

test("a connection with a response under way is never closed as idle", async () => {
  await withServer(options(), async (server) => {
    const stalled = await open(server.port);
    stalled.socket.pause(); // reads nothing: the download stalls in the server's writes
    stalled.socket.write("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const clients = await idleClients(server.port, IDLE_TLS_CONNECTIONS + 1, 1);
    assert.ok(await waitFor(() => clients[0]!.closed), "the oldest idle connection closed instead");
    assert.equal(stalled.closed, false, "the stalled download's connection kept");
    stalled.socket.resume();
    const whole = await waitFor(() => stalled.bytes >= BIG, { deadline: 30_000 });
    assert.ok(whole, "the whole download arrives");
    assert.equal((stalled.chunks[0] as Buffer).toString("latin1").split("\r\n")[0], "HTTP/1.1 200 OK");
  });
});

test("an HTTP/2 session with no stream under way is idle: GOAWAY past the cap", async () => {
  await withServer(options(), async (server) => {
    const session = http2Connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
    session.on("error", () => undefined);
    const goaway = nextEvent(session, "goaway", { deadline: 60_000 });
    await nextEvent(session, "connect");
    // One request, so the session has been busy and is idle again.
    await new Promise<void>((resolve, reject) => {
      const req = session.request({ ":path": "/nums.txt" });
      req.on("error", reject).on("end", resolve).resume();
    });
    const clients = await idleClients(server.port, IDLE_TLS_CONNECTIONS, 0);
    try {
      const [code] = await goaway;
      assert.equal(code, 0, "GOAWAY with NO_ERROR (RFC 9113 §6.8)");
      assert.equal(
        clients.every((c) => !c.closed),
        true,
        "the HTTP/1.1 connections, all idle more recently, kept",
      );
    } finally {
      session.destroy();
    }
  });
});
