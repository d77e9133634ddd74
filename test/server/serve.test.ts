import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get, type IncomingMessage } from "node:http";
import { connect, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OptionError } from "../../src/handler/options.js";
import { ServeError, serve } from "../../src/server/serve.js";
import { canListen } from "../helpers/net.js";
import { startServer } from "../helpers/server.js";
import { nextEvent, waitFor, within } from "../helpers/wait.js";

let base = "";
let root = "";
const BIG = 8 * 1024 * 1024;

before(() => {
  base = mkdtempSync(join(tmpdir(), "wharf-listen-"));
  root = join(base, "public");
  mkdirSync(root);
  writeFileSync(join(root, "nums.txt"), "123456789");
  writeFileSync(join(root, "big.bin"), Buffer.alloc(BIG, 0x61));
  writeFileSync(join(base, "file.txt"), "not a directory");
  mkdirSync(join(base, "locked"), { mode: 0o000 });
});
after(() => {
  chmodSync(join(base, "locked"), 0o755);
  rmSync(base, { recursive: true, force: true });
});

/** GET with no agent, so no pooled connection outlives the test. */
function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = "";
      res
        .setEncoding("latin1")
        .on("data", (c: string) => (body += c))
        .on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

const hasIPv6Loopback = await canListen("::1");

describe("serve", () => {
  test("binds one address and reports real URLs", async () => {
    const server = await startServer({ root });
    try {
      assert.ok(server.port > 0);
      assert.deepEqual(server.urls, [`http://127.0.0.1:${server.port}/`]);
      assert.deepEqual(server.addresses, [{ address: "127.0.0.1", family: "IPv4", port: server.port }]);
      assert.deepEqual(await fetchText(`${server.urls[0]}nums.txt`), { status: 200, body: "123456789" });
    } finally {
      await server.close();
    }
    await assert.rejects(fetchText(`http://127.0.0.1:${server.port}/nums.txt`), { code: "ECONNREFUSED" });
  });

  test("an IPv6 literal in brackets", { skip: !hasIPv6Loopback && "no IPv6 loopback" }, async () => {
    const server = await serve({ root, port: 0, host: "[::1]", log: false });
    try {
      assert.deepEqual(server.urls, [`http://[::1]:${server.port}/`]);
      assert.deepEqual((await fetchText(`http://[::1]:${server.port}/nums.txt`)).body, "123456789");
    } finally {
      await server.close();
    }
  });

  test("localhost listens on 127.0.0.1 and ::1 with the same port", async () => {
    const server = await serve({ root, port: 0, host: "localhost", log: false });
    try {
      assert.deepEqual(server.urls, [`http://localhost:${server.port}/`]);
      const want = [{ address: "127.0.0.1", family: "IPv4", port: server.port }];
      if (hasIPv6Loopback) want.push({ address: "::1", family: "IPv6", port: server.port });
      assert.deepEqual(server.addresses, want);
      for (const a of server.addresses) {
        const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
        assert.equal((await fetchText(`http://${host}:${a.port}/nums.txt`)).body, "123456789", `via ${host}`);
      }
    } finally {
      await server.close();
    }
  });

  test("logs each request, through the log sink", async () => {
    const lines: string[] = [];
    const server = await startServer({ root, log: (line) => lines.push(line) });
    try {
      await fetchText(`${server.urls[0]}nums.txt?x=%1b`);
      await fetchText(`${server.urls[0]}missing`);
    } finally {
      await server.close();
    }
    assert.equal(lines.length, 2, `got ${JSON.stringify(lines)}`);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 "GET \/nums\.txt\?x=%1b HTTP\/1\.1" 200 9 \d+\.\dms$/);
    assert.match(lines[1]!, /^\S+ 127\.0\.0\.1 "GET \/missing HTTP\/1\.1" 404 \d+ \d+\.\dms$/);
  });

  test("a client that goes away mid-response is logged as aborted", async () => {
    const lines: string[] = [];
    const server = await startServer({ root, log: (line) => lines.push(line) });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = get(`${server.urls[0]}big.bin`, { agent: false }, (res) => {
          res.once("data", () => req.destroy());
        });
        req.on("error", () => undefined).on("close", resolve);
        setTimeout(() => reject(new Error("no response")), 30_000).unref();
      });
      // The line is written when the server sees the abort, after the client's close.
      await waitFor(() => lines.length > 0);
    } finally {
      await server.close();
    }
    assert.equal(lines.length, 1, `got ${JSON.stringify(lines)}`);
    const m = /"GET \/big\.bin HTTP\/1\.1" 200 (\d+) \S+ \(aborted\)$/.exec(lines[0]!);
    assert.ok(m, `got ${lines[0]}`);
    assert.ok(Number(m[1]) < BIG, `logged ${m[1]} bytes of ${BIG}`);
  });

  const failures: { name: string; options: () => Parameters<typeof serve>[0]; codes: string[]; message: string; skip?: boolean }[] = [
    {
      name: "missing directory",
      options: () => ({ root: join(base, "nope") }),
      codes: ["WHARF_NO_DIRECTORY"],
      message: `directory not found: ${join(base, "nope")}`,
    },
    {
      name: "a file as root",
      options: () => ({ root: join(base, "file.txt") }),
      codes: ["WHARF_NOT_A_DIRECTORY"],
      message: `not a directory: ${join(base, "file.txt")}`,
    },
    {
      name: "unreadable directory",
      options: () => ({ root: join(base, "locked") }),
      codes: ["WHARF_DIRECTORY_NOT_READABLE"],
      message: `directory not readable: ${join(base, "locked")}`,
      skip: process.getuid?.() === 0,
    },
    {
      name: "address not on this machine",
      options: () => ({ root, host: "203.0.113.123" }),
      codes: ["EADDRNOTAVAIL"],
      message: "cannot bind to address 203.0.113.123",
    },
    {
      name: "unresolvable host",
      options: () => ({ root, host: "no-such-host.invalid" }),
      codes: ["ENOTFOUND", "EAI_AGAIN"],
      message: "cannot resolve host name no-such-host.invalid",
    },
  ];
  for (const row of failures) {
    test(`fails: ${row.name}`, { skip: row.skip === true && "running as root" }, async () => {
      await assert.rejects(startServer({ ...row.options() }), (err: unknown) => {
        assert.ok(err instanceof ServeError, `got ${String(err)}`);
        assert.ok(row.codes.includes(err.code), `got code ${err.code}, want one of ${row.codes.join(", ")}`);
        assert.equal(err.message, row.message);
        return true;
      });
    });
  }

  test("fails: port in use", async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(serve({ root, port, host: "127.0.0.1", log: false }), {
        code: "EADDRINUSE",
        message: `port ${port} is already in use on 127.0.0.1`,
      });
    } finally {
      blocker.close();
    }
  });

  const invalid: { options: Parameters<typeof serve>[0]; code: string }[] = [
    { options: { port: 70000 }, code: "WHARF_INVALID_PORT" },
    { options: { port: 1.5 }, code: "WHARF_INVALID_PORT" },
    { options: { headersTimeout: -1 }, code: "WHARF_INVALID_HEADERS_TIMEOUT" },
    { options: { headersTimeout: 5000, requestTimeout: 1000 }, code: "WHARF_INVALID_HEADERS_TIMEOUT" },
    { options: { host: "" }, code: "WHARF_INVALID_HOST" },
    { options: { dotfiles: "maybe" as never }, code: "WHARF_INVALID_DOTFILES" },
  ];
  for (const row of invalid) {
    test(`rejects ${JSON.stringify(row.options)}`, async () => {
      await assert.rejects(serve({ root, log: false, ...row.options }), (err: unknown) => {
        assert.ok(err instanceof OptionError, `got ${String(err)}`);
        assert.equal(err.code, row.code);
        return true;
      });
    });
  }
});

describe("close", () => {
  test("lets an in-flight response finish", async () => {
    const server = await startServer({ root });
    let res: IncomingMessage | undefined;
    await new Promise<void>((resolve) => {
      get(`${server.urls[0]}big.bin`, { agent: false }, (r) => {
        res = r;
        r.pause();
        resolve();
      });
    });
    assert.equal(server.inFlight, 1);
    const closed = server.close();
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      res!
        .on("data", (c: Buffer) => (received += c.length))
        .on("end", resolve)
        .on("error", reject)
        .resume();
    });
    await closed;
    assert.equal(received, BIG);
    assert.equal(server.inFlight, 0);
  });

  test("destroys what is still running after shutdownTimeout", async () => {
    const server = await startServer({ root, shutdownTimeout: 200 });
    const req = get(`${server.urls[0]}big.bin`, { agent: false }, (r) => r.pause());
    req.on("error", () => undefined);
    const res = (await nextEvent<[IncomingMessage]>(req, "response"))[0];
    const start = performance.now();
    // The paused download would never finish: close() returning at all means it
    // gave up waiting (the deadline is for a close that never does).
    assert.equal(
      await within(
        server.close().then(() => "closed"),
        "still waiting",
        { deadline: 30_000 },
      ),
      "closed",
    );
    const took = performance.now() - start;
    // A lower bound only: timers never fire early; a busy machine only makes it later.
    assert.ok(took >= 150, `close took ${took} ms, less than shutdownTimeout`);
    // Reading on, the client finds its download cut short.
    let received = 0;
    res
      .on("data", (c: Buffer) => (received += c.length))
      .on("error", () => undefined)
      .resume();
    await nextEvent(req, "close", { deadline: 30_000 });
    assert.ok(!res.complete && received < BIG, `the download in flight was not cut: ${received} of ${BIG} bytes`);
    req.destroy();
  });

  test("does not wait for idle keep-alive connections", async () => {
    // An idle timeout far past the deadline below: a close that waited for it could not pass.
    const server = await startServer({ root, keepAliveTimeout: 600_000 });
    const socket = connect(server.port, "127.0.0.1");
    await new Promise<void>((resolve) => {
      socket.write("GET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\n");
      socket.once("data", () => resolve());
    });
    const hungUp = nextEvent(socket, "close", { deadline: 30_000 });
    assert.equal(
      await within(
        server.close().then(() => "closed"),
        "waited",
        { deadline: 30_000 },
      ),
      "closed",
      "close waited for an idle connection",
    );
    await hungUp; // and the idle connection was closed by the server
    socket.destroy();
  });
});

describe("slow clients", () => {
  const HEADERS_TIMEOUT = 1500;
  test("100 slowloris connections neither block others nor outlive headersTimeout", async () => {
    const server = await startServer({ root, headersTimeout: HEADERS_TIMEOUT, requestTimeout: 2 * HEADERS_TIMEOUT });
    const sockets: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      const closedAt: number[] = [];
      const answers: string[] = [];
      const opened = performance.now();
      await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<void>((resolve) => {
              const s = connect(server.port, "127.0.0.1", () => {
                s.write("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
                timers.push(setInterval(() => s.writable && s.write("a"), 200));
                resolve();
              });
              let got = "";
              s.on("data", (c: Buffer) => (got += c.toString("latin1")));
              s.on("error", () => undefined).on("close", () => {
                closedAt.push(performance.now());
                answers.push(got);
              });
              sockets.push(s);
            }),
        ),
      );
      // Not blocked: answered while every slow connection is still open (an order
      // of events, not a time; the header timeout is long enough for a busy machine).
      assert.equal((await fetchText(`${server.urls[0]}nums.txt`)).body, "123456789");
      assert.equal(closedAt.length, 0, "the normal request was answered only after slow connections were cut");
      await waitFor(() => closedAt.length === 100, { deadline: 30_000 });
      assert.equal(closedAt.length, 100, "every slow connection is cut");
      // None before the header timeout (opened is taken before connecting: a safe lower bound).
      assert.ok(Math.min(...closedAt) - opened >= HEADERS_TIMEOUT * 0.9, `the first one lasted ${Math.min(...closedAt) - opened} ms`);
      assert.ok(
        answers.every((a) => a.startsWith("HTTP/1.1 408 ")),
        `got ${JSON.stringify(answers[0])}`,
      );
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await server.close();
    }
  });

  test("malformed requests get 400 and the server keeps serving", async () => {
    const server = await startServer({ root });
    try {
      const answer = await new Promise<string>((resolve) => {
        const s = connect(server.port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"));
        let got = "";
        s.on("data", (c: Buffer) => (got += c.toString("latin1")))
          .on("close", () => resolve(got))
          .on("error", () => undefined);
      });
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.equal((await fetchText(`${server.urls[0]}nums.txt`)).body, "123456789");
    } finally {
      await server.close();
    }
  });
});
