/**
 * Every file name POSIX allows is either listed with a link that answers 200, or
 * not listed (issue 10 item 17). On main, names with a tab or a backslash were
 * listed, and their links answered 400.
 *
 * Files with generated names are created in a real directory; the listing is
 * fetched from a real server; each href of the page is resolved the way a
 * browser resolves it (`new URL(href, page)`) and requested.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { createHandler } from "../../src/handler/create.js";
import { runs } from "./settings.js";

const base = mkdtempSync(join(tmpdir(), "wharf-names-"));
let server: Server;
let port = 0;
before(async () => {
  server = createServer(createHandler({ root: base, revalidateMs: 0 }, () => {}));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(base, { recursive: true, force: true });
});

function get(path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

const unescapeHtml = (s: string): string =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]!);

/** The rows of a listing: the href (if linked) of each, `../` left out. */
function rows(html: string): Array<string | undefined> {
  return [...html.matchAll(/<td class=name>(?:<svg class=icon [\s\S]*?<\/svg>)?(?:<a href="([^"]*)">)?/g)]
    .map((m) => (m[1] === undefined ? undefined : unescapeHtml(m[1])))
    .filter((href) => href !== "../");
}

// Characters that make names awkward, weighted in; the rest is any code point.
const AWKWARD = [
  "\t",
  "\n",
  "\r",
  "\x1b",
  "\x7f",
  "\x01",
  "\\",
  "%",
  "%5C",
  "%09",
  "#",
  "?",
  ";",
  " ",
  "+",
  "&",
  "<",
  ">",
  '"',
  "'",
  ":",
  "é",
  "e\u0301",
  "\u202e",
  "\ufeff",
  "🐳",
  "~",
  "..",
  "*",
];
const char = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...AWKWARD) },
  { weight: 3, arbitrary: fc.constantFrom(..."abcXYZ019.-_") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
/** A name POSIX allows: no `/`, no NUL, not `.` or `..`, at most 255 bytes. */
const posixName = fc
  .array(char, { minLength: 1, maxLength: 12 })
  .map((parts) => parts.join("").replace(/[\u0000/]/g, "_"))
  // Lone surrogates cannot be written as UTF-8; the file system would get U+FFFD.
  .filter((n) => n !== "." && n !== ".." && Buffer.byteLength(n) <= 255 && Buffer.from(n).toString() === n);
/** Names that are not UTF-8: bytes a Latin-1 or Shift-JIS tool may have written. */
const brokenName = fc
  .uint8Array({ minLength: 0, maxLength: 8 })
  // 0xFF is never part of UTF-8; the other bytes are anything but NUL and `/`.
  .map((bytes) =>
    Buffer.concat([Buffer.from("x"), Buffer.from(bytes.map((b) => (b === 0 || b === 0x2f ? 0xfe : b))), Buffer.from([0xff])]),
  );

let round = 0;

describe("generated file names in a listing", { skip: process.platform === "win32" }, () => {
  test("every listed name has a link, every link answers 200, nothing unreachable is listed", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(posixName, { minLength: 1, maxLength: 6 }),
        fc.array(brokenName, { maxLength: 2 }),
        async (names, broken) => {
          const dir = join(base, `r${round++}`);
          mkdirSync(dir);
          for (const [i, name] of names.entries()) writeFileSync(join(dir, name), `file ${i}`);
          for (const name of broken) writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), "broken");
          const page = await get(`/r${round - 1}/`);
          assert.equal(page.status, 200);
          const listed = rows(page.body.toString());
          // Dotfiles are hidden (and not listed); names that are not UTF-8 are not listed.
          const visible = names.filter((n) => !n.startsWith("."));
          assert.equal(listed.length, visible.length, `listed ${listed.length} rows for ${JSON.stringify(visible)}`);
          const seen = new Set<string>();
          for (const href of listed) {
            assert.ok(href !== undefined, `a row without a link in ${JSON.stringify(visible)}`);
            const url = new URL(href, `http://x/r${round - 1}/`);
            const res = await get(url.pathname);
            assert.equal(res.status, 200, `${JSON.stringify(href)} → ${url.pathname}: ${res.status}`);
            seen.add(res.body.toString());
          }
          // Each link leads to its own file.
          assert.deepEqual([...seen].sort(), visible.map((n) => `file ${names.indexOf(n)}`).sort());
        },
      ),
      runs(60),
    );
  });
});
