/**
 * A directory with 100,000 entries: its listing is paged (1,000 rows a page in
 * HTML, at most 10,000 in any format), and only what a name-sorted page shows is
 * stat'ed, so the page, the time to render and hash it, and the server's memory
 * stay bounded. Timing is the bench's (bench/cases.mjs `listing-100k`).
 */
import assert from "node:assert/strict";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MAX_LISTING_ENTRIES, renderListing } from "../../src/responders/listing/html.js";
import type { ListedEntry as ListingEntry } from "../../src/responders/listing/order.js";
import { DEFAULT_PAGE_SIZE } from "../../src/responders/listing/query.js";
import { parseResponses, rawExchange } from "../helpers/raw.js";
import { MiB, rssBound, rssBytes, type ServerChild, startServerChild } from "./proc.js";

const FILES = 100_000;
const DIRS = 3;
// tmpfs when there is one: 100,000 files are created there in a second, not five.
const BASE = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

let dir = "";
let server: ServerChild;
before(async () => {
  dir = mkdtempSync(join(BASE, "wharf-listing-"));
  const big = join(dir, "big");
  mkdirSync(big);
  for (let i = 0; i < DIRS; i++) mkdirSync(join(big, `dir${i}`));
  for (let i = 0; i < FILES; i++) closeSync(openSync(join(big, `f${i}.txt`), "w"));
  server = await startServerChild({ root: dir });
});
after(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const rowsOf = (html: string): string[] => html.match(/<tr(?: data-entry)?><td class=name[ >].*<\/tr>/g) ?? [];

const get = async (target: string, headers = ""): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> => {
  const data = await rawExchange(
    server.port,
    `GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`,
    "127.0.0.1",
    30_000,
  );
  const [res] = parseResponses(data);
  assert.ok(res !== undefined, `no response to ${target}`);
  return res as { status: number; headers: Record<string, string>; body: Buffer };
};

describe("renderListing's page size", () => {
  const entry = (name: string, kind: ListingEntry["kind"] = "file"): ListingEntry => ({ name, kind, size: 1, mtimeMs: 0 });

  test("shows the first entries in listing order and says where they sit", () => {
    const entries = [entry("b10"), entry("b2"), entry("zdir", "directory"), entry("a"), entry("adir", "directory")];
    const html = renderListing({ segments: ["x"], entries, limit: 3 });
    const rows = rowsOf(html);
    assert.deepEqual(
      rows.map((r) =>
        />([^<]*)<\/bdi>|>(\.\.\/)</
          .exec(r)
          ?.slice(1)
          .find((x) => x !== undefined),
      ),
      ["../", "adir/", "zdir/", "a"],
    );
    assert.match(html, /<caption>1–3 of 5 entries<\/caption>/);
    assert.match(html, /<a rel=next href="\?limit=3&amp;offset=3">/);
  });
});

describe(`a directory of ${FILES.toLocaleString("en")} files`, () => {
  test(`the first page: ${DEFAULT_PAGE_SIZE.toLocaleString("en")} rows in name order, the count, a Link to the next, in bounded memory`, async (t) => {
    await server.settle();
    const rss0 = rssBytes(server.pid);
    const started = performance.now();
    const res = await get("/big/");
    const ms = performance.now() - started;
    assert.equal(res.status, 200);
    const html = res.body.toString();
    const rows = rowsOf(html);
    // `../`, then the 1,000 shown (the 3 directories first).
    assert.equal(rows.length, 1 + DEFAULT_PAGE_SIZE);
    assert.match(rows[1]!, />dir0\/</);
    assert.match(rows[DIRS + 1]!, />f0\.txt</);
    assert.match(rows[DIRS + 2]!, />f1\.txt</);
    assert.match(rows.at(-1)!, new RegExp(`>f${DEFAULT_PAGE_SIZE - DIRS - 1}\\.txt<`), "natural order: f996 is the last shown");
    assert.match(html, /<caption>1–1,000 of 100,003 entries<\/caption>/);
    assert.equal(res.headers["link"], `<?offset=${DEFAULT_PAGE_SIZE}>; rel="next"`);
    // Every shown file was stat'ed (size 0, a date), though the other 99,000 were not.
    assert.equal(html.match(/title="0 bytes"/g)?.length, DEFAULT_PAGE_SIZE - DIRS);

    await server.settle();
    const rss1 = rssBytes(server.pid);
    const again = await get("/big/?sort=mtime&order=desc&limit=10000");
    assert.equal(rowsOf(again.body.toString()).length, 1 + MAX_LISTING_ENTRIES);
    await server.settle();
    const rss2 = rssBytes(server.pid);
    t.diagnostic(
      `listing of ${FILES + DIRS} entries: first page ${Math.round(ms)} ms, ${(html.length / 1024).toFixed(0)} KiB; RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} -> ${(rss2 / MiB).toFixed(1)} MiB`,
    );
    // The snapshot of 100,000 names (about 10 MB of heap) and one page stay; the read
    // (names, paths, presort keys) peaks higher: 62 to 70 MiB of RSS measured on Node 20
    // (87 before names were read as strings and presort keys built from slices).
    assert.ok(rss1 - rss0 < rssBound(96 * MiB), `RSS grew ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);
    assert.ok(rss2 - rss1 < rssBound(80 * MiB), `RSS grew another ${((rss2 - rss1) / MiB).toFixed(1)} MiB on a date sort`);
  });

  test("the last page, in JSON and text, by offset", async () => {
    const json = await get("/big/?offset=99990", "Accept: application/json\r\n");
    assert.equal(json.status, 200);
    assert.equal(json.headers["content-type"], "application/json");
    const parsed = JSON.parse(json.body.toString()) as Array<{ name: string; type: string; size: number }>;
    assert.equal(parsed.length, FILES + DIRS - 99_990);
    assert.equal(parsed.at(-1)!.name, `f${FILES - 1}.txt`);
    assert.equal(json.headers["link"], `<?offset=${99_990 - MAX_LISTING_ENTRIES}>; rel="prev"`);
    const text = await get("/big/?format=text&q=f9999");
    assert.deepEqual(text.body.toString().split("\n"), ["f9999.txt", ...Array.from({ length: 10 }, (_, i) => `f9999${i}.txt`), ""]);
  });
});
