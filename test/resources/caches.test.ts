/**
 * The caches are weighed, not counted (issue 10, item 4). A client that spells
 * the same 40 files 10,000 ways (`/x1/../f7.bin`, `//x2/..//f7.bin`,
 * `/x3/%2e%2e/f7.bin`), asks for one big directory under 200 names, or sends
 * 1,000 distinct 12 KB `Accept-Encoding` values must not make the server keep
 * more than its budgets: file bodies within `cacheBytes` (default 32 MiB),
 * resolved URLs within 16 MiB, per-file metadata within 4 MiB. Before the fix,
 * every spelling was its own cache entry holding its own copy of a 1 MiB body
 * (about 1 MiB of RSS per request, HEAD included), and every long header value
 * was a memo key.
 *
 * The server runs in a child process; memory is read after it collected
 * garbage. While the flood runs, RSS is checked every 100 requests against a
 * loose ceiling (3x the bound) only so that a regression fails fast instead of
 * exhausting the machine; the assertions are on the settled numbers.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MiB, rssBytes, type ServerChild, startServerChild } from "./proc.js";

// tmpfs when there is one: 40 MiB of fixtures are written in no time there.
const BASE = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

const FILES = 40;
const FILE_BYTES = MiB; // the per-file limit (cacheFileBytes), so each is held in memory
const TEXTS = 50;
const DIR_ENTRIES = 2_000;

/**
 * What the server may keep after garbage collection, above its warmed-up
 * baseline: the three budgets (docs/reliability.md) plus a margin. Heap and
 * array buffers measure what is kept; RSS also counts pages the allocator keeps
 * after the bodies it held were freed (up to about 45 MiB more after the files
 * test here), hence its larger margin. Measured with the fix, 2 cores, Node 20:
 * heap and buffers +1.5 MiB, RSS +40 to +66 MiB (files); +0.6 and +0.4 MiB
 * (listing); +0.2 and +3.3 MiB (Accept-Encoding). Before it: +94 MiB of heap
 * and buffers, RSS past 300 MiB in 500 requests (files); +141 MiB heap for 300
 * listing aliases; +5 to +12 MiB of memo keys (Accept-Encoding).
 */
// 40 files do not fit: each is read again and again, and each read is a new body
// (before the fix, every spelling's entry kept its own).
const CACHE_BYTES = 32 * MiB; // cacheBytes, the default
const RESOLVED_BYTES = 16 * MiB; // resolved URLs and aliases
const METADATA_BYTES = 4 * MiB; // ETags and per-file metadata
const HEAP_BOUND = CACHE_BYTES + RESOLVED_BYTES + METADATA_BYTES + 8 * MiB;
const BOUND = HEAP_BOUND + 48 * MiB;

let dir = "";
before(() => {
  dir = mkdtempSync(join(BASE, "wharf-caches-"));
  // Distinct bytes per file, so no two bodies could ever be shared by accident.
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `f${i}.bin`), Buffer.alloc(FILE_BYTES, i + 1));
  for (let i = 0; i < TEXTS; i++) writeFileSync(join(dir, `t${i}.txt`), `line ${i} of text to compress\n`.repeat(150));
  mkdirSync(join(dir, "big"));
  for (let i = 0; i < DIR_ENTRIES; i++) writeFileSync(join(dir, "big", `entry-with-a-long-name-${i}.txt`), "");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `count` distinct spellings, each naming what `path` names. */
function spellings(path: string, count: number, offset = 0): string[] {
  const name = path.slice(1);
  const forms = [
    (n: number) => `/x${n}/../${name}`,
    (n: number) => `//x${n}/..//${name}`,
    (n: number) => `/./x${n}/.././${name}`,
    (n: number) => `/x${n}/%2e%2e/${name}`,
  ];
  return Array.from({ length: count }, (_, i) => forms[(i + offset) % forms.length]!(i + offset));
}

interface Sent {
  readonly method: "GET" | "HEAD";
  readonly path: string;
  readonly headers?: Record<string, string>;
}

/**
 * HEAD requests for `paths`, pipelined 50 at a time on each of 8 connections
 * (a Node client would be the slower side by far); every answer must be `want`.
 * Every 100 requests, stops early if the server's RSS went past `ceiling`.
 */
async function pipelinedHeads(server: ServerChild, paths: readonly string[], want: number, ceiling: number): Promise<number> {
  let peak = 0;
  let next = 0;
  let failure: string | undefined;
  const batch = (socket: Socket, targets: readonly string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      let text = "";
      let answered = 0;
      const onData = (chunk: Buffer): void => {
        text += chunk.toString("latin1");
        let end: number;
        while ((end = text.indexOf("\r\n\r\n")) >= 0) {
          const status = Number(text.slice(9, 12));
          if (status !== want) failure ??= `HEAD ${targets[answered]}: got ${status}, want ${want}`;
          text = text.slice(end + 4);
          if (++answered === targets.length) {
            socket.off("data", onData);
            socket.off("error", reject);
            resolve();
          }
        }
      };
      socket.on("data", onData);
      socket.on("error", reject);
      socket.write(targets.map((t) => `HEAD ${t} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""));
    });
  const worker = async (): Promise<void> => {
    const socket = connect(server.port, "127.0.0.1");
    try {
      while (next < paths.length && failure === undefined) {
        const from = next;
        next = Math.min(paths.length, next + 50);
        await batch(socket, paths.slice(from, next));
        if (Math.floor(from / 100) !== Math.floor(next / 100)) {
          const rss = rssBytes(server.pid);
          peak = Math.max(peak, rss);
          if (rss > ceiling)
            failure ??= `RSS ${(rss / MiB).toFixed(0)} MiB after ${next} requests: past the ceiling of ${(ceiling / MiB).toFixed(0)} MiB`;
        }
      }
    } finally {
      socket.destroy();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.equal(failure, undefined);
  return peak;
}

/**
 * Sends `requests`, 8 at a time on keep-alive connections, and checks each
 * answer's status. Every 100 requests, stops early if the server's RSS went
 * past `ceiling`; returns the peak RSS seen.
 */
async function flood(server: ServerChild, requests: readonly Sent[], want: number, ceiling: number): Promise<number> {
  if (requests.length === 0) return 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let peak = 0;
  let next = 0;
  let failure: string | undefined;
  const one = (sent: Sent): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: server.port, agent, method: sent.method, path: sent.path, headers: sent.headers },
        (res) => {
          if (res.statusCode !== want) failure ??= `${sent.method} ${sent.path}: got ${res.statusCode}, want ${want}`;
          res.resume();
          res.on("end", resolve);
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (next < requests.length && failure === undefined) {
      const i = next++;
      await one(requests[i]!);
      if (i % 100 === 99) {
        const rss = rssBytes(server.pid);
        peak = Math.max(peak, rss);
        if (rss > ceiling)
          failure ??= `RSS ${(rss / MiB).toFixed(0)} MiB after ${i + 1} requests: past the ceiling of ${(ceiling / MiB).toFixed(0)} MiB`;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    agent.destroy();
  }
  assert.equal(failure, undefined);
  return peak;
}

/** Heap, array buffers and RSS of the settled server. */
async function measure(server: ServerChild): Promise<{ heap: number; buffers: number; rss: number }> {
  const { memory } = await server.settle();
  return { heap: memory.heapUsed, buffers: memory.arrayBuffers, rss: rssBytes(server.pid) };
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * Runs `attack` (and `heads`, pipelined) against a fresh server and asserts the
 * settled growth against `bound` (RSS) and `heapBound` (heap plus buffers).
 */
async function bounded(
  warm: readonly Sent[],
  attack: readonly Sent[],
  heads: readonly string[],
  bound: number,
  heapBound: number,
  revalidateMs = 500,
): Promise<void> {
  const want = 200;
  const server = await startServerChild({ root: dir, revalidateMs, cacheBytes: CACHE_BYTES });
  try {
    await flood(server, warm, want, Number.POSITIVE_INFINITY);
    const base = await measure(server);
    const ceiling = base.rss + 3 * bound;
    const peak = Math.max(await pipelinedHeads(server, heads, want, ceiling), await flood(server, attack, want, ceiling));
    const end = await measure(server);
    const held = end.heap + end.buffers - (base.heap + base.buffers);
    const grew = end.rss - base.rss;
    console.log(
      `# heap+buffers ${mib(base.heap + base.buffers)} -> ${mib(end.heap + end.buffers)} (+${mib(held)}), RSS ${mib(base.rss)} -> peak ${mib(peak)} -> ${mib(end.rss)} (+${mib(grew)})`,
    );
    assert.ok(held <= heapBound, `heap and buffers grew by ${mib(held)}, want at most ${mib(heapBound)}`);
    assert.ok(grew <= bound, `RSS grew by ${mib(grew)}, want at most ${mib(bound)}`);
  } finally {
    server.kill();
  }
}

describe("caches stay within their byte budgets", () => {
  test("10,000 spellings of 40 files (HEAD), and 400 more (GET), keep at most one body per file, within cacheBytes", async () => {
    const files = Array.from({ length: FILES }, (_, i) => `/f${i}.bin`);
    const warm = files.map((path): Sent => ({ method: "GET", path }));
    // 25 spellings of one file, then the next: 400 times a file that is not in memory
    // (40 do not fit), so 400 reads, each a new body.
    const heads = Array.from({ length: 10_000 }, (_, n) => spellings(files[Math.floor(n / 25) % FILES]!, 1, n)[0]!);
    // And GETs, spellings not seen before, round the files: each a read.
    const gets = Array.from({ length: 400 }, (_, n): Sent => ({ method: "GET", path: spellings(files[n % FILES]!, 1, 10_000 + n)[0]! }));
    await bounded(warm, gets, heads, BOUND, HEAP_BOUND);
  });

  test("200 aliases of a directory of 2,000 entries keep one rendered listing", async () => {
    const warm: Sent[] = [{ method: "GET", path: "/big/" }];
    const attack = spellings("/big/", 200).map((path): Sent => ({ method: "GET", path }));
    // One listing page is about 0.47 MiB; 200 of them, as before the fix, are 94 MiB.
    await bounded(warm, attack, [], BOUND, 24 * MiB);
  });

  test("1,000 distinct 12 KB Accept-Encoding values on 50 files are not memo keys", async () => {
    const texts = Array.from({ length: TEXTS }, (_, i) => `/t${i}.txt`);
    const header = (n: number): Record<string, string> => ({ "accept-encoding": `gzip, br;q=0.9, x-${n}-${"y".repeat(12_000)}` });
    const warm = texts.map((path, n): Sent => ({ method: "GET", path, headers: header(-1 - n) }));
    const attack = Array.from(
      { length: 1_000 },
      (_, n): Sent => ({ method: n % 2 === 0 ? "GET" : "HEAD", path: texts[n % TEXTS]!, headers: header(n) }),
    );
    // Before the fix: about 12 MiB of header strings kept as keys (20 per file).
    // A window longer than the test, so no entry is renewed (and its memo with it) midway.
    await bounded(warm, attack, [], BOUND, 6 * MiB, 60_000);
  });
});
