/**
 * What is hidden stays hidden by every route (issue 10 items 7 and 8): a
 * configuration or password file inside the root, by its real path, whatever
 * rewrite, clean URL, index, sidecar, symlink or listing leads to it; and a
 * listing shows exactly the entries a GET of them would serve.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { after, describe, test } from "node:test";
import zlib from "node:zlib";
import { memoryFileSystem } from "../../src/fs/memory.js";
import type { FileSystem } from "../../src/fs/types.js";
import { createHandler, type WharfHandler } from "../../src/handler/create.js";
import type { StaticOptions } from "../../src/handler/options.js";
import { DIGEST_SUFFIX, SIDECAR_SUFFIXES } from "../../src/path/visibility.js";
import { DIGEST_SIDECAR_SUFFIX } from "../../src/responders/digest-sidecar.js";
import { SIDECAR_SUFFIX } from "../../src/responders/encoders.js";
import { startCli } from "../helpers/cli.js";
import { createFixture } from "../helpers/fixture.js";

const CONFIG = JSON.stringify({
  rewrites: [{ source: "/files/:name", destination: "/:name" }],
  headers: [{ source: "/api/**", headers: { "X-Api-Token": "CONFIG-PASSWORD-1f2e" } }],
}).padEnd(2000, " ");
const HTPASSWD = "admin:{SHA}HTPASSWD-HASH-9a8b7c=\n";
const SECRETS = ["CONFIG-PASSWORD-1f2e", "HTPASSWD-HASH-9a8b7c", "HIDDEN-PAGE-5d4c", "HIDDEN-INDEX-3b2a"];

const base = mkdtempSync(join(tmpdir(), "wharf-visibility-"));
const root = join(base, "site");
const files: Record<string, string | Buffer> = {
  "public.txt": "public",
  "wharf.json": CONFIG,
  // As `wharf precompress` on main wrote them.
  "wharf.json.br": zlib.brotliCompressSync(CONFIG),
  "wharf.json.gz": zlib.gzipSync(CONFIG),
  "conf/htpasswd": HTPASSWD,
  "conf/htpasswd.sha256": `${createHash("sha256").update(HTPASSWD).digest("hex")}  htpasswd\n`,
  "conf/readme.txt": "readme",
  "page.html": "<p>HIDDEN-PAGE-5d4c</p>",
  "dir/index.html": "<p>HIDDEN-INDEX-3b2a</p>",
  "dir/other.txt": "other",
};
for (const [name, content] of Object.entries(files)) {
  mkdirSync(join(root, name, ".."), { recursive: true });
  writeFileSync(join(root, name), content);
}
symlinkSync("wharf.json", join(root, "config-link.json"));
symlinkSync("conf", join(root, "conf-link"));
after(() => rmSync(base, { recursive: true, force: true }));

const options: StaticOptions = {
  root,
  hiddenFiles: [join(root, "wharf.json"), "conf/htpasswd", "page.html", "dir/index.html"],
  rewrites: [
    { source: "/files/:name", destination: "/:name" },
    { source: "/deep/:a/:b", destination: "/:a/:b" },
  ],
  cleanUrls: true,
  revalidateMs: 0,
};

async function get(handler: WharfHandler, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await handler.fetch(new Request(`http://x${path}`, { headers }));
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()).toString("latin1") };
}

/** The hrefs of a listing page's rows, resolved against its URL. */
function links(html: string, at: string): string[] {
  return [...html.matchAll(/<td class=name>(?:<svg class=icon [\s\S]*?<\/svg>)?<a href="([^"]*)">/g)].map(
    (m) => new URL(m[1]!.replaceAll("&amp;", "&"), `http://x${at}`).pathname,
  );
}

describe("hidden files, by real path (item 7)", () => {
  const handler = createHandler(options, () => {});
  const rows: ReadonlyArray<readonly [name: string, path: string, headers?: Record<string, string>]> = [
    ["the exact URL", "/wharf.json"],
    ["through a rewrite", "/files/wharf.json"],
    ["through a two-parameter rewrite", "/deep/conf/htpasswd"],
    ["a dot segment", "/conf/./htpasswd"],
    ["an encoded name", "/%77harf.json"],
    ["its brotli sidecar, by name", "/wharf.json.br"],
    ["its gzip sidecar, by name", "/files/wharf.json.gz"],
    ["its sidecar, negotiated", "/wharf.json", { "accept-encoding": "br, gzip" }],
    ["the password file's digest sidecar", "/conf/htpasswd.sha256"],
    ["a symlink to it", "/config-link.json"],
    ["a symlinked directory", "/conf-link/htpasswd"],
    ["the password file", "/conf/htpasswd"],
    ["a clean URL", "/page"],
    ["a hidden page by name", "/page.html"],
    ["a hidden index file", "/dir/"],
    ["a hidden index file by name", "/dir/index.html"],
  ];
  for (const [name, path, headers] of rows) {
    test(`${name}: ${path}`, async () => {
      const res = await get(handler, path, headers);
      for (const secret of SECRETS) assert.ok(!res.body.includes(secret), `${path}: got ${res.status} with ${secret}`);
      // `/dir/` has no index any more: its listing, without the hidden index. Clean URLs
      // redirect any `X.html` to `X` (existing or not), which then answers 404.
      const want = path === "/dir/" ? 200 : path.endsWith(".html") ? 301 : 404;
      assert.equal(res.status, want, `${path}: got ${res.status}, want ${want}`);
    });
  }

  test("listings leave them out, and everything they list answers 200", async () => {
    for (const [at, want] of [
      ["/", ["/conf-link/", "/conf/", "/dir/", "/public.txt"]],
      ["/conf/", ["/", "/conf/readme.txt"]],
      ["/conf-link/", ["/", "/conf-link/readme.txt"]],
      ["/dir/", ["/", "/dir/other.txt"]],
    ] as const) {
      const page = await get(handler, at);
      assert.equal(page.status, 200, at);
      const got = links(page.body, at).sort();
      assert.deepEqual(got, [...want].sort(), `${at} links`);
      for (const hidden of ["wharf.json", "htpasswd", "page.html", "config-link", "index.html</"]) {
        assert.ok(!page.body.includes(`>${hidden}`), `${at} shows ${hidden}`);
      }
      for (const link of got) assert.equal((await get(handler, link)).status, 200, `${at} links ${link}`);
    }
  });

  test("the files next to them are served", async () => {
    for (const path of ["/public.txt", "/conf/readme.txt", "/files/public.txt", "/dir/other.txt"]) {
      assert.equal((await get(handler, path)).status, 200, path);
    }
  });

  test("the authFile is hidden without being named, even to its own users", async () => {
    const dir = join(base, "auth");
    mkdirSync(dir);
    const line = `admin:{SHA}${createHash("sha1").update("pw").digest("base64")}\n`;
    writeFileSync(join(dir, "htpasswd"), line);
    symlinkSync("htpasswd", join(dir, "users.txt"));
    const withAuth = createHandler({ root: dir, authFile: join(dir, "htpasswd"), revalidateMs: 0 }, () => {});
    const authorization = `Basic ${Buffer.from("admin:pw").toString("base64")}`;
    for (const path of ["/htpasswd", "/users.txt"]) {
      const res = await get(withAuth, path, { authorization });
      assert.equal(res.status, 404, `${path}: got ${res.status}`);
      assert.ok(!res.body.includes("{SHA}"), `${path}: served the password file`);
    }
  });

  test("no middleware is added for it (the synchronous fast path stays on)", async () => {
    // The CLI passes the configuration file as hiddenFiles; `use` stays empty.
    const { settle } = await import("../../src/cli/settings.js");
    const cwd = mkdtempSync(join(tmpdir(), "wharf-visibility-cwd-"));
    try {
      writeFileSync(join(cwd, "wharf.json"), JSON.stringify({ listing: false }));
      const settled = await settle({ root: cwd }, undefined, {}, cwd);
      assert.equal(settled.options.use, undefined);
      assert.deepEqual(settled.options.hiddenFiles, [join(cwd, "wharf.json")]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test("the built CLI: wharf.json in the served directory, through its own rewrite and the listing", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "wharf-visibility-cli-"));
    writeFileSync(join(cwd, "wharf.json"), CONFIG);
    writeFileSync(join(cwd, "a.txt"), "a");
    const w = await startCli(["0", "-b", "127.0.0.1"], { cwd });
    try {
      const origin = w.url.slice(0, -1);
      for (const path of ["/wharf.json", "/files/wharf.json", "/WHARF.json"]) {
        const res = await fetch(origin + path);
        const body = await res.text();
        assert.equal(res.status, 404, `${path}: got ${res.status}`);
        assert.ok(!body.includes("CONFIG-PASSWORD"), `${path} served the configuration`);
      }
      const listing = await (await fetch(`${origin}/`)).text();
      assert.ok(listing.includes("a.txt") && !listing.includes("wharf.json"), "the listing shows wharf.json");
    } finally {
      await w.stop();
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test("the sidecar suffixes agree with the encoders'", () => {
    assert.deepEqual([...SIDECAR_SUFFIXES].sort(), Object.values(SIDECAR_SUFFIX).sort());
    assert.equal(DIGEST_SUFFIX, DIGEST_SIDECAR_SUFFIX);
  });
});

/**
 * A file system that finds names whatever their case, as macOS and Windows do by
 * default, and that gives back the case it was asked with (as realpath may there).
 */
function caseInsensitive(inner: FileSystem): FileSystem {
  const low = (p: string): string => p.toLowerCase();
  return {
    stat: (p) => inner.stat(low(p)),
    realpath: async (p) => {
      await inner.realpath(low(p));
      return posix.resolve(p);
    },
    readdir: (p) => inner.readdir(low(p)),
    open: (p) => inner.open(low(p)),
  };
}

describe("hidden files on a case-insensitive file system (item 7)", () => {
  const tree = { "wharf.json": CONFIG, "public.txt": "public", conf: { htpasswd: HTPASSWD } };
  const opts = { root: "/site", hiddenFiles: ["/site/wharf.json", "/site/conf/htpasswd"], revalidateMs: 0 };
  for (const path of ["/WHARF.JSON", "/Wharf.Json", "/CONF/HTPASSWD", "/conf/HtPasswd"]) {
    test(`${path} is hidden`, async () => {
      const handler = createHandler({ ...opts, fs: caseInsensitive(memoryFileSystem("/site", tree)) }, () => {});
      const res = await get(handler, path);
      assert.equal(res.status, 404, `${path}: got ${res.status}`);
    });
  }
  test("other names still found in any case", async () => {
    const handler = createHandler({ ...opts, fs: caseInsensitive(memoryFileSystem("/site", tree)) }, () => {});
    assert.equal((await get(handler, "/PUBLIC.TXT")).status, 200);
  });
  test("on a case-sensitive one, another case is another file", async () => {
    const handler = createHandler({ ...opts, fs: memoryFileSystem("/site", { ...tree, "WHARF.JSON": "not the config" }) }, () => {});
    assert.deepEqual(await get(handler, "/WHARF.JSON"), { status: 200, body: "not the config" });
    assert.equal((await get(handler, "/wharf.json")).status, 404);
  });
});

describe("a listing shows what a GET serves (item 8)", () => {
  for (const dotfiles of ["ignore", "deny"] as const) {
    test(`dotfiles ${dotfiles}: a symlink into .git is not listed, and every link answers 200`, async () => {
      const fixture = createFixture();
      try {
        const handler = createHandler({ root: fixture.root, dotfiles, revalidateMs: 0 }, () => {});
        assert.equal((await get(handler, "/link-to-git.txt")).status, dotfiles === "deny" ? 403 : 404);
        const page = await get(handler, "/");
        assert.ok(!page.body.includes("link-to-git.txt"), "the listing shows link-to-git.txt");
        for (const link of links(page.body, "/")) {
          const res = await get(handler, link);
          assert.equal(res.status, 200, `the listing links ${link}, which answers ${res.status}`);
        }
      } finally {
        fixture.remove();
      }
    });
  }

  test("a link into a hidden directory, in the in-memory file system too", async () => {
    const fs = memoryFileSystem("/site", {
      ".git": { config: "[core]" },
      "a.txt": "a",
      link: { symlink: ".git/config" },
      ok: { symlink: "a.txt" },
    });
    const handler = createHandler({ root: "/site", fs }, () => {});
    const page = await get(handler, "/");
    assert.deepEqual(links(page.body, "/").sort(), ["/a.txt", "/ok"]);
  });
});
