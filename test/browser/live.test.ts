/**
 * `--live` in Debian's Chromium (playwright-core): a saved page starts a reload
 * (the delay from the save to the browser's request is printed: median and 95th
 * percentile over 20 edits); a stylesheet edit applies without navigation and
 * keeps the scroll position; 1,000 files changed at once give one reload; a
 * page whose </head> is past 64 KiB, a page under `Content-Security-Policy:
 * script-src 'self'`, and brotli and gzip clients all reload.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { type RunningServer, type ServeOptions, serve } from "../../src/index.js";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";

const root = mkdtempSync(join(tmpdir(), "wharf-live-browser-"));
const page = (title: string, extra = ""): string =>
  `<!doctype html><html><head><title>${title}</title><link rel="stylesheet" href="/css/a.css">${extra}</head>` +
  `<body><div style="height:5000px">tall</div><input id="field"></body></html>`;
writeFileSync(join(root, "index.html"), page("v0"));
writeFileSync(join(root, "big.html"), page("big", `<!-- ${"x".repeat(70 * 1024)} -->`));
mkdirSync(join(root, "css"));
writeFileSync(join(root, "css", "a.css"), "body { color: rgb(255, 0, 0); }");
mkdirSync(join(root, "many"));

let browser: Browser | undefined;
const servers: RunningServer[] = [];
before(async () => {
  if (skipWithoutChromium === false) browser = await chromium.launch(launchOptions());
});
after(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  rmSync(root, { recursive: true, force: true });
});

async function start(options: ServeOptions = {}): Promise<string> {
  const server = await serve({ root, port: 0, host: "127.0.0.1", live: true, log: false, ...options });
  servers.push(server);
  return `http://127.0.0.1:${server.port}/`;
}

/** Opens `url` and waits until its event stream is connected; counts loads in sessionStorage. */
async function open(url: string, headers: Record<string, string> = {}): Promise<Page> {
  const context = await browser!.newContext({ extraHTTPHeaders: headers });
  const p = await context.newPage();
  await p.addInitScript(() => sessionStorage.setItem("loads", String(Number(sessionStorage.getItem("loads") ?? "0") + 1)));
  await p.goto(url, { waitUntil: "load" });
  await connected(p);
  return p;
}

async function connected(p: Page): Promise<void> {
  await p.waitForFunction(() => (window as unknown as { __wharfLive?: EventSource }).__wharfLive?.readyState === 1, undefined, {
    timeout: 20_000,
  });
}

const loads = (p: Page): Promise<number> => p.evaluate(() => Number(sessionStorage.getItem("loads")));

/** Saves `file` and waits for the page to reload (its document requested again and loaded). */
async function reloadsOn(p: Page, file: string, content: string): Promise<number> {
  const before = await loads(p);
  const url = p.url();
  const requested = p.waitForRequest((r) => r.url() === url && r.isNavigationRequest(), { timeout: 20_000 });
  const saved = performance.now();
  writeFileSync(join(root, file), content);
  await requested;
  const ms = performance.now() - saved;
  await p.waitForLoadState("load");
  await connected(p);
  assert.equal(await loads(p), before + 1);
  return ms;
}

describe("live reload in Chromium", { skip: skipWithoutChromium, timeout: 180_000 }, () => {
  test("a saved page starts a reload: 20 edits, median and 95th percentile printed", async () => {
    const p = await open(await start());
    const delays: number[] = [];
    for (let i = 1; i <= 20; i++) delays.push(await reloadsOn(p, "index.html", page(`v${i}`)));
    assert.equal(await p.title(), "v20");
    delays.sort((a, b) => a - b);
    const p95 = delays[Math.ceil(0.95 * delays.length) - 1]!;
    const median = delays[Math.floor(delays.length / 2)]!;
    console.log(
      `# save → reload request: median ${median.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms over 20 edits (100 ms of it is the debounce)`,
    );
    // The figure is 300 ms; asserted loosely so that a loaded machine does not fail it.
    assert.ok(p95 < 5000, `p95 ${p95} ms`);
    await p.context().close();
  });

  test("a stylesheet edit applies without navigation; scroll and form state are kept", async () => {
    const p = await open(await start());
    await p.fill("#field", "typed");
    await p.evaluate(() => window.scrollTo(0, 1200));
    await p.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const navigations: string[] = [];
    p.on("framenavigated", (f) => navigations.push(f.url()));
    writeFileSync(join(root, "css", "a.css"), "body { color: rgb(0, 128, 0); }");
    await p.waitForFunction(() => getComputedStyle(document.body).color === "rgb(0, 128, 0)", undefined, { timeout: 20_000 });
    // The old link goes once the new one has loaded: one stylesheet left.
    await p.waitForFunction(() => document.querySelectorAll('link[rel="stylesheet"]').length === 1, undefined, { timeout: 20_000 });
    assert.deepEqual(navigations, []);
    assert.equal(await p.evaluate(() => (window as unknown as { marker: number }).marker), 42);
    assert.equal(await p.evaluate(() => window.scrollY), 1200);
    assert.equal(await p.inputValue("#field"), "typed");
    assert.equal(await loads(p), 1);
    await p.context().close();
  });

  test("1,000 files changed at once: one reload", async () => {
    const p = await open(await start());
    const before = await loads(p);
    for (let i = 0; i < 1000; i++) writeFileSync(join(root, "many", `f${i}.html`), String(Date.now()));
    await p.waitForFunction((n) => Number(sessionStorage.getItem("loads")) > n, before, { timeout: 20_000 });
    await p.waitForLoadState("load");
    await connected(p);
    // A later change is the next thing the page hears: had the burst made a second
    // reload, it would have come before this stylesheet swap and counted a load.
    writeFileSync(join(root, "css", "a.css"), "body { color: rgb(0, 0, 255); }");
    await p.waitForFunction(() => getComputedStyle(document.body).color === "rgb(0, 0, 255)", undefined, { timeout: 20_000 });
    assert.equal(await loads(p), before + 1);
    await p.context().close();
  });

  test("a page whose </head> is past 64 KiB reloads", async () => {
    const p = await open(`${await start()}big.html`);
    assert.equal(await p.evaluate(() => document.body.lastElementChild?.tagName), "SCRIPT");
    await reloadsOn(p, "index.html", page("other"));
    await p.context().close();
  });

  test("a page under Content-Security-Policy: script-src 'self' reloads", async () => {
    const url = await start({ headers: [{ source: "**", headers: { "Content-Security-Policy": "script-src 'self'" } }] });
    const p = await open(url);
    const violations: string[] = [];
    p.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await reloadsOn(p, "index.html", page("csp"));
    assert.deepEqual(violations, []);
    await p.context().close();
  });

  test("a restart: the page reconnects to the new server and reloads once", async () => {
    const first = await serve({ root, port: 0, host: "127.0.0.1", live: true, log: false });
    const url = `http://127.0.0.1:${first.port}/`;
    const p = await open(url);
    const before = await loads(p);
    await first.close();
    const second = await serve({ root, port: first.port, host: "127.0.0.1", live: true, log: false });
    servers.push(second);
    await p.waitForFunction((n) => Number(sessionStorage.getItem("loads")) > n, before, { timeout: 20_000 });
    await p.waitForLoadState("load");
    await connected(p);
    // Connected to the instance that served it: a stylesheet edit now swaps, no further reload.
    writeFileSync(join(root, "css", "a.css"), "body { color: rgb(1, 2, 3); }");
    await p.waitForFunction(() => getComputedStyle(document.body).color === "rgb(1, 2, 3)", undefined, { timeout: 20_000 });
    assert.equal(await loads(p), before + 1);
    await p.context().close();
  });

  test("nothing inside an iframe, nothing with data-wharf-live=off", async () => {
    writeFileSync(join(root, "off.html"), `<!doctype html><html data-wharf-live="off"><head><title>off</title></head><body></body></html>`);
    writeFileSync(
      join(root, "outer.html"),
      `<!doctype html><html><head><title>outer</title></head><body><iframe src="/off2.html"></iframe></body></html>`,
    );
    writeFileSync(join(root, "off2.html"), `<!doctype html><html><head><title>inner</title></head><body>inner</body></html>`);
    const url = await start();
    const context = await browser!.newContext();
    const p = await context.newPage();
    const scripts: string[] = [];
    p.on("requestfinished", (r) => {
      if (r.url().includes("/__wharf/live.js")) scripts.push(r.frame().url());
    });
    await p.goto(`${url}off.html`, { waitUntil: "load" });
    await p.waitForFunction(() =>
      (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).some((e) => e.name.includes("/__wharf/live.js")),
    );
    assert.equal(await p.evaluate(() => "__wharfLive" in window), false);
    await p.goto(`${url}outer.html`, { waitUntil: "load" });
    await connected(p);
    const inner = p.frames().find((f) => f.url().endsWith("/off2.html"))!;
    await inner.waitForFunction(() =>
      (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).some((e) => e.name.includes("/__wharf/live.js")),
    );
    assert.equal(await inner.evaluate(() => "__wharfLive" in window), false);
    assert.ok(
      scripts.some((u) => u.endsWith("/off2.html")),
      "the frame loaded the script and it stayed quiet",
    );
    await context.close();
  });

  for (const coding of ["br", "gzip"]) {
    test(`a ${coding} client reloads (the page is compressed after injection)`, async () => {
      // Over 1 KiB, so that it is compressed.
      const padded = (title: string): string => page(`${title} ${"pad ".repeat(400)}`);
      writeFileSync(join(root, "index.html"), padded(coding));
      const url = await start();
      const p = await open(url, { "accept-encoding": coding });
      const response = await p.reload({ waitUntil: "load" });
      assert.equal(response?.headers()["content-encoding"], coding);
      await connected(p);
      await reloadsOn(p, "index.html", padded(`${coding} again`));
      await p.context().close();
    });
  }
});
