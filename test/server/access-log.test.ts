/**
 * The access log over a real server: every response is exactly one accurate line,
 * including the ones the parser or the URL-length check answer before any handler
 * runs (issue 10, item 19), and a user appears only once authentication accepted
 * the request (item 18).
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunningServer, ServeOptions } from "../../src/server/serve.js";
import { parseResponses, rawExchange } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";

let root = "";
before(() => {
  root = mkdtempSync(join(tmpdir(), "wharf-access-log-"));
  writeFileSync(join(root, "nums.txt"), "123456789");
  // One file per row that needs the cold (asynchronous) path: never cached before.
  for (const name of ["cold-te.txt", "cold-chunk.txt", "cold-pipe.txt"]) writeFileSync(join(root, name), "123456789");
  writeFileSync(join(root, "big.bin"), Buffer.alloc(32 * 1024 * 1024, 0x62));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A server whose lines are collected; `until(re)` waits (generous deadline) for a line matching `re`. */
async function logged(
  options: ServeOptions = {},
): Promise<{ server: RunningServer; lines: string[]; until(want: RegExp | ((lines: string[]) => boolean)): Promise<void> }> {
  const lines: string[] = [];
  const waiting = new Set<() => void>();
  const server = await startServer({
    root,
    log: (line) => {
      lines.push(line);
      for (const w of waiting) w();
    },
    ...options,
  });
  const until = (want: RegExp | ((lines: string[]) => boolean)): Promise<void> =>
    new Promise((resolve, reject) => {
      const holds = (): boolean => (typeof want === "function" ? want(lines) : lines.some((l) => want.test(l)));
      const check = (): void => {
        if (!holds()) return;
        waiting.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiting.delete(check);
        reject(new Error(`no line matching ${String(want)}; lines: ${JSON.stringify(lines)}`));
      }, 10_000);
      waiting.add(check);
      check();
    });
  return { server, lines, until };
}

/**
 * The lines one exchange produced: after it, a sentinel request on a new
 * connection is logged; every other line from then on belongs to the exchange.
 * A line is written when its response closes, which on a busy machine can come
 * after the sentinel's: so it also waits for the `want` lines the test expects
 * (an event, with a deadline), and a line too many before the sentinel still shows.
 */
async function linesOf(
  log: Awaited<ReturnType<typeof logged>>,
  bytes: string,
  sentinel: string,
  want: number,
): Promise<{ lines: string[]; statuses: number[] }> {
  const from = log.lines.length;
  const data = await rawExchange(log.server.port, Buffer.from(bytes, "latin1"));
  const statuses = parseResponses(data).map((r) => r.status);
  await rawExchange(log.server.port, `GET /nums.txt?${sentinel} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const exchange = (lines: string[]): string[] => lines.slice(from).filter((l) => !l.includes(`?${sentinel} `));
  await log.until(new RegExp(`\\?${sentinel} `));
  await log.until((lines) => exchange(lines).length >= want).catch(() => undefined); // too few: the assertion says so
  return { lines: exchange(log.lines), statuses };
}

const LINE = /^\S+Z 127\.0\.0\.1 /; // the default format's time and peer
const stripPrefix = (line: string): string => line.replace(LINE, "").replace(/ \d+\.\dms$/, " Nms");

describe("access log: requests refused before any handler", () => {
  // Small limits, so each refusal is quick to provoke.
  const options = { headersTimeout: 300, requestTimeout: 600, maxUrlLength: 64, maxHeaderSize: 1024 };
  const long = `/${"a".repeat(100)}`;
  const rows: { name: string; bytes: string; statuses: number[]; want: (string | RegExp)[] }[] = [
    { name: "400: not a request line", bytes: "GARBAGE\r\n\r\n", statuses: [400], want: ['"-" 400 0 Nms'] },
    {
      name: "400: a bad header field, with the request line it came with",
      bytes: "GET /nums.txt HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
      statuses: [400],
      want: ['"GET /nums.txt HTTP/1.1" 400 0 Nms'],
    },
    {
      name: "400: a request line with controls is escaped",
      bytes: "GET /\x1b[2J\x9b HTTP/1.1\r\n\r\n",
      statuses: [400],
      want: ['"GET /\\x1b[2J\\x9b HTTP/1.1" 400 0 Nms'],
    },
    {
      name: "431: header fields too large",
      bytes: `GET /nums.txt HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(2000)}\r\n\r\n`,
      statuses: [431],
      want: ['"GET /nums.txt HTTP/1.1" 431 0 Nms'],
    },
    {
      name: "414: a target longer than maxUrlLength",
      bytes: `GET ${long} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      statuses: [414],
      want: [new RegExp(`^"GET ${long} HTTP/1\\.1" 414 \\d+ Nms$`)],
    },
    { name: "408: a head never finished", bytes: "GET /nums.txt HTTP/1.1\r\nHost: x\r\n", statuses: [408], want: ['"-" 408 0 Nms'] },
    // The cold path had not written anything when the body's framing failed: the
    // 400 is what the client got, where the line used to say `200 0 ... (aborted)`.
    {
      name: "400: bad framing after the handler started (was logged 200 aborted)",
      bytes: "GET /cold-te.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
      statuses: [400],
      want: [/^"GET \/cold-te\.txt HTTP\/1\.1" 400 \d+ Nms$/],
    },
    {
      name: "400: a bad chunk size after the handler started",
      bytes: "POST /cold-chunk.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      statuses: [400],
      want: [/^"POST \/cold-chunk\.txt HTTP\/1\.1" 400 \d+ Nms$/],
    },
    {
      // The request before the garbage is answered first, whenever its answer is
      // ready (RFC 9112 §9.3.2: in order); then the 400, with a line of its own.
      name: "garbage pipelined behind a request still in flight: its 200 first, then 400",
      bytes: "GET /cold-pipe.txt HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n",
      statuses: [200, 400],
      want: ['"-" 400 0 Nms', '"GET /cold-pipe.txt HTTP/1.1" 200 9 Nms'],
    },
  ];
  let log: Awaited<ReturnType<typeof logged>>;
  before(async () => {
    log = await logged(options);
    // Warm nums.txt: its answers below are written at once (the hot path).
    await rawExchange(log.server.port, "GET /nums.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  });
  after(() => log.server.close());

  rows.forEach((row, i) => {
    test(row.name, async () => {
      const { lines, statuses } = await linesOf(log, row.bytes, `s${i}`, row.want.length);
      assert.deepEqual(statuses, row.statuses, `${JSON.stringify(row.bytes.slice(0, 80))}: statuses sent`);
      // Sorted: two lines are written as their responses close, in either order.
      const got = lines.map(stripPrefix).sort();
      assert.equal(
        got.length,
        row.want.length,
        `${JSON.stringify(row.bytes.slice(0, 80))}: got lines ${JSON.stringify(lines)}, want ${row.want.length}`,
      );
      row.want.forEach((want, j) => {
        if (typeof want === "string") assert.equal(got[j], want, `got ${JSON.stringify(got[j])}, want ${JSON.stringify(want)}`);
        else assert.match(got[j]!, want);
      });
    });
  });

  test("garbage after an answered keep-alive request: 400, and a line for each", async () => {
    const { lines, statuses } = await linesOf(log, "GET /nums.txt HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n", "ka", 2);
    assert.deepEqual(statuses, [200, 400]);
    // The 200's line is written when its response closes, which may come after the 400's.
    assert.deepEqual(lines.map(stripPrefix).sort(), ['"-" 400 0 Nms', '"GET /nums.txt HTTP/1.1" 200 9 Nms']);
  });
});

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;

describe("access log: the user, only once authenticated", () => {
  const request = (path: string, authorization?: string): string =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${authorization === undefined ? "" : `Authorization: ${authorization}\r\n`}\r\n`;
  const rows: { name: string; auth: boolean; authorization?: string; status: number; user: string }[] = [
    { name: "signed in: the user", auth: true, authorization: basic("me", "s3cret"), status: 200, user: "me" },
    { name: "a wrong password: no user (401)", auth: true, authorization: basic("me", "wrong"), status: 401, user: "-" },
    { name: "an unknown user: no user (401)", auth: true, authorization: basic("admin\u202e", "x"), status: 401, user: "-" },
    { name: "no credentials: no user (401)", auth: true, status: 401, user: "-" },
    { name: "no --auth: a sent Authorization names nobody", auth: false, authorization: basic("me", "s3cret"), status: 200, user: "-" },
  ];
  const servers: Record<string, Awaited<ReturnType<typeof logged>>> = {};
  before(async () => {
    servers["auth"] = await logged({ auth: "me:s3cret", logFormat: "common" });
    servers["none"] = await logged({ logFormat: "common" });
  });
  after(async () => {
    for (const s of Object.values(servers)) await s.server.close();
  });
  rows.forEach((row, i) => {
    test(row.name, async () => {
      const log = servers[row.auth ? "auth" : "none"]!;
      const path = `/nums.txt?u${i}`;
      const [response] = parseResponses(await rawExchange(log.server.port, request(path, row.authorization)));
      assert.equal(response?.status, row.status);
      await log.until(new RegExp(`\\?u${i} `));
      const line = log.lines.find((l) => l.includes(`?u${i} `))!;
      // Common Log Format: host ident user [time] "request" status bytes
      const user = /^\S+ - (\S+) \[/.exec(line)?.[1];
      assert.equal(user, row.user, `got user ${JSON.stringify(user)} in ${JSON.stringify(line)}, want ${JSON.stringify(row.user)}`);
    });
  });
});

describe("access log: requests never answered", () => {
  test("a request queued behind a download whose client hung up: 499 (aborted), not the 200 it never got", async () => {
    const log = await logged({ logFormat: "default" });
    try {
      await new Promise<void>((resolve) => {
        const socket = connect({ port: log.server.port, host: "127.0.0.1" });
        // Cut once the first answer has begun: the second request is still queued.
        socket.once("data", () => socket.destroy());
        socket.on("close", () => resolve()).on("error", () => undefined);
        socket.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /nums.txt?queued HTTP/1.1\r\nHost: x\r\n\r\n");
      });
      await log.until(/\?queued /);
      await log.until(/big\.bin/);
      const queued = log.lines.find((l) => l.includes("?queued "))!;
      assert.match(queued, /"GET \/nums\.txt\?queued HTTP\/1\.1" 499 0 \S+ \(aborted\)$/, queued);
      const big = log.lines.find((l) => l.includes("big.bin"))!;
      assert.match(big, /"GET \/big\.bin HTTP\/1\.1" 200 \d+ \S+ \(aborted\)$/, big);
    } finally {
      await log.server.close();
    }
  });
});
