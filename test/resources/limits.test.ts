/**
 * The limits a client meets at the door: a request-target longer than
 * maxUrlLength is 414 before any handler work, a head larger than maxHeaderSize
 * is 431, a connection past maxConnections is closed at once; each is an option
 * of serve() and a flag of the CLI.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseCommandLine } from "../../src/cli/flags.js";
import { OptionError } from "../../src/handler/options.js";
import type { RunningServer, ServeOptions } from "../../src/server/serve.js";
import { startCli } from "../helpers/cli.js";
import { parseResponses, rawExchange, rawRequest } from "../helpers/raw.js";
import { withServer as serverWith, startServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-limits-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
});
after(() => rmSync(dir, { recursive: true, force: true }));

const withServer = (options: ServeOptions, body: (server: RunningServer) => Promise<void>): Promise<void> =>
  serverWith({ root: dir, ...options }, body);

const longTarget = (length: number): string => `/nums.txt?${"q".repeat(length - "/nums.txt?".length)}`;

describe("URL length (414)", () => {
  test("a target one byte over the limit is 414; at the limit it is served", async () => {
    await withServer({}, async (server) => {
      const over = await rawRequest(server.port, "GET", longTarget(8193));
      assert.equal(over.status, 414);
      assert.match(over.body.toString(), /414 URI Too Long/);
      assert.equal(over.headers["cache-control"], "no-store");
      const at = await rawRequest(server.port, "GET", longTarget(8192));
      assert.equal(at.status, 200);
      assert.equal(at.body.toString(), "123456789");
    });
  });

  test("HEAD gets the 414 without a body, and the connection stays usable", async () => {
    await withServer({ maxUrlLength: 100 }, async (server) => {
      const data = await rawExchange(
        server.port,
        `HEAD ${longTarget(101)} HTTP/1.1\r\nHost: x\r\n\r\nGET /nums.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      const [head, next] = parseResponses(data, [true, false]);
      assert.equal(head?.status, 414);
      assert.equal(next?.status, 200);
      assert.equal(next?.body.toString(), "123456789");
    });
  });

  test("a target that does not even fit in the head is 431", async () => {
    await withServer({}, async (server) => {
      const res = await rawRequest(server.port, "GET", longTarget(20_000));
      assert.equal(res.status, 431);
    });
  });
});

describe("header size (431)", () => {
  const bigHeader = `X-Big: ${"x".repeat(20_000)}\r\n`;
  test("a head over 16 KiB is 431 and the connection is closed", async () => {
    await withServer({}, async (server) => {
      const data = await rawExchange(
        server.port,
        `GET /nums.txt HTTP/1.1\r\nHost: x\r\n${bigHeader}\r\nGET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      assert.match(data.toString("latin1"), /^HTTP\/1\.1 431 [\s\S]*\r\n\r\n$/, "one 431, nothing after it");
    });
  });
  test("maxHeaderSize raises it", async () => {
    await withServer({ maxHeaderSize: 32_768 }, async (server) => {
      assert.equal((await rawRequest(server.port, "GET", "/nums.txt", bigHeader)).status, 200);
    });
  });
});

describe("max connections", () => {
  /** A connection that has been answered once and is kept alive. */
  function answered(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1" });
      socket.once("data", () => resolve(socket));
      socket.once("close", () => reject(new Error("closed without an answer")));
      socket.write("GET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    });
  }

  test("past the limit a connection is closed unanswered; a freed slot is usable again", async () => {
    await withServer({ maxConnections: 5 }, async (server) => {
      const open = await Promise.all(Array.from({ length: 5 }, () => answered(server.port)));
      try {
        await assert.rejects(answered(server.port), /closed without an answer/);
        open.pop()!.destroy();
        // The server frees the slot when it sees the close, which no event here
        // announces: try until a connection is answered.
        let again: Socket | undefined;
        const freed = await waitFor(async () => (again = await answered(server.port).catch(() => undefined)) !== undefined);
        assert.ok(freed && again !== undefined, "the freed slot was never usable again");
        open.push(again);
      } finally {
        for (const s of open) s.destroy();
      }
    });
  });
});

describe("request timeout", () => {
  test("a request whose body never completes is cut at requestTimeout", async () => {
    await withServer({ headersTimeout: 300, requestTimeout: 600 }, async (server) => {
      const started = performance.now();
      const answer = await new Promise<string>((resolve) => {
        const socket = connect({ port: server.port, host: "127.0.0.1" });
        let got = "";
        const trickle = setInterval(() => socket.write("x"), 100);
        // A deadline for a broken build, not a bound on the timeout: a connection
        // still open after it was never cut.
        const deadline = setTimeout(() => {
          got = "never cut";
          socket.destroy();
        }, 30_000);
        socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
        socket.on("error", () => {});
        socket.on("close", () => {
          clearInterval(trickle);
          clearTimeout(deadline);
          resolve(got);
        });
        // The head is complete at once; the 100-byte body never is. A GET is
        // answered without waiting for it, but the connection cannot be reused
        // until the body ends, so only the request timeout frees it.
        socket.write("GET /nums.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
      });
      const lasted = performance.now() - started;
      assert.match(answer, /^HTTP\/1\.1 (200|408) /);
      // A lower bound only: timers never fire early, and a busy machine only makes it later.
      assert.ok(lasted >= 550, `cut after ${Math.round(lasted)} ms, before the request timeout`);
    });
  });
});

describe("options and flags", () => {
  test("bad limits are OptionErrors at startup", async () => {
    for (const bad of [
      { maxHeaderSize: 100 },
      { maxUrlLength: 0 },
      { maxConnections: -1 },
      { maxConnections: 1.5 },
      { sendTimeout: -1 },
      { sendTimeout: 0.5 },
    ]) {
      await assert.rejects(startServer({ root: dir, ...bad }), OptionError, JSON.stringify(bad));
    }
  });

  test("the flags set serve()'s options, in its units", () => {
    const got = parseCommandLine([
      "--max-header-size",
      "32768",
      "--max-url-length=100",
      "--max-connections",
      "0",
      "--max-ranges",
      "5",
      "--headers-timeout",
      "2.5",
      "--request-timeout",
      "60",
      "--keep-alive-timeout",
      "0.25",
      "--shutdown-timeout=1",
      "--send-timeout",
      "45",
    ]);
    assert.equal(got.kind, "run");
    assert.deepEqual(got.kind === "run" ? got.options : undefined, {
      maxHeaderSize: 32768,
      maxUrlLength: 100,
      maxConnections: 0,
      maxRanges: 5,
      headersTimeout: 2500,
      requestTimeout: 60_000,
      keepAliveTimeout: 250,
      shutdownTimeout: 1000,
      sendTimeout: 45_000,
    });
  });

  test("bad flag values are one line each", () => {
    const rows: [string[], string][] = [
      [["--max-header-size", "100"], "invalid --max-header-size '100': must be a whole number from 1024 to 16777216"],
      [["--max-connections", "-1"], "option --max-connections needs a value: --max-connections N"],
      [["--max-ranges", "x"], "invalid --max-ranges 'x': must be a whole number from 0 to 10000"],
      [["--headers-timeout", "10s"], "invalid --headers-timeout '10s': must be seconds, like 10 or 2.5"],
      [["--keep-alive-timeout", ".5"], "invalid --keep-alive-timeout '.5': must be seconds, like 10 or 2.5"],
    ];
    for (const [argv, message] of rows) assert.deepEqual(parseCommandLine(argv), { kind: "error", message }, argv.join(" "));
  });

  test("the CLI applies them: --max-url-length 50", async () => {
    const w = await startCli(["0", "-b", "127.0.0.1", "-d", dir, "-q", "--max-url-length", "50"]);
    try {
      assert.equal((await rawRequest(w.port, "GET", longTarget(51))).status, 414);
      assert.equal((await rawRequest(w.port, "GET", longTarget(50))).status, 200);
    } finally {
      await w.stop();
    }
  });
});
