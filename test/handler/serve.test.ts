/**
 * The static handler over a real Node server, on a real tree, with raw requests:
 * exact statuses, headers and bytes. Every row runs for GET and for HEAD, and HEAD
 * must carry exactly GET's status and headers with no body (RFC 9110 §9.3.2).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createHandler } from "../../src/handler/create.js";
import { AWKWARD_NAMES, createFixture, type Fixture } from "../helpers/fixture.js";
import { rawRequest } from "../helpers/raw.js";

const tagOf = (content: string | Buffer): string =>
  `"${createHash("sha256").update(content).digest().subarray(0, 16).toString("base64url")}"`;
const NUMS = tagOf("123456789");
const LAST_MODIFIED = "Fri, 02 Jan 2026 03:04:05 GMT";
const DIGITS = Array.from({ length: 1000 }, (_, i) => String(i % 10)).join("");

let fixture: Fixture;
let server: Server;
let port: number;

before(async () => {
  fixture = createFixture();
  writeFileSync(join(fixture.root, "digits.txt"), DIGITS);
  // The plain pages (this client is on loopback; explanations: test/handler/explain.test.ts).
  server = createServer(createHandler({ root: fixture.root, explain: "off" }, () => {}));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
  fixture.remove();
});

interface Row {
  readonly name: string;
  readonly target: string;
  readonly headers?: string;
  readonly status: number;
  /** Exact values; `null` means the header must be absent. */
  readonly want?: Record<string, string | null>;
  readonly body?: string;
}

const TEXT = "text/plain; charset=utf-8";

const rows: Row[] = [
  {
    name: "a file with every validator",
    target: "/nums.txt",
    status: 200,
    want: {
      "content-type": TEXT,
      "content-length": "9",
      etag: NUMS,
      "last-modified": LAST_MODIFIED,
      "cache-control": "no-cache",
      "accept-ranges": "bytes",
      "content-encoding": null,
    },
    body: "123456789",
  },
  { name: "an empty file", target: "/empty.txt", status: 200, want: { "content-length": "0", etag: tagOf("") }, body: "" },
  // RFC 9110 §14: ranges
  {
    name: "range first byte (sirv reads 0-0 as everything)",
    target: "/nums.txt",
    headers: "Range: bytes=0-0",
    status: 206,
    want: { "content-range": "bytes 0-0/9", "content-length": "1", "content-type": TEXT, etag: NUMS },
    body: "1",
  },
  {
    name: "range suffix (sirv reads -3 as 0-3)",
    target: "/nums.txt",
    headers: "Range: bytes=-3",
    status: 206,
    want: { "content-range": "bytes 6-8/9" },
    body: "789",
  },
  {
    name: "range open-ended",
    target: "/nums.txt",
    headers: "Range: bytes=4-",
    status: 206,
    want: { "content-range": "bytes 4-8/9" },
    body: "56789",
  },
  {
    name: "range last byte past the end is clamped",
    target: "/nums.txt",
    headers: "Range: bytes=2-100",
    status: 206,
    want: { "content-range": "bytes 2-8/9", "content-length": "7" },
    body: "3456789",
  },
  { name: "range unsatisfiable", target: "/nums.txt", headers: "Range: bytes=9-", status: 416, want: { "content-range": "bytes */9" } },
  { name: "range malformed is ignored", target: "/nums.txt", headers: "Range: bytes=abc", status: 200, body: "123456789" },
  { name: "range in another unit is ignored", target: "/nums.txt", headers: "Range: items=0-1", status: 200, body: "123456789" },
  {
    name: "range on an empty file is ignored",
    target: "/empty.txt",
    headers: "Range: bytes=0-5",
    status: 200,
    want: { "content-length": "0" },
    body: "",
  },
  {
    name: "ranges close together are coalesced",
    target: "/nums.txt",
    headers: "Range: bytes=0-0,2-2",
    status: 206,
    want: { "content-range": "bytes 0-2/9" },
    body: "123",
  },
  // RFC 9110 §13.2.2: preconditions, in order
  {
    name: "If-None-Match equal: 304",
    target: "/nums.txt",
    headers: `If-None-Match: ${NUMS}`,
    status: 304,
    want: { etag: NUMS, "cache-control": "no-cache", "content-length": null, "content-type": null, "last-modified": null },
    body: "",
  },
  {
    name: "If-None-Match weak form still matches (weak comparison)",
    target: "/nums.txt",
    headers: `If-None-Match: W/${NUMS}`,
    status: 304,
  },
  { name: "If-None-Match in a list", target: "/nums.txt", headers: `If-None-Match: "x", ${NUMS}`, status: 304 },
  { name: "If-None-Match star", target: "/nums.txt", headers: "If-None-Match: *", status: 304 },
  {
    name: "If-None-Match other (Deno inverts this)",
    target: "/nums.txt",
    headers: 'If-None-Match: "other"',
    status: 200,
    body: "123456789",
  },
  { name: "If-Match other: 412", target: "/nums.txt", headers: 'If-Match: "other"', status: 412 },
  { name: "If-Match equal", target: "/nums.txt", headers: `If-Match: ${NUMS}`, status: 200 },
  { name: "If-Match weak never matches (strong comparison)", target: "/nums.txt", headers: `If-Match: W/${NUMS}`, status: 412 },
  { name: "If-Match star", target: "/nums.txt", headers: "If-Match: *", status: 200 },
  {
    name: "If-Unmodified-Since earlier: 412",
    target: "/nums.txt",
    headers: "If-Unmodified-Since: Thu, 01 Jan 2026 00:00:00 GMT",
    status: 412,
  },
  { name: "If-Unmodified-Since equal", target: "/nums.txt", headers: `If-Unmodified-Since: ${LAST_MODIFIED}`, status: 200 },
  {
    name: "If-Modified-Since equal: 304",
    target: "/nums.txt",
    headers: `If-Modified-Since: ${LAST_MODIFIED}`,
    status: 304,
    want: { etag: NUMS },
  },
  { name: "If-Modified-Since earlier", target: "/nums.txt", headers: "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT", status: 200 },
  { name: "If-Modified-Since unparseable is ignored", target: "/nums.txt", headers: "If-Modified-Since: yesterday", status: 200 },
  {
    name: "If-Modified-Since ignored when If-None-Match is present",
    target: "/nums.txt",
    headers: `If-None-Match: "other"\r\nIf-Modified-Since: ${LAST_MODIFIED}`,
    status: 200,
  },
  {
    name: "If-Match checked before If-None-Match",
    target: "/nums.txt",
    headers: `If-Match: "other"\r\nIf-None-Match: ${NUMS}`,
    status: 412,
  },
  // RFC 9110 §13.1.5: If-Range
  {
    name: "If-Range with the current ETag applies the range",
    target: "/nums.txt",
    headers: `Range: bytes=0-1\r\nIf-Range: ${NUMS}`,
    status: 206,
    body: "12",
  },
  {
    name: "If-Range with another ETag sends everything",
    target: "/nums.txt",
    headers: 'Range: bytes=0-1\r\nIf-Range: "other"',
    status: 200,
    body: "123456789",
  },
  {
    name: "If-Range with the exact date applies the range",
    target: "/nums.txt",
    headers: `Range: bytes=0-1\r\nIf-Range: ${LAST_MODIFIED}`,
    status: 206,
    body: "12",
  },
  {
    name: "If-Range with a weak tag sends everything",
    target: "/nums.txt",
    headers: `Range: bytes=0-1\r\nIf-Range: W/${NUMS}`,
    status: 200,
  },
  // Content types from mime-db
  { name: "js is text/javascript", target: "/app.js", status: 200, want: { "content-type": "text/javascript; charset=utf-8" } },
  { name: "mjs is text/javascript", target: "/module.mjs", status: 200, want: { "content-type": "text/javascript; charset=utf-8" } },
  { name: "wasm", target: "/code.wasm", status: 200, want: { "content-type": "application/wasm", "content-length": "4" } },
  { name: "css", target: "/style.css", status: 200, want: { "content-type": "text/css; charset=utf-8" } },
  { name: "json", target: "/data.json", status: 200, want: { "content-type": "application/json; charset=utf-8" } },
  { name: "svg", target: "/image.svg", status: 200, want: { "content-type": "image/svg+xml; charset=utf-8" } },
  {
    name: "tar.gz is itself, never Content-Encoding",
    target: "/archive.tar.gz",
    status: 200,
    want: { "content-type": "application/gzip", "content-encoding": null },
  },
  { name: "unknown extension", target: "/blob.unknownext", status: 200, want: { "content-type": "application/octet-stream" } },
  // Directories
  { name: "directory without slash redirects", target: "/site", status: 301, want: { location: "/site/" } },
  { name: "redirect keeps the query", target: "/site?x=1&y", status: 301, want: { location: "/site/?x=1&y" } },
  { name: "redirect is never protocol-relative", target: "//site", status: 301, want: { location: "/site/" } },
  { name: "redirect of an encoded name stays encoded", target: "/index-less/s%75b", status: 301, want: { location: "/index-less/sub/" } },
  {
    name: "index.html",
    target: "/site/",
    status: 200,
    want: { "content-type": "text/html; charset=utf-8" },
    body: "<!doctype html><title>site</title>",
  },
  { name: "index.htm", target: "/htm/", status: 200, body: "htm index" },
  {
    name: "listing",
    target: "/index-less/",
    status: 200,
    want: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
  },
  { name: "a file with a trailing slash", target: "/nums.txt/", status: 404 },
  { name: "through a file", target: "/nums.txt/x", status: 404 },
  { name: "missing", target: "/nope.txt", status: 404, want: { "content-type": "text/html; charset=utf-8" } },
  // Dotfiles and symlinks
  { name: "dotfile hidden", target: "/.env", status: 404 },
  { name: "dot-directory hidden", target: "/.git/config", status: 404 },
  { name: "encoded dotfile hidden", target: "/%2eenv", status: 404 },
  { name: ".well-known served", target: "/.well-known/security.txt", status: 200, body: "Contact: mailto:x@example.com" },
  { name: "dotfile inside .well-known hidden", target: "/.well-known/.hidden", status: 404 },
  { name: "symlink inside the root", target: "/link-inside.txt", status: 200, want: { etag: NUMS }, body: "123456789" },
  { name: "symlink into .git", target: "/link-to-git.txt", status: 404 },
  { name: "symlink leaving the root", target: "/escape.txt", status: 404 },
  { name: "through a symlinked directory leaving the root", target: "/escape-dir/secret.txt", status: 404 },
  { name: "symlink loop", target: "/loop-a", status: 404 },
  { name: "dangling symlink", target: "/dangling", status: 404 },
];

// RFC 9110 §9: other methods, run with that method only.
const methodRows: { name: string; method: string; target: string; status: number; allow: string | null }[] = [
  { name: "POST", method: "POST", target: "/nums.txt", status: 405, allow: "GET, HEAD, OPTIONS" },
  { name: "PUT", method: "PUT", target: "/new.txt", status: 405, allow: "GET, HEAD, OPTIONS" },
  { name: "DELETE", method: "DELETE", target: "/nums.txt", status: 405, allow: "GET, HEAD, OPTIONS" },
  { name: "OPTIONS", method: "OPTIONS", target: "/nums.txt", status: 204, allow: "GET, HEAD, OPTIONS" },
  { name: "OPTIONS *", method: "OPTIONS", target: "*", status: 204, allow: "GET, HEAD, OPTIONS" },
];

describe("static files over HTTP/1.1", () => {
  for (const row of rows) {
    test(row.name, async () => {
      const extra = row.headers === undefined ? "" : `${row.headers}\r\n`;
      const get = await rawRequest(port, "GET", row.target, extra);
      const head = await rawRequest(port, "HEAD", row.target, extra);
      const input = `${row.target} [${row.headers ?? ""}]`;
      assert.equal(get.status, row.status, `GET ${input}: got ${get.status}, want ${row.status}`);
      for (const [name, value] of Object.entries(row.want ?? {})) {
        assert.equal(get.headers[name] ?? null, value, `GET ${input}: header ${name}: got ${get.headers[name]}, want ${value}`);
      }
      if (row.body !== undefined) assert.equal(get.body.toString(), row.body, `GET ${input}: body`);
      // HEAD: the same status and headers, no body.
      const { date: _g, ...getHeaders } = get.headers;
      const { date: _h, ...headHeaders } = head.headers;
      assert.equal(head.status, get.status, `HEAD ${input}: status`);
      assert.deepEqual(headHeaders, getHeaders, `HEAD ${input}: headers differ from GET`);
    });
  }
  for (const row of methodRows) {
    test(`method ${row.name}`, async () => {
      const res = await rawRequest(port, row.method, row.target);
      assert.equal(res.status, row.status, `${row.method} ${row.target}: got ${res.status}`);
      assert.equal(res.headers["allow"] ?? null, row.allow);
    });
  }
  test("nothing is ever written to disk", async () => {
    await rawRequest(port, "PUT", "/nums.txt", "Content-Length: 5\r\n\r\nabc");
    assert.equal(readFileSync(join(fixture.root, "nums.txt"), "utf8"), "123456789");
  });
  test("several ranges far apart: multipart/byteranges with exact framing", async () => {
    const res = await rawRequest(port, "GET", "/digits.txt", "Range: bytes=0-9,500-504\r\n");
    assert.equal(res.status, 206);
    const match = /^multipart\/byteranges; boundary=(\S+)$/.exec(res.headers["content-type"] ?? "");
    assert.ok(match, `content-type: ${res.headers["content-type"]}`);
    const b = match[1];
    const want =
      `--${b}\r\nContent-Type: ${TEXT}\r\nContent-Range: bytes 0-9/1000\r\n\r\n0123456789` +
      `\r\n--${b}\r\nContent-Type: ${TEXT}\r\nContent-Range: bytes 500-504/1000\r\n\r\n01234` +
      `\r\n--${b}--\r\n`;
    assert.equal(res.body.toString(), want);
    assert.equal(res.headers["content-length"], String(Buffer.byteLength(want)));
  });
  test("many tiny ranges never make the response much larger than the file (CVE-2011-3192)", async () => {
    const specs = Array.from({ length: 90 }, (_, i) => `${i * 11}-${i * 11}`).join(",");
    const res = await rawRequest(port, "GET", "/digits.txt", `Range: bytes=${specs}\r\n`);
    assert.ok(res.body.length <= 1000, `body ${res.body.length} bytes for a 1000-byte file`);
  });
  test("too many ranges: the whole file", async () => {
    const specs = Array.from({ length: 101 }, (_, i) => `${i * 9}-${i * 9}`).join(",");
    const res = await rawRequest(port, "GET", "/digits.txt", `Range: bytes=${specs}\r\n`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), DIGITS);
  });
  test("every awkward name in a listing works when its link is followed", async () => {
    const listing = await rawRequest(port, "GET", "/awkward/");
    const hrefs = [...listing.body.toString().matchAll(/href="([^"]*)"/g)].map((m) =>
      (m[1] ?? "")
        .replaceAll("&amp;", "&")
        .replaceAll("&quot;", '"')
        .replaceAll("&#39;", "'")
        .replaceAll("&lt;", "<")
        .replaceAll("&gt;", ">"),
    );
    for (const name of AWKWARD_NAMES) {
      const href = hrefs.find((h) => decodeURIComponent(new URL(h, "http://x/awkward/").pathname) === `/awkward/${name}`);
      assert.ok(href !== undefined, `no link for ${name} in ${hrefs.join(" ")}`);
      const url = new URL(href, "http://x/awkward/");
      const res = await rawRequest(port, "GET", url.pathname);
      assert.equal(res.status, 200, `${name} via ${url.pathname}`);
      assert.equal(res.body.toString(), name);
    }
    assert.ok(!listing.body.toString().includes("<img"), "names are escaped");
  });
  test("a listing hides dotfiles and symlinks leaving the root", async () => {
    const body = (await rawRequest(port, "GET", "/")).body.toString();
    for (const hidden of [".env", ".git", "escape.txt", "escape-dir", "loop-a", "dangling"]) {
      assert.ok(!body.includes(`>${hidden}`), `${hidden} is listed`);
    }
    assert.ok(body.includes("link-inside.txt"), "a symlink inside the root is listed");
  });
});
