/**
 * Issue 13: a directory listing that is also an API. Formats (item 1), the same
 * visibility in every format (2), sorting (3), filtering (4), pages (5), the page
 * itself and --readme (7), the library options (9), and `wget -r` through it.
 * Against the handler's fetch adapter (no socket) on a real directory, and a real
 * server for wget.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { createHandler, type WharfHandler } from "../../../src/handler/create.js";
import { OptionError, type StaticOptions } from "../../../src/handler/options.js";
import { serve } from "../../../src/server/serve.js";

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0); // Mon, 30 Nov 2026 12:00:00 GMT
let base = "";
let root = "";

/** Files with sizes and dates that make every order distinct. */
const FILES: ReadonlyArray<readonly [name: string, size: number, ageDays: number]> = [
  ["file10.txt", 30, 1],
  ["File2.txt", 10, 3],
  ["b.md", 20, 2],
  ["a.bin", 40, 4],
  ["é.txt", 5, 5],
];
const DIRS = ["Zdir", "adir"];

function write(path: string, size: number, ageDays: number): void {
  writeFileSync(path, "x".repeat(size));
  const t = (T0 - ageDays * 86_400_000) / 1000;
  utimesSync(path, t, t);
}

before(() => {
  base = mkdtempSync(join(tmpdir(), "wharf-browse-"));
  root = join(base, "root");
  mkdirSync(join(root, "list"), { recursive: true });
  for (const [name, size, age] of FILES) write(join(root, "list", name), size, age);
  for (const d of DIRS) {
    mkdirSync(join(root, "list", d));
    write(join(root, "list", d, "inside-file10.txt"), 1, 0);
    const t = T0 / 1000;
    utimesSync(join(root, "list", d), t, t);
  }
  mkdirSync(join(root, "ctl"));
  write(join(root, "ctl", "tab\there"), 1, 0);
  write(join(root, "ctl", "back\\slash"), 1, 0);
  write(join(root, "ctl", "esc\u001b[31m"), 1, 0);
});
after(() => rmSync(base, { recursive: true, force: true }));

interface Got {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}
async function get(handler: WharfHandler, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Got> {
  const res = await handler.fetch(new Request(`http://x${path}`, { method, headers }));
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()).toString("utf8") };
}

/** Entry names in a page of any format, in order (directories with their `/`). */
function namesOf(format: "html" | "json" | "text", body: string): string[] {
  if (format === "json")
    return (JSON.parse(body) as Array<{ name: string; type: string }>).map((e) => e.name + (e.type === "directory" ? "/" : ""));
  if (format === "text") return body.split("\n").filter((l) => l !== "");
  const unescapeHtml = (s: string): string =>
    s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]!);
  return [...body.matchAll(/<tr data-entry><td class=name>[\s\S]*?<bdi dir=ltr>([^<]*)<\/bdi>/g)].map((m) => unescapeHtml(m[1]!));
}

const handler = (options: Partial<StaticOptions> = {}): WharfHandler => createHandler({ root, revalidateMs: 0, ...options });

describe("item 1: formats by Accept and ?format=", () => {
  const rows: ReadonlyArray<readonly [string, Record<string, string>, string, "html" | "json" | "text"]> = [
    ["no Accept", {}, "", "html"],
    ["*/*", { accept: "*/*" }, "", "html"],
    ["a browser", { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" }, "", "html"],
    ["application/json", { accept: "application/json" }, "", "json"],
    ["text/plain", { accept: "text/plain" }, "", "text"],
    ["q-values: json over html", { accept: "text/html;q=0.5, application/json" }, "", "json"],
    ["q=0 refuses", { accept: "application/json;q=0, text/plain;q=0.1" }, "", "text"],
    ["text/* prefers html (the server's order)", { accept: "text/*" }, "", "html"],
    ["nothing acceptable: the default", { accept: "image/png" }, "", "html"],
    ["?format=json beats Accept", { accept: "text/html" }, "?format=json", "json"],
    ["?format=text", {}, "?format=text", "text"],
    ["?format=bogus is ignored", { accept: "application/json" }, "?format=xml", "json"],
  ];
  const type = { html: "text/html; charset=utf-8", json: "application/json", text: "text/plain; charset=utf-8" };
  for (const method of ["GET", "HEAD"]) {
    for (const [name, headers, search, want] of rows) {
      test(`${method} ${name} → ${want}`, async () => {
        const h = handler();
        const res = await get(h, `/list/${search}`, headers, method);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), type[want], `got ${res.headers.get("content-type")}, want ${type[want]}`);
        assert.match(res.headers.get("vary") ?? "", /(?:^|,\s*)accept(?:\s*,|$)/);
        if (method === "HEAD") {
          assert.equal(res.body, "");
          const full = await get(h, `/list/${search}`, headers);
          assert.equal(res.headers.get("etag"), full.headers.get("etag"), "HEAD and GET share the ETag");
          assert.equal(res.headers.get("content-length"), String(Buffer.byteLength(full.body)));
        }
      });
    }
  }

  test("each format its own ETag, and 304 on revalidation with it", async () => {
    const h = handler();
    const tags = new Set<string>();
    for (const format of ["html", "json", "text"]) {
      const res = await get(h, `/list/?format=${format}`);
      const etag = res.headers.get("etag")!;
      assert.ok(!tags.has(etag), `${format}: ETag ${etag} shared with another format`);
      tags.add(etag);
      assert.equal(
        etag,
        `"${createHash("sha256").update(res.body).digest().subarray(0, 16).toString("base64url")}"`,
        "the tag of its own bytes",
      );
      const again = await get(h, `/list/?format=${format}`, { "if-none-match": etag });
      assert.equal(again.status, 304, `${format}: got ${again.status}, want 304`);
      assert.match(again.headers.get("vary") ?? "", /(?:^|,\s*)accept(?:\s*,|$)/);
    }
  });

  test("JSON is nginx's autoindex_format json, byte for byte", async () => {
    const res = await get(handler(), "/list/", { accept: "application/json" });
    const date = (days: number): string => new Date(T0 - days * 86_400_000).toUTCString();
    const want = `[
{ "name":"adir", "type":"directory", "mtime":"${date(0)}" },
{ "name":"Zdir", "type":"directory", "mtime":"${date(0)}" },
{ "name":"a.bin", "type":"file", "mtime":"${date(4)}", "size":40 },
{ "name":"b.md", "type":"file", "mtime":"${date(2)}", "size":20 },
{ "name":"é.txt", "type":"file", "mtime":"${date(5)}", "size":5 },
{ "name":"File2.txt", "type":"file", "mtime":"${date(3)}", "size":10 },
{ "name":"file10.txt", "type":"file", "mtime":"${date(1)}", "size":30 }
]
`;
    assert.equal(res.body, want);
    assert.equal(date(0), "Mon, 30 Nov 2026 12:00:00 GMT");
  });

  test("text: one name a line, directories with /, controls and backslashes escaped", async () => {
    assert.equal((await get(handler(), "/list/?format=text")).body, "adir/\nZdir/\na.bin\nb.md\né.txt\nFile2.txt\nfile10.txt\n");
    assert.equal((await get(handler(), "/ctl/?format=text")).body, "back\\\\slash\nesc\\x1b[31m\ntab\\x09here\n");
  });
});

describe("item 3: sorting", () => {
  const rows: ReadonlyArray<readonly [string, string[]]> = [
    ["", ["adir/", "Zdir/", "a.bin", "b.md", "é.txt", "File2.txt", "file10.txt"]],
    ["?sort=name&order=desc", ["Zdir/", "adir/", "file10.txt", "File2.txt", "é.txt", "b.md", "a.bin"]],
    ["?sort=size", ["adir/", "Zdir/", "é.txt", "File2.txt", "b.md", "file10.txt", "a.bin"]],
    ["?sort=size&order=desc", ["adir/", "Zdir/", "a.bin", "file10.txt", "b.md", "File2.txt", "é.txt"]],
    ["?sort=mtime", ["adir/", "Zdir/", "é.txt", "a.bin", "File2.txt", "b.md", "file10.txt"]],
    ["?sort=mtime&order=desc", ["adir/", "Zdir/", "file10.txt", "b.md", "File2.txt", "a.bin", "é.txt"]],
    ["?sort=bogus&order=sideways", ["adir/", "Zdir/", "a.bin", "b.md", "é.txt", "File2.txt", "file10.txt"]],
  ];
  for (const format of ["html", "json", "text"] as const) {
    for (const [search, want] of rows) {
      test(`${format} ${search || "(default)"}`, async () => {
        const sep = search === "" ? "?" : "&";
        const got = namesOf(format, (await get(handler(), `/list/${search}${sep}format=${format}`)).body);
        assert.deepEqual(got, want, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      });
    }
  }

  test("column headers are links that keep the filter and page size, with aria-sort on the sorted one", async () => {
    const html = (await get(handler(), "/list/?sort=size&q=t&limit=3&offset=1")).body;
    assert.match(
      html,
      /<th scope=col aria-sort|<th scope=col class=size aria-sort="ascending"><a href="\?sort=size&amp;order=desc&amp;q=t&amp;limit=3">Size/,
    );
    assert.match(html, /<th scope=col><a href="\?q=t&amp;limit=3">Name/);
    assert.match(html, /<th scope=col class=mtime><a href="\?sort=mtime&amp;order=desc&amp;q=t&amp;limit=3">Modified/);
    assert.equal(html.match(/aria-sort=/g)?.length, 1);
  });

  test("no cookies: the same URL renders the same bytes", async () => {
    const a = await get(handler(), "/list/?sort=mtime");
    const b = await get(handler(), "/list/?sort=mtime", { cookie: "sort=size" });
    assert.equal(a.headers.get("set-cookie"), null);
    assert.equal(a.body, b.body);
  });
});

describe("item 4: filtering", () => {
  const rows: ReadonlyArray<readonly [string, string[]]> = [
    ["FILE", ["File2.txt", "file10.txt"]],
    ["É", ["é.txt"]],
    [".TXT", ["é.txt", "File2.txt", "file10.txt"]],
    ["dir", ["adir/", "Zdir/"]],
    ["inside", []], // this directory only: not the files in its subdirectories
    ["%zz", []],
  ];
  for (const [q, want] of rows) {
    test(`?q=${q}`, async () => {
      for (const format of ["html", "json", "text"] as const) {
        const got = namesOf(format, (await get(handler(), `/list/?format=${format}&q=${encodeURIComponent(q)}`)).body);
        assert.deepEqual(got, want, `${format}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    });
  }

  test("a GET form that works without JavaScript, keeping the sort", async () => {
    const html = (await get(handler(), "/list/?sort=size&q=a")).body;
    assert.match(
      html,
      /<form role=search method=get action="\.\/" data-live><label for=q>Filter<\/label><input id=q name=q type=search value="a"/,
    );
    assert.match(html, /<input type=hidden name="sort" value="size">/);
  });
});

describe("item 5: pages", () => {
  test("limit and offset in every format, with Link headers and the count", async () => {
    const h = handler();
    const first = await get(h, "/list/?limit=3");
    assert.deepEqual(namesOf("html", first.body), ["adir/", "Zdir/", "a.bin"]);
    assert.equal(first.headers.get("link"), '<?limit=3&offset=3>; rel="next"');
    assert.match(first.body, /<caption>1–3 of 7 entries<\/caption>/);
    const middle = await get(h, "/list/?limit=3&offset=3&format=json");
    assert.deepEqual(namesOf("json", middle.body), ["b.md", "é.txt", "File2.txt"]);
    assert.equal(middle.headers.get("link"), '<?format=json&limit=3>; rel="prev", <?format=json&limit=3&offset=6>; rel="next"');
    const last = await get(h, "/list/?limit=3&offset=6&format=text");
    assert.equal(last.body, "file10.txt\n");
    assert.equal(last.headers.get("link"), '<?format=text&limit=3&offset=3>; rel="prev"');
  });

  const clamps: ReadonlyArray<readonly [string, number]> = [
    ["?limit=0", 1],
    ["?limit=-5", 7],
    ["?limit=abc", 7],
    ["?limit=99999999", 7],
    ["?offset=9999999999", 0],
    ["?offset=99999999999", 7],
    ["?offset=-1", 7],
    ["?offset=5", 2],
  ];
  for (const [search, count] of clamps) {
    test(`${search} falls back or clamps: ${count} rows`, async () => {
      const res = await get(handler(), `/list/${search}&format=json`.replace("/&", "/?"));
      assert.equal(res.status, 200);
      assert.equal(namesOf("json", res.body).length, count);
    });
  }

  test("fuzz: any query string, any Accept, never a 5xx", async () => {
    const h = handler();
    const part = fc.oneof(fc.constantFrom("format", "sort", "order", "q", "limit", "offset", "x", ""), fc.string());
    const value = fc.oneof(
      fc.constantFrom("html", "json", "text", "name", "size", "mtime", "asc", "desc", "0", "-1", "1e3", "99999999999", "%", "%zz", "%ff"),
      fc.string(),
      fc.string({ unit: "grapheme" }),
    );
    const query = fc
      .array(fc.tuple(part, value), { maxLength: 6 })
      .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"));
    const raw = fc.stringMatching(/^[a-z=&%0-9+;]{0,40}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(query, raw),
        fc.oneof(fc.constant(undefined), fc.string(), fc.constantFrom("application/json;q=x", "*/*;q=0", ",,,")),
        async (search, accept) => {
          const res = await h.fetch(
            new Request(`http://x/list/?${search}`, { headers: accept === undefined ? {} : { accept: accept.replace(/[\r\n\0]/g, "") } }),
          );
          await res.arrayBuffer();
          assert.equal(res.status, 200, `?${search} Accept ${JSON.stringify(accept)}: got ${res.status}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("item 7: the page", () => {
  test("strict CSP: no 'unsafe-inline', the inline style and script allowed by their hashes", async () => {
    const res = await get(handler(), "/list/");
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.doesNotMatch(csp + res.body, /unsafe-inline/);
    const hash = (s: string): string => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;
    const style = /<style>([\s\S]*?)<\/style>/.exec(res.body)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(res.body)![1]!;
    assert.match(csp, new RegExp(`style-src ${hash(style).replace(/[+/]/g, "\\$&")};`));
    assert.match(csp, new RegExp(`script-src ${hash(script).replace(/[+/]/g, "\\$&")};`));
    assert.match(csp, /^default-src 'none'/);
  });

  test("breadcrumbs, caption, scoped headers, times, sizes with bytes, one sprite", async () => {
    const html = (await get(handler(), "/list/adir/")).body;
    assert.match(
      html,
      /<nav class=crumbs aria-label="Breadcrumb"><ol><li><a href="\.\.\/\.\.\/"><span class=visually-hidden>root <\/span>\/<\/a><\/li><li><a href="\.\.\/"><bdi dir=ltr>list<\/bdi><\/a><\/li><li><a href=".\/" aria-current="page"><bdi dir=ltr>adir<\/bdi><\/a><\/li><\/ol><\/nav>/,
    );
    assert.match(html, /<caption>1–1 of 1 entry<\/caption>/);
    assert.equal(html.match(/<th scope=col/g)?.length, 3);
    assert.match(html, /title="1 byte">1 B<\/td><td class=mtime><time datetime="2026-11-30T12:00:00.000Z">/);
    assert.equal(html.match(/<svg class=sprite/g)?.length, 1);
  });

  const README = "# Hello\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) [ok](./adir/) <img src=x onerror=alert(1)>\n";
  test("--readme: README.md rendered below the table, raw HTML and javascript: links disarmed", async () => {
    const dir = join(root, "withreadme");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "README.md"), README);
    const on = (await get(handler({ listing: { readme: true } }), "/withreadme/")).body;
    const readme = /<article class=readme aria-label="README.md">([\s\S]*?)<\/article>/.exec(on)?.[1];
    assert.ok(readme !== undefined, "no README in the page");
    assert.match(readme, /<h1>Hello<\/h1>/);
    assert.match(readme, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(readme, /<a href="\.\/adir\/">ok<\/a>/);
    assert.doesNotMatch(readme, /<script|<img|href="javascript/i);
    const off = (await get(handler(), "/withreadme/")).body;
    assert.doesNotMatch(off, /class=readme/, "off by default");
  });
});

describe("item 6 on the page: archive links when archives are on", () => {
  const rows: ReadonlyArray<readonly [name: string, archive: readonly ("zip" | "tar")[], want: string[]]> = [
    ["off (the default): no links", [], []],
    ["zip", ["zip"], ["?download=zip"]],
    ["zip and tar, in that order", ["tar", "zip"], ["?download=zip", "?download=tar"]],
  ];
  for (const [name, archive, want] of rows) {
    test(name, async () => {
      const h = handler({ archive });
      const html = (await get(h, "/list/")).body;
      const links = [...html.matchAll(/<a href="([^"]*)" download>/g)].map((m) => m[1]!);
      assert.deepEqual(links, want, `got ${JSON.stringify(links)}, want ${JSON.stringify(want)}`);
      // Only the page: the machine formats are the entries alone.
      for (const format of ["json", "text"]) assert.doesNotMatch((await get(h, `/list/?format=${format}`)).body, /download=/);
      // Each link answers with its archive, relative to the page's URL.
      for (const href of want) {
        const res = await get(h, `/list/${href}`);
        assert.equal(res.status, 200, href);
        assert.match(res.headers.get("content-disposition") ?? "", /^attachment; filename="list\.(zip|tar)"$/, href);
      }
    });
  }
});

describe("item 9: library options", () => {
  test("formats, default sort and order, page size", async () => {
    const h = handler({ listing: { formats: ["json", "text"], sort: "size", order: "desc", pageSize: 2 } });
    const res = await get(h, "/list/");
    assert.equal(res.headers.get("content-type"), "application/json", "the first enabled format by default");
    assert.deepEqual(
      namesOf("json", res.body),
      ["adir/", "Zdir/", "a.bin", "file10.txt", "b.md", "File2.txt", "é.txt"],
      "JSON pages default to 10,000",
    );
    assert.equal((await get(h, "/list/?format=html", { accept: "text/html" })).headers.get("content-type"), "application/json", "html off");
    const html = await get(handler({ listing: { pageSize: 2 } }), "/list/");
    assert.deepEqual(namesOf("html", html.body), ["adir/", "Zdir/"]);
  });

  const bad: ReadonlyArray<readonly [unknown, string]> = [
    [{ formats: [] }, "listing.formats"],
    [{ formats: ["xml"] }, "listing.formats"],
    [{ sort: "date" }, "listing.sort"],
    [{ pageSize: 0 }, "listing.pageSize"],
    [{ pageSize: 10_001 }, "listing.pageSize"],
    [{ readme: "yes" }, "listing.readme"],
    [{ colour: 1 }, "listing.colour"],
    ["yes", "listing"],
  ];
  for (const [value, option] of bad) {
    test(`listing: ${JSON.stringify(value)} is refused`, () => {
      assert.throws(
        () => createHandler({ root, listing: value as boolean }),
        (e: unknown) => e instanceof OptionError && e.message.includes(option),
      );
    });
  }
});

describe("item 2: every format lists exactly what answers 200", () => {
  let hostile = "";
  before(() => {
    hostile = join(root, "hostile");
    mkdirSync(join(hostile, ".git"), { recursive: true });
    writeFileSync(join(hostile, ".git", "config"), "secret");
    writeFileSync(join(hostile, ".env"), "secret");
    writeFileSync(join(hostile, "wharf.json"), "{}");
    writeFileSync(join(hostile, "htpasswd"), "u:x");
    writeFileSync(join(hostile, "plain.txt"), "ok");
    writeFileSync(join(hostile, "it's <b>.txt"), "ok");
    mkdirSync(join(hostile, "sub"));
    symlinkSync(join(hostile, ".git"), join(hostile, "to-git"));
    symlinkSync(join(hostile, ".git", "config"), join(hostile, "to-git-config"));
    symlinkSync(base, join(hostile, "out-dir"));
    symlinkSync("/etc/hostname", join(hostile, "out-file"));
    symlinkSync(join(hostile, "plain.txt"), join(hostile, "in-link.txt"));
    symlinkSync(join(hostile, "nowhere"), join(hostile, "dangling"));
    symlinkSync(join(hostile, "wharf.json"), join(hostile, "to-config"));
    execFileSync("mkfifo", [join(hostile, "fifo")]);
    writeFileSync(Buffer.concat([Buffer.from(`${hostile}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from(".txt")]), "x");
  });

  for (const format of ["html", "json", "text"] as const) {
    test(`${format}: listed names = names that answer 200`, async () => {
      const h = handler({ hiddenFiles: [join(hostile, "wharf.json"), join(hostile, "htpasswd")] });
      const listed = namesOf(format, (await get(h, `/hostile/?format=${format}`)).body).sort();
      const answering: string[] = [];
      for (const raw of readdirSync(hostile, { encoding: "buffer" })) {
        const name = raw.toString("utf8");
        const isDir = (() => {
          try {
            return statSync(join(hostile, name)).isDirectory();
          } catch {
            return false;
          }
        })();
        const url = `/hostile/${[...raw].map((b) => (/[A-Za-z0-9._-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, "0")}`)).join("")}${isDir ? "/" : ""}`;
        if ((await get(h, url)).status === 200) answering.push(name + (isDir ? "/" : ""));
      }
      answering.sort();
      assert.deepEqual(listed, answering, `listed ${JSON.stringify(listed)}, answering ${JSON.stringify(answering)}`);
      assert.deepEqual(listed, ["in-link.txt", "it's <b>.txt", "plain.txt", "sub/"]);
    });
  }
});

describe("names as text: read as strings, as bytes only when a name holds U+FFFD", () => {
  // Node reads a name that is not UTF-8 with U+FFFD for the bad bytes; the listing
  // must still tell such a name (left out) from one that really holds U+FFFD (listed).
  const rows: ReadonlyArray<readonly [name: string, bad: boolean]> = [
    ["only good names, one with a real U+FFFD", false],
    ["the same beside a name that is not UTF-8", true],
  ];
  for (const [name, bad] of rows) {
    test(name, async () => {
      const dir = join(root, bad ? "fffd-bad" : "fffd-good");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "real-\uFFFD.txt"), "x");
      writeFileSync(join(dir, "plain.txt"), "x");
      if (bad) writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff]), Buffer.from(".txt")]), "x");
      const h = handler();
      for (const format of ["json", "text", "html"] as const) {
        const listed = namesOf(format, (await get(h, `/${bad ? "fffd-bad" : "fffd-good"}/?format=${format}`)).body).sort();
        assert.deepEqual(listed, ["plain.txt", "real-\uFFFD.txt"], `${format}: got ${JSON.stringify(listed)}`);
      }
      assert.equal((await get(h, `/${bad ? "fffd-bad" : "fffd-good"}/real-%EF%BF%BD.txt`)).status, 200);
    });
  }
});

describe("wget -r mirrors a tree through the listing, and stops", () => {
  test("wget -r -np: every file, byte for byte, and only listing pages besides", { timeout: 60_000 }, async () => {
    const tree = join(base, "mirror-src");
    const files: Record<string, string> = { "a.txt": "A", "sub/b.txt": "BB", "sub/deep/c.txt": "CCC", "d e.txt": "spaced" };
    for (const [path, body] of Object.entries(files)) {
      mkdirSync(join(tree, path, ".."), { recursive: true });
      writeFileSync(join(tree, path), body);
    }
    const server = await serve({ root: tree, port: 0, host: "127.0.0.1", log: false });
    const out = join(base, "mirror-out");
    try {
      const code = await new Promise<number | null>((done, fail) => {
        const wget = spawn("wget", ["-r", "-np", "-nH", "-q", "-e", "robots=off", "-P", out, `http://127.0.0.1:${server.port}/`], {
          stdio: "ignore",
        });
        const deadline = setTimeout(() => {
          wget.kill("SIGKILL");
          fail(new Error("wget did not finish in 50 s: a listing loop"));
        }, 50_000);
        wget.on("exit", (c) => {
          clearTimeout(deadline);
          done(c);
        });
      });
      assert.equal(code, 0);
      const got: Record<string, string> = {};
      const pages: string[] = [];
      const walk = (dir: string, prefix: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const rel = prefix + e.name;
          if (e.isDirectory()) walk(join(dir, e.name), `${rel}/`);
          else if (/(^|\/)index\.html(\?.*)?$/.test(rel)) pages.push(rel);
          else got[rel] = readFileSync(join(dir, e.name), "utf8");
        }
      };
      walk(out, "");
      assert.deepEqual(got, files);
      // One page per directory and view: the sort links are finite and canonical.
      assert.ok(pages.length > 0 && pages.length <= 4 * 6, `${pages.length} listing pages: ${pages.join(", ")}`);
    } finally {
      await server.close();
    }
  });
});
