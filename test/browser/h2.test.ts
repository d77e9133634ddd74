/**
 * A real browser over HTTP/2: headless Chromium loads a page, its stylesheet and
 * its script from `wharf --tls`, trusting exactly the development certificate the
 * banner names (by its public key, `--ignore-certificate-errors-spki-list`), and
 * the Resource Timing entries say every one came over h2.
 *
 * Chromium is Debian's (/usr/bin/chromium, installed by .ci/run), driven by
 * playwright-core; no browser is downloaded. Without it the test is skipped on a
 * developer's machine and fails in CI, where it must run.
 */
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";
import { startCli } from "../helpers/cli.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-browser-"));
  const site = join(dir, "site");
  mkdirSync(site);
  writeFileSync(
    join(site, "index.html"),
    '<!doctype html><html><head><link rel="icon" href="data:,"><link rel="stylesheet" href="style.css"><script src="app.js" defer></script></head><body><p>wharf</p></body></html>',
  );
  // Over 1 KiB each, so they are compressed (issue 4: a browser loads compressed pages).
  const padding = `/* ${"wharf ".repeat(300)} */\n`;
  writeFileSync(join(site, "style.css"), `${padding}p { color: rgb(1, 2, 3); }\n`);
  writeFileSync(join(site, "app.js"), `${padding}document.body.dataset["ran"] = "yes";\n`);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("Chromium loads a page, its CSS and its JS over h2 from wharf --tls", { skip: skipWithoutChromium, timeout: 60_000 }, async () => {
  const w = await startCli(["0", "-b", "localhost", "-q", "--tls", "-d", join(dir, "site")], {
    env: { XDG_CONFIG_HOME: join(dir, "config") },
  });
  const banner = w.stdout();
  const url = /https:\/\/localhost:\d+\//.exec(banner)?.[0];
  assert.ok(url, banner);
  // The browser trusts the certificate the banner printed, and nothing else.
  const pem = readFileSync(join(dir, "config", "wharf", "dev-cert.pem"), "utf8");
  const x509 = new X509Certificate(pem);
  assert.ok(banner.includes(`certificate SHA-256 ${x509.fingerprint256}`), banner);
  const spki = createHash("sha256")
    .update(x509.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");

  const browser = await chromium.launch(launchOptions(["--disable-quic", `--ignore-certificate-errors-spki-list=${spki}`]));
  try {
    const page = await browser.newPage();
    const encodings: Record<string, string | undefined> = {};
    page.on("response", (r) => {
      encodings[new URL(r.url()).pathname] = r.headers()["content-encoding"];
    });
    const response = await page.goto(url, { waitUntil: "load", timeout: 20_000 });
    assert.equal(response?.status(), 200);
    const seen = await page.evaluate(() => ({
      page: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).nextHopProtocol,
      resources: performance
        .getEntriesByType("resource")
        .map((e) => [new URL(e.name).pathname, (e as PerformanceResourceTiming).nextHopProtocol]),
      color: getComputedStyle(document.querySelector("p")!).color,
      ran: document.body.dataset["ran"],
    }));
    assert.equal(seen.page, "h2", "the page came over h2");
    assert.deepEqual(Object.fromEntries(seen.resources), { "/style.css": "h2", "/app.js": "h2" });
    assert.equal(seen.color, "rgb(1, 2, 3)", "the stylesheet applied");
    assert.equal(seen.ran, "yes", "the script ran");
    // Chromium offers br (and zstd); wharf prefers br: decoded by the browser, applied above.
    assert.deepEqual({ css: encodings["/style.css"], js: encodings["/app.js"] }, { css: "br", js: "br" });
  } finally {
    await browser.close();
  }
});
