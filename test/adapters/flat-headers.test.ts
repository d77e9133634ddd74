/**
 * Replies built once and sent many times (a cached file's 200 and 304, the shared
 * 404) keep their headers as the flat list Node's `writeHead` walks fastest
 * (core/reply.ts `sharedReply`, issue 17). What must hold: a copy never carries
 * the list (it would describe headers the copy no longer has); the bytes on the
 * wire are the header object's, in its order, cold and cached; and a `writeHead`
 * wrapped by middleware is given the object, since on-headers before 1.1 (under
 * Express's compression and morgan) read an array as `[name, value]` pairs.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { flatHeaders, MISS_404, sharedReply, text, withHeader, withStatus } from "../../src/core/reply.js";
import type { Reply, WharfRequest } from "../../src/core/types.js";
import { createHandler, type WharfHandler } from "../../src/index.js";
import { rawExchange } from "../helpers/raw.js";

describe("sharedReply", () => {
  const shared = sharedReply(text(200, "hi", { "x-a": "1" }));
  const rows: { name: string; reply: Reply; flat: readonly string[] | undefined }[] = [
    { name: "a shared reply", reply: shared, flat: ["x-a", "1", "content-type", "text/plain; charset=utf-8", "content-length", "2"] },
    { name: "a spread copy", reply: { ...shared }, flat: undefined },
    { name: "withHeader of it", reply: withHeader(shared, "x-b", "2"), flat: undefined },
    { name: "withStatus of it", reply: withStatus(shared, 203), flat: undefined },
    { name: "a reply never shared", reply: text(200, "hi"), flat: undefined },
    { name: "the shared 404", reply: MISS_404, flat: Object.entries(MISS_404.headers).flat() },
  ];
  for (const row of rows) {
    test(`${row.name}: ${row.flat === undefined ? "no list" : "its headers' list"}`, () => {
      assert.deepEqual(flatHeaders(row.reply), row.flat);
    });
  }
  test("the list is not enumerable: JSON and Object.keys see the reply as it was", () => {
    assert.deepEqual(Object.keys(shared), ["status", "headers", "body"]);
    assert.equal(JSON.stringify(shared), JSON.stringify(text(200, "hi", { "x-a": "1" })));
  });
});

/** What on-headers 1.0 did: an array of headers read as `[name, value]` pairs, then the original writeHead. */
function pairsWrapper(res: ServerResponse): void {
  const original = res.writeHead;
  res.writeHead = function (this: ServerResponse, status: number, headers?: OutgoingHttpHeaders | unknown[]) {
    if (Array.isArray(headers)) for (const pair of headers) this.setHeader(String((pair as string)[0]), String((pair as string)[1]));
    else if (headers !== undefined) for (const [name, value] of Object.entries(headers)) this.setHeader(name, value as string);
    return original.call(this, status);
  } as ServerResponse["writeHead"];
}

/** The header lines of a raw response, without the ones Node adds itself. */
function headerLines(data: Buffer): string[][] {
  const head = data.subarray(0, data.indexOf("\r\n\r\n")).toString("latin1").split("\r\n").slice(1);
  return head
    .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)])
    .filter(([name]) => !["date", "connection", "keep-alive"].includes(name!.toLowerCase()));
}

describe("shared replies on the wire", () => {
  let dir = "";
  let handler: WharfHandler;
  let server: Server;
  let port = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wharf-flat-"));
    writeFileSync(join(dir, "a.txt"), "A".repeat(100));
    // No explanations: they are for loopback clients, which this one is.
    handler = createHandler({ root: dir, explain: "off" });
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.headers["x-wrap"] !== undefined) pairsWrapper(res);
      handler(req, res);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((done) => server.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  const view = (path: string, headers: Record<string, string>): WharfRequest => ({
    method: "GET",
    target: path,
    pathname: path,
    search: "",
    header: (name: string) => headers[name],
    remoteAddress: "127.0.0.1",
  });

  // design.md: a body built once is a Buffer, which Node's socket write takes as
  // it is (any other Uint8Array it wraps in a new view on every write).
  for (const [name, path] of [
    ["a file held in memory", "/a.txt"],
    ["the 404 page", "/missing.txt"],
    ["a listing", "/"],
  ] as const) {
    test(`${name}: its body is a Buffer`, async () => {
      const reply = await handler.handle(view(path, {}));
      assert.equal(reply.body.kind, "chunks");
      const chunks = reply.body.kind === "chunks" ? reply.body.chunks : [];
      assert.equal(chunks.length, 1);
      assert.ok(Buffer.isBuffer(chunks[0]), `${path}: ${chunks[0]?.constructor.name}`);
    });
  }

  const etag = async (): Promise<string> => (await handler.handle(view("/a.txt", {}))).headers["etag"]!;
  const cases: { name: string; path: string; headers: () => Promise<Record<string, string>>; status: number }[] = [
    { name: "200", path: "/a.txt", headers: async () => ({}), status: 200 },
    { name: "304", path: "/a.txt", headers: async () => ({ "if-none-match": await etag() }), status: 304 },
    { name: "404", path: "/missing.txt", headers: async () => ({}), status: 404 },
  ];
  for (const c of cases) {
    for (const wrapped of [false, true]) {
      test(`${c.name}${wrapped ? " through a pairs-reading writeHead wrapper" : ""}: the reply's headers, in order, cold and cached`, async () => {
        const headers = await c.headers();
        const reply = await handler.handle(view(c.path, headers));
        assert.equal(reply.status, c.status);
        const want = Object.entries(reply.headers);
        const extra = Object.entries(headers)
          .map(([n, v]) => `${n}: ${v}\r\n`)
          .join("");
        // Twice: the first may resolve the path (the asynchronous write), the second is the cached reply.
        for (let i = 0; i < 2; i++) {
          const data = await rawExchange(
            port,
            `GET ${c.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${wrapped ? "x-wrap: 1\r\n" : ""}${extra}\r\n`,
          );
          assert.equal(data.toString("latin1").split(" ")[1], String(c.status));
          const got = headerLines(data);
          // Through the wrapper Node writes what setHeader was given, names as given.
          assert.deepEqual(wrapped ? got.map(([n, v]) => [n!.toLowerCase(), v]) : got, want);
        }
      });
    }
  }
});
