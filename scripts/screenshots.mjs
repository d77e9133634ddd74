// Writes docs/screenshots/listing-*.png: the directory listing at 1280 and 390 px,
// light and dark, in Debian's Chromium (playwright-core), from a demo tree served
// by the built wharf. Run with `npm run screenshots` (builds first).
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../dist/index.js";

const OUT = fileURLToPath(new URL("../docs/screenshots/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "wharf-shots-"));
const site = join(dir, "datasets");
const day = (d) => Date.UTC(2026, 10, d, 9, 30) / 1000;
for (const [name, bytes, d] of [
  ["build", 0, 28],
  ["images", 0, 27],
  ["2026-11 survey.csv", 2_483_201, 26],
  ["2026-10 survey.csv", 2_310_112, 3],
  ["model.onnx", 48_211_968, 20],
  ["notes.txt", 912, 29],
  ["README.md", 0, 29],
  ["schema.json", 4_410, 12],
  ["run-2.log", 120_332, 14],
  ["run-10.log", 96_004, 15],
]) {
  const path = join(site, name);
  if (bytes === 0 && !name.includes(".")) mkdirSync(path, { recursive: true });
  else {
    mkdirSync(site, { recursive: true });
    writeFileSync(
      path,
      name === "README.md"
        ? "# Survey data\n\nMonthly exports of the survey, one CSV per month. See [schema.json](./schema.json) for the columns.\n"
        : Buffer.alloc(0),
    );
    if (bytes > 0) writeFileSync(path, Buffer.alloc(0)), (await import("node:fs")).truncateSync(path, bytes);
  }
  utimesSync(path, day(d), day(d));
}
const server = await serve({ root: dir, port: 0, host: "127.0.0.1", log: false, listing: { readme: true } });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
mkdirSync(OUT, { recursive: true });
try {
  for (const [width, height] of [
    [1280, 720],
    [390, 844],
  ]) {
    for (const scheme of ["light", "dark"]) {
      const page = await browser.newPage({ viewport: { width, height }, colorScheme: scheme });
      await page.goto(`http://127.0.0.1:${server.port}/datasets/`);
      const file = join(OUT, `listing-${width}-${scheme}.png`);
      await page.screenshot({ path: file });
      console.log(file);
      await page.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
