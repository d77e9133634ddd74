/**
 * Hostile targets against the whole handler and a real server, with a sibling
 * directory next to the root holding a secret: no answer ever carries the
 * secret's bytes or points at a file outside the root, and nothing is a 5xx.
 */
import assert from "node:assert/strict";
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Chunk, WharfRequest } from "../../src/core/types.js";
import { createHandler, type WharfHandler } from "../../src/handler/create.js";
import { isInside } from "../../src/path/resolve.js";
import type { RunningServer } from "../../src/server/serve.js";
import { createFixture, type Fixture } from "../helpers/fixture.js";
import { rawExchange } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";
import { hostilePath, wirePath } from "./arbitraries.js";
import { runs } from "./settings.js";

/** The secret's bytes: unique, so finding them anywhere in an answer is a leak. */
const SECRET = "TOP-SECRET-7f3a9c1e";

let fixture: Fixture;
let rootReal: string;
let handler: WharfHandler;
let server: RunningServer;

before(async () => {
  fixture = createFixture();
  writeFileSync(join(fixture.outside, "secret.txt"), SECRET);
  writeFileSync(join(fixture.outside, "index.html"), SECRET);
  rootReal = realpathSync(fixture.root);
  handler = createHandler({ root: fixture.root, revalidateMs: 0 }, () => {});
  server = await startServer({ root: fixture.root });
});
after(async () => {
  await server.close();
  fixture.remove();
});

function request(method: string, target: string, headers: Record<string, string> = {}): WharfRequest {
  const q = target.indexOf("?");
  return {
    method,
    target,
    pathname: q < 0 ? target : target.slice(0, q),
    search: q < 0 ? "" : target.slice(q),
    header: (name) => headers[name],
    remoteAddress: "127.0.0.1",
  };
}

/** Every file a body would read from. */
function filesOf(chunks: readonly Chunk[]): string[] {
  return chunks.flatMap((c) => (c instanceof Uint8Array ? [] : [c.path]));
}

describe("the handler under hostile targets", () => {
  test("never a 5xx, never a file outside the root, never the secret's bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostilePath,
        fc.constantFrom("GET", "HEAD"),
        fc.constantFrom(undefined, "bytes=0-3", "bytes=-2,0-0"),
        async (path, method, range) => {
          const reply = await handler.handle(request(method, path, range === undefined ? {} : { range }));
          const where = `${method} ${JSON.stringify(path)}`;
          assert.ok(reply.status < 500, `${where}: got ${reply.status}`);
          const body = reply.body;
          const files = body.kind === "chunks" ? filesOf(body.chunks) : body.kind === "encoded" ? [body.source.path] : [];
          for (const file of files) assert.ok(isInside(rootReal, file), `${where}: reads ${file}, outside the root`);
          if (body.kind === "chunks") {
            const bytes = Buffer.concat(body.chunks.filter((c): c is Uint8Array => c instanceof Uint8Array));
            assert.ok(!bytes.includes(SECRET), `${where}: the secret's bytes`);
            assert.ok(!bytes.includes(fixture.outside), `${where}: a file-system path`);
          }
          if (reply.headers.location !== undefined)
            assert.match(reply.headers.location, /^\/(?![/\\])/, `${where}: Location ${reply.headers.location}`);
        },
      ),
      runs(1000),
    );
  });
});

describe("a real server under hostile targets, over raw sockets", () => {
  test("every answer is a well-formed 1xx-4xx without the secret, and the server keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(wirePath, fc.constantFrom("GET", "HEAD"), async (path, method) => {
        const data = await rawExchange(server.port, `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
        const text = data.toString("latin1");
        assert.match(text, /^HTTP\/1\.1 [1-4]\d\d /, `${method} ${path}: ${text.slice(0, 40)}`);
        assert.ok(!text.includes(SECRET), `${method} ${path}: the secret's bytes`);
      }),
      runs(250),
    );
    const data = await rawExchange(server.port, "GET /nums.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(data.toString("latin1"), /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n123456789$/);
  });
});
