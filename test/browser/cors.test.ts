/**
 * CORS in a real browser: a page served by one wharf (http://127.0.0.1:A) fetches
 * from another (http://localhost:B, a different origin) that runs with --cors.
 * The requests carry headers that are not CORS-safelisted, so Chromium sends a
 * preflight first; the page must then be able to read the body and the exposed
 * headers. A credentialed request passes the preflight before Basic auth (which
 * a preflight never carries), and an origin that is not listed is refused.
 *
 * Chromium: see spa.test.ts.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";
import { type RunningCli, startCli } from "../helpers/cli.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-cors-"));
  mkdirSync(join(dir, "page"));
  mkdirSync(join(dir, "api"));
  writeFileSync(
    join(dir, "page", "index.html"),
    '<!doctype html><html><head><link rel="icon" href="data:,"></head><body>page</body></html>',
  );
  writeFileSync(join(dir, "api", "nums.txt"), "123456789");
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const startAt = (args: string[]): Promise<RunningCli> => startCli(args);

test("preflighted cross-origin fetches pass in Chromium, with and without credentials", {
  skip: skipWithoutChromium,
  timeout: 60_000,
}, async () => {
  const page = await startAt(["0", "-b", "127.0.0.1", "-q", "-d", join(dir, "page")]);
  const origin = page.url.replace(/\/$/, "");
  const open = await startAt(["0", "-b", "localhost", "--cors", "-d", join(dir, "api")]);
  const listed = await startAt(["0", "-b", "localhost", "--cors", origin, "--auth", "me:pw", "-d", join(dir, "api")]);
  const other = await startAt(["0", "-b", "localhost", "--cors", "https://elsewhere.example", "-q", "-d", join(dir, "api")]);
  const browser = await chromium.launch(launchOptions());
  try {
    const tab = await browser.newPage();
    await tab.goto(page.url, { waitUntil: "load" });
    const results = await tab.evaluate(
      async ([a, b, c]) => {
        const read = async (url: string, init: RequestInit) => {
          try {
            const res = await fetch(url, init);
            return {
              status: res.status,
              body: await res.text(),
              range: res.headers.get("content-range"),
              etag: res.headers.get("etag") !== null,
            };
          } catch (e) {
            return { error: String(e) };
          }
        };
        return {
          any: await read(`${a}nums.txt`, { headers: { range: "bytes=0-3", "x-requested-with": "wharf-test" } }),
          credentialed: await read(`${b}nums.txt`, {
            credentials: "include",
            headers: { authorization: `Basic ${btoa("me:pw")}`, range: "bytes=4-" },
          }),
          unlisted: await read(`${c}nums.txt`, { headers: { "x-requested-with": "wharf-test" } }),
        };
      },
      [open.url, listed.url, other.url],
    );
    assert.deepEqual(results.any, { status: 206, body: "1234", range: "bytes 0-3/9", etag: true });
    assert.deepEqual(results.credentialed, { status: 206, body: "56789", range: "bytes 4-8/9", etag: true });
    assert.match((results.unlisted as { error: string }).error, /TypeError: Failed to fetch/);
    // The browser really asked first: the preflights are in the servers' logs.
    // A line is written once its response has ended, so it may follow the answer: wait for it.
    assert.ok(await open.err.until(/"OPTIONS \/nums\.txt HTTP\/1\.1" 204/), open.stderr());
    assert.ok(await listed.err.until(/"OPTIONS \/nums\.txt HTTP\/1\.1" 204/), listed.stderr());
    assert.ok(await listed.err.until(/"GET \/nums\.txt HTTP\/1\.1" 206/), listed.stderr());
  } finally {
    await browser.close();
  }
});
