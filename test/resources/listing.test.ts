/**
 * A directory with 100,000 entries: its listing is capped (the first 10,000 in
 * listing order, then a row saying how many more), so the page, the time to
 * render and hash it, and the server's memory stay bounded.
 */
import assert from "node:assert/strict";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MAX_LISTING_ENTRIES, renderListing } from "../../src/listing/html.js";
import type { ListedEntry as ListingEntry } from "../../src/listing/order.js";
import { rawExchange, parseResponses } from "../helpers/raw.js";
import { MiB, type ServerChild, rssBytes, startServerChild } from "./proc.js";

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

const rowsOf = (html: string): string[] => html.match(/<tr><td class=name[ >].*<\/tr>/g) ?? [];

describe("the listing cap", () => {
  const entry = (name: string, kind: ListingEntry["kind"] = "file"): ListingEntry => ({ name, kind, size: 1, mtimeMs: 0 });

  test("shows the first entries in listing order and counts the rest", () => {
    const entries = [entry("b10"), entry("b2"), entry("zdir", "directory"), entry("a"), entry("adir", "directory")];
    const html = renderListing({ segments: ["x"], entries, limit: 3 });
    const rows = rowsOf(html);
    assert.deepEqual(
      rows.map((r) => />([^<]*)<\/bdi>|>(\.\.\/)<|colspan=3>([^<]*)</.exec(r)?.slice(1).find((x) => x !== undefined)),
      ["../", "adir/", "zdir/", "a", "2 more entries not shown (a listing shows the first 3)"],
    );
  });

  test("directories alone can fill it", () => {
    const entries = [entry("f"), entry("d2", "directory"), entry("d1", "directory")];
    const rows = rowsOf(renderListing({ segments: [], entries, limit: 1 }));
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /d1\//);
    assert.match(rows[1]!, /2 more entries not shown/);
  });

  test("no note when everything fits, one entry is 'entry'", () => {
    assert.doesNotMatch(renderListing({ segments: [], entries: [entry("a")], limit: 1 }), /not shown/);
    assert.match(renderListing({ segments: [], entries: [entry("a"), entry("b")], limit: 1 }), /1 more entry not shown/);
  });

  test(`a directory of ${FILES.toLocaleString("en")} files answers with ${MAX_LISTING_ENTRIES.toLocaleString("en")} rows, in bounded memory`, async (t) => {
    await server.settle();
    const rss0 = rssBytes(server.pid);
    const started = performance.now();
    const data = await rawExchange(server.port, "GET /big/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "127.0.0.1", 30_000);
    const ms = performance.now() - started;
    const [res] = parseResponses(data);
    assert.equal(res?.status, 200);
    const html = res!.body.toString();
    const rows = rowsOf(html);
    // `../`, then the 10,000 shown (the 3 directories first), then the note.
    assert.equal(rows.length, 1 + MAX_LISTING_ENTRIES + 1);
    assert.match(rows[1]!, />dir0\/</);
    assert.match(rows[DIRS + 1]!, />f0\.txt</);
    assert.match(rows[DIRS + 2]!, />f1\.txt</);
    assert.match(rows.at(-2)!, new RegExp(`>f${MAX_LISTING_ENTRIES - DIRS - 1}\\.txt<`), "natural order: f9996 is the last shown");
    assert.match(rows.at(-1)!, new RegExp(`${(FILES + DIRS - MAX_LISTING_ENTRIES).toLocaleString("en")} more entries not shown`));
    assert.ok(html.length < 3 * MiB, `a ${(html.length / MiB).toFixed(1)} MiB page`);

    await server.settle();
    const rss1 = rssBytes(server.pid);
    // Listed again once the revalidation window has passed: memory does not pile up.
    await new Promise((r) => setTimeout(r, 600));
    const again = parseResponses(await rawExchange(server.port, "GET /big/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "127.0.0.1", 30_000))[0];
    assert.equal(again?.body.length, res!.body.length);
    await server.settle();
    const rss2 = rssBytes(server.pid);
    t.diagnostic(`listing of ${FILES + DIRS} entries: ${Math.round(ms)} ms, ${(html.length / 1024).toFixed(0)} KiB page, RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} -> ${(rss2 / MiB).toFixed(1)} MiB`);
    // Reading the directory costs memory in proportion to it while it is read
    // (100,000 names and stats, about 30 MB of heap); what stays is one 2 MB page.
    // Without the cap the page alone would be 20 MB, twice that as a string.
    assert.ok(rss1 - rss0 < 80 * MiB, `RSS grew ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);
    assert.ok(rss2 - rss1 < 16 * MiB, `RSS grew another ${((rss2 - rss1) / MiB).toFixed(1)} MiB on the second listing`);
  });
});
