/**
 * Uploading through the listing page in Chromium: the file input (with the
 * script: a PUT per file with progress), the plain form with JavaScript off
 * (multipart POST, 303 back to the listing), drag and drop, a folder with
 * --mkdir, the credentials check that runs before any byte is sent, and a
 * cross-site attack (simple-http-server PR 57): another origin's page posting a
 * form and a `fetch(..., { mode: "no-cors" })` to the upload server gets 403
 * and nothing is written.
 *
 * Chromium: see spa.test.ts.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { launchOptions, skipWithoutChromium } from "../helpers/browser.js";
import { startCli } from "../helpers/cli.js";

let base = "";
let browser: Browser | undefined;
before(async () => {
  base = mkdtempSync(join(tmpdir(), "wharf-upload-browser-"));
  if (skipWithoutChromium === false) browser = await chromium.launch(launchOptions());
});
after(async () => {
  await browser?.close();
  rmSync(base, { recursive: true, force: true });
});

let n = 0;
function freshRoot(): string {
  const root = join(base, `root${n++}`);
  mkdirSync(join(root, "inbox"), { recursive: true });
  writeFileSync(join(root, "nums.txt"), "123456789");
  return root;
}

const file = (name: string, text: string) => ({ name, mimeType: "text/plain", buffer: Buffer.from(text) });

test("file input with the script: one PUT per file, each with its progress and answer", {
  skip: skipWithoutChromium,
  timeout: 60_000,
}, async () => {
  const root = freshRoot();
  const server = await startCli(["0", "-b", "127.0.0.1", "-q", "--upload", "-d", root]);
  const page = await browser!.newPage();
  try {
    await page.goto(`${server.url}inbox/`);
    await page.setInputFiles("#upload-files", [file("a.txt", "alpha"), file("b c.txt", "beta")]);
    // Every upload done, the page reloads to list the new files.
    const reloaded = page.waitForEvent("load");
    await page.click("form[data-upload] button:not([data-folder])");
    await page.waitForSelector("form[data-upload][data-done]");
    assert.equal(await page.getAttribute("form[data-upload]", "data-done"), "2");
    const statuses = await page.$$eval("form[data-upload] li", (lis) => lis.map((li) => (li as HTMLElement).dataset["status"]));
    assert.deepEqual(statuses, ["201", "201"]);
    assert.equal(await page.$eval("form[data-upload] progress", (p) => (p as HTMLProgressElement).value), 5);
    await reloaded;
    assert.match(await page.content(), /b c\.txt/);
    // A second upload of the same name: the page shows the server's 409 and its detail.
    await page.setInputFiles("#upload-files", [file("a.txt", "again")]);
    await page.click("form[data-upload] button:not([data-folder])");
    await page.waitForSelector("form[data-upload] li[data-status='409']");
    assert.match((await page.textContent("form[data-upload] li[data-status='409']")) ?? "", /409 \/inbox\/a\.txt already exists/);
  } finally {
    await page.close();
    await server.stop();
  }
  assert.equal(readFileSync(join(root, "inbox", "a.txt"), "utf8"), "alpha");
  assert.equal(readFileSync(join(root, "inbox", "b c.txt"), "utf8"), "beta");
});

test("without JavaScript: the form posts multipart and lands back on the listing", {
  skip: skipWithoutChromium,
  timeout: 60_000,
}, async () => {
  const root = freshRoot();
  const server = await startCli(["0", "-b", "127.0.0.1", "-q", "--upload", "-d", root]);
  const context = await browser!.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}inbox/`);
    await page.setInputFiles("#upload-files", [file("plain.txt", "no script"), file("two.txt", "2")]);
    await Promise.all([
      page.waitForURL(`${server.url}inbox/`, { waitUntil: "load" }),
      page.click("form[data-upload] button:not([data-folder])"),
    ]);
    assert.match(await page.content(), /plain\.txt/);
  } finally {
    await context.close();
    await server.stop();
  }
  assert.equal(readFileSync(join(root, "inbox", "plain.txt"), "utf8"), "no script");
  assert.equal(readFileSync(join(root, "inbox", "two.txt"), "utf8"), "2");
});

test("drag and drop onto the page, and a folder with --mkdir", { skip: skipWithoutChromium, timeout: 60_000 }, async () => {
  const root = freshRoot();
  const folder = join(base, `folder${n++}`, "photos");
  mkdirSync(join(folder, "2026"), { recursive: true });
  writeFileSync(join(folder, "a.jpg"), "A");
  writeFileSync(join(folder, "2026", "b.jpg"), "B");
  const server = await startCli(["0", "-b", "127.0.0.1", "-q", "--upload", "--mkdir", "-d", root]);
  const page = await browser!.newPage();
  try {
    await page.goto(`${server.url}inbox/`);
    // A drop as the browser delivers one: a DataTransfer holding files.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped bytes"], "dropped.txt", { type: "text/plain" }));
      document.body.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForSelector("form[data-upload][data-done='1']");
    // The folder button appears with the script; its input takes a whole directory.
    await page.goto(`${server.url}inbox/`);
    assert.equal(await page.isVisible("button[data-folder]"), true);
    await page.setInputFiles("form[data-upload] input[webkitdirectory]", folder);
    await page.waitForSelector("form[data-upload][data-done='2']");
  } finally {
    await page.close();
    await server.stop();
  }
  assert.equal(readFileSync(join(root, "inbox", "dropped.txt"), "utf8"), "dropped bytes");
  assert.equal(readFileSync(join(root, "inbox", "photos", "a.jpg"), "utf8"), "A");
  assert.equal(readFileSync(join(root, "inbox", "photos", "2026", "b.jpg"), "utf8"), "B");
});

test("the credentials check comes before any byte: a wrong password, no PUT is sent; signed in, the upload goes", {
  skip: skipWithoutChromium,
  timeout: 60_000,
}, async () => {
  const root = freshRoot();
  const server = await startCli(["0", "-b", "127.0.0.1", "--upload", "--upload-auth", "me:pa:ss", "-d", root]);
  // A wrong password: Chromium sends it once after the challenge, then gives the page the 401
  // (with none at all, headless Chromium waits for a sign-in dialog nobody answers).
  const anonymous = await browser!.newContext({ httpCredentials: { username: "me", password: "wrong" } });
  const signedIn = await browser!.newContext({ httpCredentials: { username: "me", password: "pa:ss" } });
  try {
    const page = await anonymous.newPage();
    const puts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "PUT") puts.push(r.url());
    });
    await page.goto(`${server.url}inbox/`);
    await page.setInputFiles("#upload-files", [file("secret.txt", "x")]);
    await page.click("form[data-upload] button:not([data-folder])");
    await page.waitForFunction(() => /refused: 401/.test(document.querySelector("form[data-upload] output")?.textContent ?? ""));
    assert.deepEqual(puts, []);
    const ok = await signedIn.newPage();
    await ok.goto(`${server.url}inbox/`);
    await ok.setInputFiles("#upload-files", [file("secret.txt", "signed")]);
    await ok.click("form[data-upload] button:not([data-folder])");
    await ok.waitForSelector("form[data-upload][data-done='1']");
  } finally {
    await anonymous.close();
    await signedIn.close();
    await server.stop();
  }
  assert.equal(readFileSync(join(root, "inbox", "secret.txt"), "utf8"), "signed");
});

test("a cross-site form post and a no-cors fetch from another origin's page: 403, nothing written", {
  skip: skipWithoutChromium,
  timeout: 60_000,
}, async () => {
  const root = freshRoot();
  const evil = join(base, `evil${n++}`);
  mkdirSync(evil);
  const target = await startCli(["0", "-b", "127.0.0.1", "-q", "--upload", "--delete", "-d", root]);
  writeFileSync(
    join(evil, "index.html"),
    `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<form id=f method=post enctype="multipart/form-data" action="${target.url}inbox/"><input type=file name=file id=file><button>go</button></form>
</body></html>`,
  );
  // Another origin: localhost, not 127.0.0.1 (and another port).
  const attacker = await startCli(["0", "-b", "localhost", "-q", "-d", evil]);
  const page = await browser!.newPage();
  try {
    await page.goto(attacker.url);
    const statuses = await page.evaluate(async (url) => {
      const form = new FormData();
      form.append("file", new Blob(["pwned"]), "pwned.txt");
      // no-cors: the page cannot read the answer, but the request is sent; that is the attack.
      await fetch(`${url}inbox/`, { method: "POST", body: form, mode: "no-cors" });
      await fetch(`${url}nums.txt`, { method: "DELETE", mode: "no-cors" }).catch(() => undefined);
      return "sent";
    }, target.url);
    assert.equal(statuses, "sent");
    await page.setInputFiles("#file", [file("form.txt", "pwned")]);
    const [response] = await Promise.all([page.waitForNavigation(), page.click("#f button")]);
    assert.equal(response?.status(), 403);
  } finally {
    await page.close();
    await attacker.stop();
    await target.stop();
  }
  assert.equal(existsSync(join(root, "inbox", "pwned.txt")), false);
  assert.equal(existsSync(join(root, "inbox", "form.txt")), false);
  assert.equal(readFileSync(join(root, "nums.txt"), "utf8"), "123456789");
});
