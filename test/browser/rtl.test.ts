/**
 * Right-to-left names read as file managers and Python's listing show them:
 * `مرحبا.txt` is the Arabic word, then `.txt`, left to right. A bare `<bdi>` (or
 * `dir="auto"`) takes its direction from the first strong character, so the
 * Arabic made the whole name right-to-left and Chromium drew `txt.مرحبا`. The
 * isolation stays (a name cannot reorder its row), with a left-to-right base.
 *
 * Checked where it matters, in Chromium's layout: the boxes of the two parts of
 * the rendered name, from a Range over the text node.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { renderListing } from "../../src/responders/listing/html.js";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";

let browser: Browser | undefined;
before(async () => {
  if (skipWithoutChromium === false) browser = await chromium.launch(launchOptions());
});
after(async () => browser?.close());

/** For each name in the listing: the left edges of its leading word and of its extension, in CSS pixels. */
async function layout(names: readonly string[]): Promise<{ name: string; word: number; ext: number }[]> {
  const page = await browser!.newPage();
  try {
    const html = renderListing({ segments: [], entries: names.map((name) => ({ name, kind: "file", size: 1, mtimeMs: 0 })) });
    await page.setContent(html, { waitUntil: "load" });
    return await page.evaluate(() =>
      [...document.querySelectorAll("td.name a bdi")].map((bdi) => {
        const text = bdi.firstChild as Text;
        const value = text.data;
        const dot = value.lastIndexOf(".");
        const box = (start: number, end: number): number => {
          const range = document.createRange();
          range.setStart(text, start);
          range.setEnd(text, end);
          return range.getBoundingClientRect().left;
        };
        return { name: value, word: box(0, dot), ext: box(dot + 1, value.length) };
      }),
    );
  } finally {
    await page.close();
  }
}

const RTL_NAMES = ["مرحبا.txt", "שלום.md", "سلام دنیا.tar"];

test("a right-to-left name keeps its extension on the right", { skip: skipWithoutChromium, timeout: 60_000 }, async () => {
  const rows = await layout(RTL_NAMES);
  assert.deepEqual(rows.map((r) => r.name).sort(), [...RTL_NAMES].sort());
  for (const row of rows) {
    assert.ok(
      row.ext > row.word,
      `${row.name}: extension at x=${row.ext}, the word at x=${row.word}; want the extension to the right (read as ${row.name.split(".").at(-1)}.… otherwise)`,
    );
  }
});

test("a left-to-right name is unchanged", { skip: skipWithoutChromium, timeout: 60_000 }, async () => {
  const [row] = await layout(["hello.txt"]);
  assert.ok(row!.ext > row!.word);
});

test("the heading's path reads left to right too", { skip: skipWithoutChromium, timeout: 60_000 }, async () => {
  const page = await browser!.newPage();
  try {
    await page.setContent(renderListing({ segments: ["مرحبا", "docs"], entries: [] }), { waitUntil: "load" });
    // `/مرحبا/docs/`: the Arabic segment first, then docs, as in the address bar.
    const [arabic, docs] = await page.evaluate(() => {
      const text = document.querySelector("h1 bdi")!.firstChild as Text;
      const left = (start: number, end: number): number => {
        const range = document.createRange();
        range.setStart(text, start);
        range.setEnd(text, end);
        return range.getBoundingClientRect().left;
      };
      const at = text.data.indexOf("docs");
      return [left(1, at - 1), left(at, at + 4)];
    });
    assert.ok(docs! > arabic!, `docs at x=${docs}, the Arabic segment at x=${arabic}`);
  } finally {
    await page.close();
  }
});
