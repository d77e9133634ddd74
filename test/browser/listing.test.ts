/**
 * Issue 13 item 8: the listing in a real browser (Debian's Chromium via
 * playwright-core). At 1280 and 390 px, light and dark: axe-core finds no
 * violations, nothing scrolls sideways, the CSP blocks nothing of the page's own.
 * Sorting, filtering and paging work by clicking, with JavaScript on and off;
 * with it on, the filter also works as you type.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { type RunningServer, serve } from "../../src/server/serve.js";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
let dir = "";
let server: RunningServer | undefined;
let browser: Browser | undefined;
let base = "";

before(async () => {
  if (skipWithoutChromium !== false) return;
  dir = mkdtempSync(join(tmpdir(), "wharf-browse-ui-"));
  const big = join(dir, "many");
  mkdirSync(join(big, "photos"), { recursive: true });
  mkdirSync(join(big, "a folder with a rather long name that has to wrap on a phone"), { recursive: true });
  for (let i = 1; i <= 24; i++) {
    writeFileSync(join(big, `report-${i}.csv`), "x".repeat(i * 1000));
    const t = Date.UTC(2026, 0, i) / 1000;
    utimesSync(join(big, `report-${i}.csv`), t, t);
  }
  writeFileSync(join(big, "notes.txt"), "hello");
  mkdirSync(join(dir, "small"));
  for (const name of ["alpha.txt", "beta.txt", "gamma.md"]) writeFileSync(join(dir, "small", name), name);
  writeFileSync(join(dir, "small", "README.md"), "# Small\n\nA *README* with a [link](./alpha.txt) and `code`.\n");
  server = await serve({ root: dir, port: 0, host: "127.0.0.1", log: false, listing: { pageSize: 10, readme: true } });
  base = `http://127.0.0.1:${server.port}`;
  browser = await chromium.launch(launchOptions());
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

async function withPage<T>(
  options: { width: number; dark?: boolean; js?: boolean; bypassCSP?: boolean },
  f: (page: Page, errors: string[]) => Promise<T>,
): Promise<T> {
  const context = await browser!.newContext({
    viewport: { width: options.width, height: 800 },
    colorScheme: options.dark === true ? "dark" : "light",
    javaScriptEnabled: options.js ?? true,
    bypassCSP: options.bypassCSP ?? false,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  try {
    return await f(page, errors);
  } finally {
    await context.close();
  }
}

const names = (page: Page): Promise<string[]> =>
  page.$$eval("tbody tr[data-entry]:not([hidden]) bdi", (els) => els.map((e) => e.textContent ?? ""));

describe("the listing in Chromium", { skip: skipWithoutChromium }, () => {
  for (const width of [1280, 390]) {
    for (const dark of [false, true]) {
      for (const path of ["/many/", "/small/"]) {
        test(`${path} at ${width} px, ${dark ? "dark" : "light"}: no axe violations, no sideways scroll${width === 1280 && !dark ? ", no CSP errors" : ""}`, {
          timeout: 60_000,
        }, async () => {
          // The CSP is checked with it on; axe is injected with it bypassed (its script is not the page's).
          if (width === 1280 && !dark) {
            await withPage({ width, dark }, async (page, errors) => {
              await page.goto(base + path);
              assert.deepEqual(errors, [], "console errors (CSP violations) on the page");
            });
          }
          await withPage({ width, dark, bypassCSP: true }, async (page) => {
            await page.goto(base + path);
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            assert.ok(overflow <= 0, `scrolls sideways by ${overflow} px at ${width} px`);
            await page.evaluate(AXE);
            const violations = await page.evaluate(async () => {
              const result = await (
                globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; nodes: Array<{ html: string }> }> }> } }
              ).axe.run();
              return result.violations.map(
                (v) =>
                  `${v.id}: ${v.nodes
                    .map((n) => n.html)
                    .slice(0, 2)
                    .join(" | ")}`,
              );
            });
            assert.deepEqual(violations, []);
          });
        });
      }
    }
  }

  for (const js of [true, false]) {
    test(`sort, filter and page by clicking, JavaScript ${js ? "on" : "off"}`, { timeout: 60_000 }, async () => {
      await withPage({ width: 1280, js }, async (page) => {
        await page.goto(`${base}/many/`);
        assert.equal(await page.textContent("caption"), "1–10 of 27 entries");
        // Sort by size: the header link; largest first, directories still first.
        await page.click("th.size a");
        assert.equal(new URL(page.url()).search, "?sort=size&order=desc");
        assert.deepEqual((await names(page)).slice(0, 3), [
          "a folder with a rather long name that has to wrap on a phone/",
          "photos/",
          "report-24.csv",
        ]);
        assert.equal(await page.getAttribute("th.size", "aria-sort"), "descending");
        // Page on: the next link keeps the order.
        await page.click("a[rel=next]");
        assert.equal(new URL(page.url()).search, "?sort=size&order=desc&offset=10");
        assert.equal(await page.textContent("caption"), "11–20 of 27 entries");
        assert.equal((await names(page))[0], "report-16.csv");
        await page.click("a[rel=prev]");
        assert.equal(new URL(page.url()).search, "?sort=size&order=desc");
        // Filter: the form, submitted with Enter; the sort is kept.
        await page.fill("input[name=q]", "REPORT-1");
        await page.press("input[name=q]", "Enter");
        await page.waitForURL(/q=REPORT-1/);
        assert.equal(new URL(page.url()).search, "?q=REPORT-1&sort=size&order=desc");
        assert.deepEqual(await names(page), [
          "report-19.csv",
          "report-18.csv",
          "report-17.csv",
          "report-16.csv",
          "report-15.csv",
          "report-14.csv",
          "report-13.csv",
          "report-12.csv",
          "report-11.csv",
          "report-10.csv",
        ]);
        assert.equal(await page.textContent("caption"), "1–10 of 11 entries matching “REPORT-1”");
        // Keyboard: Tab reaches the links in order; Enter follows one.
        await page.goto(`${base}/small/`);
        await page.keyboard.press("Tab");
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), "root /");
      });
    });
  }

  test("filter as you type on a one-page listing (JavaScript on)", { timeout: 30_000 }, async () => {
    await withPage({ width: 390 }, async (page) => {
      await page.goto(`${base}/small/`);
      await page.type("input[name=q]", "ALP");
      assert.deepEqual(await names(page), ["alpha.txt"]);
      assert.equal(new URL(page.url()).search, "", "no navigation");
      await page.fill("input[name=q]", "");
      await page.dispatchEvent("input[name=q]", "input");
      assert.equal((await names(page)).length, 4);
    });
  });
});
