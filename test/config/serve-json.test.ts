/**
 * serve.json files from serve-handler's README, byte for byte, in a served
 * directory: wharf reads each as it is and behaves as the README says.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { createHandler } from "../../src/index.js";

const base = mkdtempSync(join(tmpdir(), "wharf-serve-json-"));
after(() => rmSync(base, { recursive: true, force: true }));

const FILES: Record<string, string> = {
  "index.html": "<p>index</p>",
  "edit-project.html": "<p>edit project</p>",
  "to.html": "<p>to</p>",
  "about.html": "<p>about</p>",
  "photo.jpg": "jpg",
  "404.html": "<p>custom 404</p>",
  "app/real.js": "real",
  "assets/a.txt": "a",
  ".DS_Store": "x",
  "_site/index.html": "<p>jekyll</p>",
  "test/index.html": "<p>test</p>",
};

/** A served directory holding FILES and `serveJson`, handled as the CLI would. */
async function site(name: string, serveJson: string) {
  const root = join(base, name);
  for (const [path, content] of Object.entries({ ...FILES, "serve.json": serveJson })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const config = await loadConfig({ cwd: base, directory: root });
  assert.equal(config?.kind, "serve");
  const handler = createHandler({ root, notFound: "404.html", ...config!.options });
  return {
    notes: config!.notes,
    get: async (path: string) => {
      const res = await handler.fetch(new Request(`http://localhost${path}`));
      return {
        status: res.status,
        location: res.headers.get("location"),
        cacheControl: res.headers.get("cache-control"),
        body: await res.text(),
      };
    },
  };
}

describe("serve-handler's README examples", () => {
  test("rewrites", async () => {
    const s = await site(
      "rewrites",
      `{
  "rewrites": [
    { "source": "app/**", "destination": "/index.html" },
    { "source": "projects/*/edit", "destination": "/edit-project.html" }
  ]
}`,
    );
    assert.deepEqual(s.notes, []);
    assert.equal((await s.get("/app/settings")).body, "<p>index</p>");
    assert.equal((await s.get("/app/real.js")).body, "real");
    assert.equal((await s.get("/projects/12/edit")).body, "<p>edit project</p>");
  });
  test("redirects", async () => {
    const s = await site(
      "redirects",
      `{
  "redirects": [
    { "source": "/from", "destination": "/to" },
    { "source": "/old-pages/**", "destination": "/home" }
  ]
}`,
    );
    assert.deepEqual(await s.get("/from"), { status: 301, location: "/to", cacheControl: null, body: "" });
    assert.equal((await s.get("/old-pages/a/b")).location, "/home");
  });
  test("redirects with segments and a type", async () => {
    const s = await site(
      "segments",
      `{
  "redirects": [
    { "source": "/old-docs/:id", "destination": "/new-docs/:id" },
    { "source": "/old", "destination": "/new", "type": 302 }
  ]
}`,
    );
    assert.deepEqual([(await s.get("/old-docs/12")).status, (await s.get("/old-docs/12")).location], [301, "/new-docs/12"]);
    assert.deepEqual([(await s.get("/old")).status, (await s.get("/old")).location], [302, "/new"]);
  });
  test("headers", async () => {
    const s = await site(
      "headers",
      `{
  "headers": [
    {
      "source" : "**/*.@(jpg|jpeg|gif|png)",
      "headers" : [{
        "key" : "Cache-Control",
        "value" : "max-age=7200"
      }]
    }, {
      "source" : "404.html",
      "headers" : [{
        "key" : "Cache-Control",
        "value" : "max-age=300"
      }]
    }
  ]
}`,
    );
    assert.equal((await s.get("/photo.jpg")).cacheControl, "max-age=7200");
    const missing = await s.get("/nope");
    assert.deepEqual([missing.status, missing.body, missing.cacheControl], [404, "<p>custom 404</p>", "max-age=300"]);
  });
  test("cleanUrls: on by default, as in serve", async () => {
    const s = await site("clean", "{}");
    assert.equal((await s.get("/about")).body, "<p>about</p>");
    assert.equal((await s.get("/about.html")).location, "/about");
  });
  test("cleanUrls: false", async () => {
    const s = await site(
      "unclean",
      `{
  "cleanUrls": false
}`,
    );
    assert.equal((await s.get("/about")).status, 404);
  });
  test("directoryListing and unlisted", async () => {
    const listed = await site(
      "listing",
      `{
  "unlisted": [
    ".DS_Store",
    ".git"
  ]
}`,
    );
    assert.doesNotMatch((await listed.get("/")).body, /DS_Store/);
    const off = await site(
      "no-listing",
      `{
  "directoryListing": false
}`,
    );
    assert.equal((await off.get("/assets/")).status, 404);
    const some = await site(
      "some-listing",
      `{
  "directoryListing": [
    "/assets/**",
    "/!assets/private"
  ]
}`,
    );
    assert.deepEqual(some.notes, ["directoryListing: a list of paths is not supported; directory listings are off"]);
  });
  test("trailingSlash", async () => {
    const s = await site(
      "slash",
      `{
  "trailingSlash": true
}`,
    );
    assert.equal((await s.get("/test")).location, "/test/");
    assert.equal((await s.get("/test/")).body, "<p>test</p>");
  });
  test("public", async () => {
    const s = await site(
      "public",
      `{
  "public": "_site"
}`,
    );
    assert.equal((await s.get("/")).body, "<p>jekyll</p>");
  });
  test("symlinks, etag, renderSingle", async () => {
    const s = await site(
      "rest",
      `{
  "symlinks": true,
  "etag": true,
  "renderSingle": true
}`,
    );
    assert.deepEqual(s.notes, ["renderSingle is not supported; ignored"]);
  });
});
