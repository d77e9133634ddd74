/**
 * Hostile request targets, sent as raw bytes (clients normalise `..` and encodings
 * away): each gets a clear 4xx, and no byte from outside the root ever comes back.
 * Also framing: pipelining, HTTP/1.0, absolute-form.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createHandler } from "../../src/handler/create.js";
import { createFixture, type Fixture } from "../helpers/fixture.js";
import { parseResponses, rawExchange, rawRequest } from "../helpers/raw.js";

let fixture: Fixture;
let server: Server;
let port: number;
// The same handler with explanations, which this loopback client gets by default
// (`server` has them off): an explanation echoes the path asked for, never more.
let explaining: Server;
let explainingPort: number;

async function listen(s: Server): Promise<number> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as AddressInfo).port;
}

before(async () => {
  fixture = createFixture();
  server = createServer(createHandler({ root: fixture.root, explain: "off" }, () => {}));
  port = await listen(server);
  explaining = createServer(createHandler({ root: fixture.root }, () => {}));
  explainingPort = await listen(explaining);
});
after(() => {
  server.close();
  explaining.close();
  fixture.remove();
});

const hostile: { name: string; target: string; status: number }[] = [
  { name: "plain dot-dot", target: "/../public-old/secret.txt", status: 400 },
  { name: "dot-dot deep", target: "/../../../../etc/passwd", status: 400 },
  { name: "encoded dot-dot", target: "/%2e%2e/public-old/secret.txt", status: 400 },
  { name: "mixed-case encoded dot-dot", target: "/%2E%2e/public-old/secret.txt", status: 400 },
  { name: "encoded slash climbing", target: "/index-less/..%2f..%2fpublic-old%2fsecret.txt", status: 400 },
  { name: "fully encoded", target: "/%2e%2e%2fpublic-old%2fsecret.txt", status: 400 },
  { name: "backslash", target: "/..\\public-old\\secret.txt", status: 400 },
  // On POSIX `%5c` is a character of one segment (a file name may hold it), never a separator.
  { name: "encoded backslash", target: "/..%5cpublic-old%5csecret.txt", status: process.platform === "win32" ? 400 : 404 },
  { name: "backslash open redirect", target: "/\\evil.example/", status: 400 },
  { name: "NUL byte", target: "/nums.txt%00.html", status: 400 },
  { name: "invalid percent-encoding", target: "/%zz", status: 400 },
  { name: "truncated percent-encoding", target: "/nums.txt%", status: 400 },
  { name: "overlong UTF-8 dot-dot", target: "/%c0%ae%c0%ae/public-old/secret.txt", status: 400 },
  { name: "invalid UTF-8", target: "/%ff", status: 400 },
  { name: "dot-dot that stays inside is normalised", target: "/index-less/../nums.txt", status: 200 },
  { name: "sibling with the root's prefix (startsWith bug)", target: "/../public-old/secret.txt", status: 400 },
  { name: "symlink out of the root", target: "/escape.txt", status: 404 },
  { name: "name at 255 bytes", target: `/${"a".repeat(255)}`, status: 404 },
  { name: "name over 255 bytes", target: `/${"a".repeat(300)}`, status: 404 },
  { name: "very deep path", target: `/${"a/".repeat(1000)}x`, status: 404 },
  { name: "protocol-relative directory", target: "//index-less", status: 301 },
];

describe("hostile targets", () => {
  for (const row of hostile) {
    test(row.name, async () => {
      const res = await rawRequest(port, "GET", row.target);
      assert.equal(res.status, row.status, `${row.target}: got ${res.status}, want ${row.status}`);
      assert.ok(!res.body.toString().includes("secret"), `${row.target}: leaked the outside file`);
      assert.ok(!res.body.toString().includes(fixture.root), `${row.target}: leaked a file-system path`);
      if (res.status === 301) assert.match(res.headers.location ?? "", /^\/[^/\\]/, "a same-origin path");
    });
    test(`${row.name}, explained`, async () => {
      const res = await rawRequest(explainingPort, "GET", row.target);
      assert.equal(res.status, row.status, `${row.target}: got ${res.status}, want ${row.status}`);
      // The outside file's content is "secret"; its name, which the client sent, may be echoed.
      const body = res.body.toString().replaceAll("secret.txt", "");
      assert.ok(!body.includes("secret"), `${row.target}: leaked the outside file: ${body}`);
      assert.ok(!body.includes(fixture.root), `${row.target}: leaked a file-system path`);
    });
  }
});

describe("framing", () => {
  test("pipelined requests are answered in order", async () => {
    const data = await rawExchange(
      port,
      "GET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\n" +
        "HEAD /site/ HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /nums.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-2\r\nConnection: close\r\n\r\n",
    );
    const responses = parseResponses(data, [false, true, false, false]);
    assert.deepEqual(
      responses.map((r) => [r.status, r.body.length]),
      [
        [200, 9],
        [200, 0],
        [404, responses[2]?.body.length ?? -1],
        [206, 2],
      ],
    );
    assert.equal(responses[0]?.body.toString(), "123456789");
    assert.equal(responses[3]?.body.toString(), "89");
  });
  test("HTTP/1.0 gets a complete response and the connection closes", async () => {
    const data = await rawExchange(port, "GET /nums.txt HTTP/1.0\r\n\r\n");
    const [res] = parseResponses(data);
    assert.equal(res?.status, 200);
    assert.equal(res?.body.toString(), "123456789");
  });
  test("absolute-form target (RFC 9112 §3.2.2)", async () => {
    const res = await rawRequest(port, "GET", "http://localhost/nums.txt");
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "123456789");
  });
  test("absolute-form: the target's authority stands for Host (the allow-list reads it, not the Host field)", async () => {
    const guarded = createServer(createHandler({ root: fixture.root, explain: "off", allowedHosts: ["dev.example"] }, () => {}));
    const guardedPort = await listen(guarded);
    try {
      const rows: { target: string; host: string; status: number }[] = [
        { target: "http://dev.example/nums.txt", host: "evil.example", status: 200 },
        { target: "http://DEV.example:8000/nums.txt", host: "evil.example", status: 200 },
        { target: "http://user@dev.example/nums.txt", host: "evil.example", status: 200 },
        { target: "http://evil.example/nums.txt", host: "dev.example", status: 403 },
        { target: "http://evil.example/nums.txt", host: "localhost", status: 403 },
        { target: "http://127.0.0.1/nums.txt", host: "evil.example", status: 200 },
        { target: "http:///nums.txt", host: "dev.example", status: 400 },
        { target: "/nums.txt", host: "evil.example", status: 403 },
        { target: "/nums.txt", host: "dev.example", status: 200 },
      ];
      for (const row of rows) {
        const data = await rawExchange(guardedPort, `GET ${row.target} HTTP/1.1\r\nHost: ${row.host}\r\nConnection: close\r\n\r\n`);
        const [res] = parseResponses(data);
        assert.equal(res?.status, row.status, `GET ${row.target} with Host ${row.host}: ${data.toString("latin1").split("\r\n")[0]}`);
        if (row.status === 200) assert.equal(res?.body.toString(), "123456789");
      }
    } finally {
      guarded.close();
    }
  });
  test("malformed request line: 400 and the server keeps serving", async () => {
    const data = await rawExchange(port, "GET /a b c\r\n\r\n");
    assert.match(data.toString("latin1"), /^HTTP\/1\.1 400/);
    assert.equal((await rawRequest(port, "GET", "/nums.txt")).status, 200);
  });
  test("GET * is a bad request", async () => {
    assert.equal((await rawRequest(port, "GET", "*")).status, 400);
  });
});
