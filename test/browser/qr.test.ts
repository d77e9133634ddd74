/**
 * Issue 16 item 1: the listing page's QR code, as Chromium draws it, read back
 * by zbarimg from a screenshot: it is the LAN URL serve() names (with the secret
 * path and the directory's path), not the `localhost` the page was opened with,
 * and the page's CSP blocks nothing (the code is inline SVG with attribute
 * colours: no style attribute, no image, no script).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { type RunningServer, serve } from "../../src/server/serve.js";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";
import { decodeQr, skipWithoutZbar } from "../helpers/qr.js";

const skip = skipWithoutChromium || skipWithoutZbar;
const dir = mkdtempSync(join(tmpdir(), "wharf-qr-page-"));
mkdirSync(join(dir, "photos"));
writeFileSync(join(dir, "photos", "a.txt"), "a");
let browser: Browser | undefined;
const servers: RunningServer[] = [];

before(async () => {
  if (skip === false) browser = await chromium.launch(launchOptions());
});
after(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** The page at `url`: the QR code's screenshot decoded, and the console's errors. */
async function codeOnPage(url: string): Promise<{ decoded: string[]; errors: string[]; figures: number }> {
  const context = await browser!.newContext({ viewport: { width: 390, height: 900 }, colorScheme: "dark" });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    const res = await page.goto(url);
    assert.equal(res?.status(), 200);
    const figures = await page.locator("figure.qr").count();
    if (figures === 0) return { decoded: [], errors, figures };
    const box = await page.locator("svg.qr-code").boundingBox();
    assert.ok(box !== null && Math.abs(box.width - box.height) < 1 && box.width >= 100, `a square of some size: ${JSON.stringify(box)}`);
    const png = await page.locator("svg.qr-code").screenshot();
    return { decoded: decodeQr(png, "png"), errors, figures };
  } finally {
    await context.close();
  }
}

describe("the listing's QR code in Chromium", { skip }, () => {
  test("serve({ qr: true, secretPath: true }) on every interface: the LAN URL, never localhost", { timeout: 60_000 }, async () => {
    const server = await serve({ root: dir, port: 0, log: false, qr: true, secretPath: true });
    servers.push(server);
    const local = `http://localhost:${server.port}/${server.secretPath}/`;
    const root = await codeOnPage(local);
    assert.deepEqual(root.errors, [], "CSP violations or other errors");
    if (server.lanUrl === undefined) {
      // A machine on no private network: no code, rather than one for localhost.
      assert.equal(root.figures, 0);
      return;
    }
    assert.match(server.lanUrl, new RegExp(`^http://[^/]+:${server.port}/${server.secretPath}/$`));
    assert.ok(!server.lanUrl.includes("localhost") && !server.lanUrl.includes("127.0.0.1"));
    assert.deepEqual(root.decoded, [server.lanUrl]);
    const sub = await codeOnPage(`${local}photos/`);
    assert.deepEqual(sub.decoded, [`${server.lanUrl}photos/`]);
  });

  test("listing.qr given: each page's code is its directory under that base", { timeout: 60_000 }, async () => {
    const server = await serve({ root: dir, port: 0, host: "127.0.0.1", log: false, listing: { qr: "http://192.168.1.20:8000/base" } });
    servers.push(server);
    const sub = await codeOnPage(`${server.urls[0]}photos/`);
    assert.deepEqual(sub.errors, []);
    assert.deepEqual(sub.decoded, ["http://192.168.1.20:8000/base/photos/"]);
  });

  test("qr on, bound to loopback: no code on the page", { timeout: 60_000 }, async () => {
    const server = await serve({ root: dir, port: 0, host: "127.0.0.1", log: false, qr: true });
    servers.push(server);
    assert.equal(server.lanUrl, undefined);
    assert.equal((await codeOnPage(server.urls[0]!)).figures, 0);
  });
});
