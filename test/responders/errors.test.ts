/**
 * Error pages that look finished: the listing's look (viewport, light and dark),
 * a way back (the folder, the top), small, escaped, and path-free; styles
 * allowed by their hash alone, so the page's own CSP stays strict.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { errorReply } from "../../src/core/reply.js";
import type { Reply } from "../../src/index.js";
import { createHandler } from "../../src/index.js";
import { renderListing } from "../../src/responders/listing/html.js";

function bodyOf(reply: Reply): string {
  assert.equal(reply.body.kind, "chunks");
  const chunks = (reply.body as { readonly chunks: readonly Uint8Array[] }).chunks;
  return Buffer.concat(chunks).toString("utf8");
}

/** The parts of an error page, or a failure saying which one is missing. */
function parse(page: string): { csp: string; style: string; title: string; h1: string; p: string; hrefs: string[] } {
  const m =
    /^<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="([^"]*)">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>([^<]*)<\/title>\n<style>([^<]*)<\/style>\n<\/head>\n<body>\n<h1>([^<]*)<\/h1>\n<p>([^<]*)<\/p>\n<nav>(.*)<\/nav>\n<\/body>\n<\/html>\n$/.exec(
      page,
    );
  assert.ok(m, `not the error page's structure:\n${page}`);
  const hrefs = [...m[6]!.matchAll(/<a href="([^"]*)">[^<]+<\/a>/g)].map((a) => a[1]!);
  return { csp: m[1]!, title: m[2]!, style: m[3]!, h1: m[4]!, p: m[5]!, hrefs };
}

const STATUSES: [number, string][] = [
  [400, "400 Bad Request"],
  [401, "401 Unauthorized"],
  [403, "403 Forbidden"],
  [404, "404 Not Found"],
  [405, "405 Method Not Allowed"],
  [500, "500 Internal Server Error"],
  [502, "502 Bad Gateway"],
  [503, "503 Service Unavailable"],
];

describe("errorReply: the page's structure", () => {
  const listingStyle = /<style>([^<]*)<\/style>/.exec(renderListing({ segments: [], entries: [] }))![1]!;
  for (const [status, title] of STATUSES) {
    test(`${status}`, () => {
      const reply = errorReply(status);
      const page = bodyOf(reply);
      const { csp, style, title: shown, h1, p, hrefs } = parse(page);
      assert.equal(shown, title);
      assert.equal(h1, title);
      assert.notEqual(p, "", "a sentence saying what happened");
      // Strict CSP: nothing loads, no script; the one style element by its hash.
      const hash = createHash("sha256").update(style).digest("base64");
      assert.equal(csp, `default-src 'none'; style-src 'sha256-${hash}'`);
      assert.doesNotMatch(page, /<script|\sstyle=|\ssrc=/i);
      // The listing's look: the same palette and type, light and dark.
      const theme = listingStyle.split("\n").slice(0, 4).join("\n");
      assert.ok(style.startsWith(theme), `the listing's theme first:\n${style}`);
      assert.match(style, /@media \(prefers-color-scheme:dark\)/);
      assert.match(style, /color-scheme:light dark/);
      // A way back that works under any mount point: the folder, relative; the top.
      assert.deepEqual(hrefs, ["./", "/"]);
      const bytes = Buffer.byteLength(page);
      assert.ok(bytes < 2048, `${bytes} bytes`);
      assert.equal(reply.headers["content-length"], String(bytes));
      assert.equal(reply.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(reply.headers["x-content-type-options"], "nosniff");
    });
  }
  test("the detail is escaped", () => {
    const { p } = parse(bodyOf(errorReply(500, {}, `<img src=x onerror=alert(1)> & "q" 'a'`)));
    assert.equal(p, "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot; &#39;a&#39;");
  });
});

describe("error pages served: path-free", () => {
  let base = "";
  let root = "";
  before(() => {
    base = mkdtempSync(join(tmpdir(), "wharf-errpages-"));
    root = join(base, "site-root");
    mkdirSync(join(root, "dir"), { recursive: true });
    writeFileSync(join(root, "a.txt"), "a");
    writeFileSync(join(root, ".secret"), "s");
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  const ROWS: { name: string; status: number; path: string; method?: string; options?: Record<string, unknown> }[] = [
    { name: "bad encoding", status: 400, path: "/%zz" },
    { name: "no credentials", status: 401, path: "/a.txt", options: { auth: "me:pw" } },
    { name: "a dotfile, denied", status: 403, path: "/.secret", options: { dotfiles: "deny" } },
    { name: "missing", status: 404, path: "/dir/missing.txt" },
    { name: "POST", status: 405, path: "/a.txt", method: "POST" },
    {
      name: "a handler that throws",
      status: 500,
      path: "/a.txt",
      options: {
        use: [
          () => {
            throw new Error(`boom in ${root}`);
          },
        ],
      },
    },
  ];
  for (const row of ROWS) {
    test(`${row.status}: ${row.name}`, async () => {
      const handler = createHandler({ root, ...row.options }, () => {});
      const res = await handler.fetch(new Request(`http://localhost${row.path}`, { method: row.method ?? "GET" }));
      assert.equal(res.status, row.status);
      const page = await res.text();
      parse(page);
      assert.ok(
        !page.includes(root) && !page.includes(base) && !page.includes("wharf-errpages-") && !page.includes("site-root"),
        `the root path leaked:\n${page}`,
      );
    });
  }
});
