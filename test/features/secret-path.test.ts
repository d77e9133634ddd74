/**
 * `secretPath` (issue 16 item 2): everything under `/<secret>/`, every other path
 * the 404 of a missing file, the prefix kept by redirects that stay on the site
 * and never leaked by an error page, a redirect elsewhere, a Referer or the log.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { newSecretPath, secretPathOf, underSecret } from "../../src/features/secret-path.js";
import { OptionError } from "../../src/index.js";
import { serve } from "../../src/server/serve.js";
import { handlerFor, runRows } from "./support.js";

const S = "Abcdefghijklmnopqrstuv"; // 22 base64url characters
const tree = {
  "index.html": "<p>home</p>",
  "nums.txt": "123456789",
  "about.html": "<p>about</p>",
  docs: { "a.txt": "a" },
  files: { "x.txt": "x" },
};
const opts = { secretPath: S, cleanUrls: true, redirects: [{ source: "/go", destination: "https://example.org/", type: 302 as const }] };

describe("newSecretPath", () => {
  test("22 base64url characters from 16 random bytes, different each time", () => {
    const made = new Set(Array.from({ length: 100 }, newSecretPath));
    assert.equal(made.size, 100);
    for (const s of made) {
      assert.match(s, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(Buffer.from(s, "base64url").length, 16);
    }
  });
});

describe("secretPathOf", () => {
  const rows: { value: unknown; want: string | undefined | "error" }[] = [
    { value: undefined, want: undefined },
    { value: false, want: undefined },
    { value: S, want: S },
    { value: "short", want: "error" },
    { value: `${S.slice(0, 21)}/`, want: "error" },
    { value: `${S.slice(0, 21)}=`, want: "error" },
    { value: "x".repeat(129), want: "error" },
    { value: true, want: "error" }, // only serve() can make and tell one
    { value: 42, want: "error" },
  ];
  for (const row of rows) {
    test(`${JSON.stringify(row.value)}`, () => {
      if (row.want === "error") assert.throws(() => secretPathOf(row.value), OptionError);
      else assert.equal(secretPathOf(row.value), row.want);
    });
  }
});

describe("underSecret", () => {
  const key = Buffer.from(S, "latin1");
  const rows: [string, ReturnType<typeof underSecret>][] = [
    [`/${S}/`, "inside"],
    [`/${S}/a/b`, "inside"],
    [`/${S}`, "bare"],
    [`/${S}x/`, "outside"],
    [`/${S.slice(0, 21)}/`, "outside"],
    [`/${S.toLowerCase()}/`, "outside"],
    [`/${S.slice(0, 21)}%76/`, "outside"], // an encoded spelling is another path
    ["/", "outside"],
    ["", "outside"],
    ["*", "outside"],
    [`//${S}/`, "outside"],
    [`x${S}/`, "outside"],
    // A character above U+00FF whose low byte is the secret's first: latin1 alone would match it.
    [`/${String.fromCharCode(0x100 + S.charCodeAt(0))}${S.slice(1)}/`, "outside"],
  ];
  for (const [path, want] of rows) test(`${JSON.stringify(path)} is ${want}`, () => assert.equal(underSecret(path, key), want));
});

describe("a handler with a secret path", () => {
  const missing = handlerFor(tree, {});
  runRows(handlerFor(tree, opts), [
    { name: "a file under the prefix", path: `/${S}/nums.txt`, status: 200, body: "123456789", want: { "referrer-policy": "no-referrer" } },
    { name: "the index under the prefix", path: `/${S}/`, status: 200, body: "<p>home</p>" },
    { name: "the prefix alone goes to its slash", path: `/${S}?q=1`, status: 301, want: { location: `/${S}/?q=1` } },
    { name: "a directory's slash keeps the prefix", path: `/${S}/docs`, status: 301, want: { location: `/${S}/docs/` } },
    { name: "a clean-URL redirect keeps the prefix", path: `/${S}/about.html`, status: 301, want: { location: `/${S}/about` } },
    { name: "clean URLs under the prefix", path: `/${S}/about`, status: 200, body: "<p>about</p>" },
    { name: "a redirect to another site carries no prefix", path: `/${S}/go`, status: 302, want: { location: "https://example.org/" } },
    { name: "the file without the prefix", path: "/nums.txt", status: 404, want: { "referrer-policy": "no-referrer" } },
    { name: "the root without the prefix", path: "/", status: 404 },
    { name: "a wrong prefix", path: `/${S.slice(0, 21)}w/nums.txt`, status: 404 },
    { name: "a missing file under the prefix", path: `/${S}/nope.txt`, status: 404 },
    { name: "traversal out of the prefix", path: `/${S}/../nums.txt`, status: 404 },
  ]);

  test("a wrong path gets the same 404, byte for byte, as a missing file without the feature; no page names the prefix", async () => {
    const h = handlerFor(tree, opts);
    const plain = await (await missing.fetch(new Request("http://x/nope.txt"))).text();
    for (const path of ["/nums.txt", `/${S.slice(0, 21)}w/`, "/%2e%2e/", `/${S}/nope.txt`, `/${S}/docs/nope/`, `/${S}/%00`]) {
      const res = await h.fetch(new Request(`http://x${path}`));
      const body = await res.text();
      assert.ok(res.status === 404 || res.status === 400, `${path}: got ${res.status}`);
      if (res.status === 404) assert.equal(body, plain, `${path}: the missing file's page`);
      assert.ok(!body.includes(S), `${path}: the page names the prefix`);
    }
  });

  test("the listing's links work under the prefix", async () => {
    const h = handlerFor(tree, opts);
    const page = await (await h.fetch(new Request(`http://x/${S}/docs/`, { headers: { accept: "text/html" } }))).text();
    const hrefs = [...page.matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(hrefs.includes("./a.txt") && hrefs.includes("../"), hrefs.join(" "));
    for (const href of hrefs) {
      const url = new URL(href.replace(/&amp;/g, "&"), `http://x/${S}/docs/`);
      const res = await h.fetch(new Request(url, { headers: { accept: "text/html" } }));
      assert.equal(res.status, 200, `${href} -> ${url.pathname}: got ${res.status}`);
    }
    assert.ok(!page.includes(S), "the listing does not print the prefix");
  });
});

test("live reload is refused with a secret path: its event stream would name what is shared to anyone", () => {
  assert.throws(
    () => handlerFor(tree, { secretPath: S, live: true }),
    (e: unknown) => e instanceof OptionError && /secretPath/.test(e.message),
  );
});

describe("serve() with secretPath: true", () => {
  const dir = mkdtempSync(join(tmpdir(), "wharf-secret-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", "f.txt"), "f");

  test("makes a prefix, every URL has it, and the access log never prints it", async () => {
    const lines: string[] = [];
    const server = await serve({
      root: dir,
      port: 0,
      host: "127.0.0.1",
      secretPath: true,
      log: (l) => lines.push(l),
      logFormat: "combined",
    });
    try {
      const secret = server.secretPath!;
      assert.match(secret, /^[A-Za-z0-9_-]{22}$/);
      assert.deepEqual(server.urls, [`http://127.0.0.1:${server.port}/${secret}/`]);
      const base = server.urls[0]!;
      assert.equal((await fetch(`${base}sub/f.txt`, { headers: { referer: `${base}sub/` } })).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/sub/f.txt`)).status, 404);
      const redirect = await fetch(`${base}sub`, { redirect: "manual" });
      assert.equal(redirect.headers.get("location"), `/${secret}/sub/`);
      await server.close();
      assert.equal(lines.length, 3, lines.join("\n"));
      for (const line of lines) assert.ok(!line.includes(secret), `the log names the secret: ${line}`);
      assert.match(lines[0]!, /"GET \/…\/sub\/f\.txt HTTP\/1\.1" 200 .*"http:\/\/127\.0\.0\.1:\d+\/…\/sub\/"/);
    } finally {
      await server.close();
    }
  });

  test("an internal error's line on stderr never prints the prefix either", async () => {
    const server = await serve({
      root: dir,
      port: 0,
      host: "127.0.0.1",
      secretPath: true,
      log: false,
      use: [
        () => {
          throw new Error("boom");
        },
      ],
    });
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      assert.equal((await fetch(`${server.urls[0]}sub/f.txt`)).status, 500);
    } finally {
      process.stderr.write = write;
      await server.close();
    }
    const internal = lines.filter((l) => l.includes("internal error"));
    assert.equal(internal.length, 1, lines.join(""));
    assert.ok(!internal[0]!.includes(server.secretPath!), `stderr names the secret: ${internal[0]}`);
    assert.match(internal[0]!, /internal error on GET \/…\/sub\/f\.txt: boom/);
  });

  test("two servers make two prefixes; a given one is kept", async () => {
    const a = await serve({ root: dir, port: 0, host: "127.0.0.1", secretPath: true, log: false });
    const b = await serve({ root: dir, port: 0, host: "127.0.0.1", secretPath: S, log: false });
    try {
      assert.notEqual(a.secretPath, undefined);
      assert.equal(b.secretPath, S);
      assert.equal((await fetch(`${b.urls[0]}sub/f.txt`)).status, 200);
      assert.equal((await fetch(`${a.urls[0]!.replace(a.secretPath!, S)}sub/f.txt`)).status, 404);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
