/**
 * A History API single-page app (test/fixtures/spa) served by `wharf -s`: headless
 * Chromium opens a deep link, moves around with pushState, reloads a deep link and
 * goes back, and the router sees the right path every time; assets and JSON
 * requests that miss still get their 404.
 *
 * Chromium is Debian's (/usr/bin/chromium, installed by .ci/run), driven by
 * playwright-core; no browser is downloaded. Without it the test is skipped on a
 * developer's machine and fails in CI, where it must run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";
import { startCli } from "../helpers/cli.js";

const FIXTURE = fileURLToPath(new URL("../../../test/fixtures/spa", import.meta.url));

async function startAt(args: string[]): Promise<string> {
  return (await startCli(args)).url;
}

test("a History API app deep-links, navigates, reloads and goes back under wharf -s", {
  skip: skipWithoutChromium,
  timeout: 60_000,
}, async () => {
  const base = await startAt(["0", "-b", "127.0.0.1", "-q", "-s", "-d", FIXTURE]);
  const browser = await chromium.launch(launchOptions());
  try {
    const page = await browser.newPage();
    const route = (): Promise<string | null> => page.textContent("#route");

    // Opening a deep link: the server answers index.html, the router renders /users/42.
    const first = await page.goto(`${base}users/42`, { waitUntil: "load", timeout: 20_000 });
    assert.equal(first?.status(), 200);
    assert.equal(first?.headers()["content-type"], "text/html; charset=utf-8");
    await page.waitForFunction(() => document.title !== "loading");
    assert.equal(await route(), "user 42");

    // pushState navigation: no request for a page, no reload.
    await page.click('a[href="/settings/profile"]');
    assert.equal(await route(), "settings profile");
    assert.equal(new URL(page.url()).pathname, "/settings/profile");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("loads")), "1");

    // Reloading the deep link the app pushed: the server must answer it too.
    const reloaded = await page.reload({ waitUntil: "load" });
    assert.equal(reloaded?.status(), 200);
    assert.equal(await route(), "settings profile");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("loads")), "2");

    // Back to the first deep link.
    await page.goBack({ waitUntil: "load" });
    assert.equal(new URL(page.url()).pathname, "/users/42");
    assert.equal(await route(), "user 42");

    // Requests that are not navigations keep their 404.
    const misses = await page.evaluate(async () => ({
      asset: (await fetch("/missing.js")).status,
      json: (await fetch("/api/items", { headers: { accept: "application/json" } })).status,
      fetchDefault: (await fetch("/settings/profile")).status,
      script: await new Promise<string>((resolve) => {
        const s = document.createElement("script");
        s.src = "/no-such-chunk.js";
        s.onload = () => resolve("loaded");
        s.onerror = () => resolve("error");
        document.head.append(s);
      }),
    }));
    assert.deepEqual(misses, { asset: 404, json: 404, fetchDefault: 404, script: "error" });
  } finally {
    await browser.close();
  }
});
