/**
 * The peer's address of a request (WharfRequest.remoteAddress) is read from the
 * socket when first asked (src/adapters/node.ts): a cached file answered on a new
 * connection, which nothing asks for the address, makes no getpeername() call.
 * A request handled past the tick it arrived in has it read at once, so that a
 * middleware reading it after the client has gone still gets the address.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createHandler, type Middleware, withHeader } from "../../src/index.js";
import { waitFor } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-peer-"));
before(() => writeFileSync(join(dir, "a.txt"), "hello\n"));
after(() => rmSync(dir, { recursive: true, force: true }));

const peerGetter = Object.getOwnPropertyDescriptor(Socket.prototype, "remoteAddress")!.get!;

/** A server whose connections count how often their peer address is read. */
async function listen(use: Middleware[]): Promise<{ server: Server; port: number; reads: number[]; sockets: Socket[] }> {
  const reads: number[] = [];
  const sockets: Socket[] = [];
  const server = createServer(createHandler({ root: dir, use }));
  server.on("connection", (socket: Socket) => {
    const i = reads.push(0) - 1;
    sockets.push(socket);
    Object.defineProperty(socket, "remoteAddress", {
      get(this: Socket) {
        reads[i]!++;
        return peerGetter.call(this);
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, reads, sockets };
}

/** One request on a fresh connection; resolves the raw response once the server closes it. */
function ask(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(got));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  });
}

test("a cached file on a new connection is answered without reading the peer's address; a middleware that asks gets it", async () => {
  const { server, port, reads } = await listen([]);
  try {
    assert.match(await ask(port, "/a.txt"), /^HTTP\/1\.1 200 /); // the first: read from disk, past the tick
    assert.match(await ask(port, "/a.txt"), /^HTTP\/1\.1 200 /); // cached: the same tick
    assert.equal(reads.length, 2);
    assert.equal(reads[1], 0, "the peer's address was read for a cached file nobody asked it for");
  } finally {
    server.close();
  }

  const asking = await listen([(req, next) => withHeader(next(), "x-peer", req.remoteAddress ?? "none")]);
  try {
    await ask(asking.port, "/a.txt");
    assert.match(await ask(asking.port, "/a.txt"), /\r\nx-peer: 127\.0\.0\.1\r\n/);
  } finally {
    asking.server.close();
  }
});

test("a middleware that reads the address after the client has gone still gets it", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let seen: string | undefined = "unset";
  const { server, port, reads, sockets } = await listen([
    async (req, next) => {
      await released;
      seen = req.remoteAddress;
      return next();
    },
  ]);
  try {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    // The request has reached the handler (its address read for it), then the client goes.
    assert.ok(await waitFor(() => reads[0] !== undefined && reads[0] > 0, { deadline: 10_000 }), "the address was not read");
    socket.destroy();
    assert.ok(await waitFor(() => sockets[0]?.destroyed === true, { deadline: 10_000 }), "the server kept the connection");
    release();
    assert.ok(await waitFor(() => seen !== "unset", { deadline: 10_000 }));
    assert.equal(seen, "127.0.0.1");
  } finally {
    release();
    server.close();
  }
});
