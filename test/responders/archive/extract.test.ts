/**
 * Archives of a directory (issue 13 item 6), unpacked by the real tools people
 * use — Info-ZIP's unzip, libarchive's bsdtar, 7-Zip, Python's zipfile and
 * tarfile — and compared file by file, byte for byte, with what a GET of each
 * path serves. The tree has awkward names (spaces, `%`, `#`, unicode), nested and
 * empty directories, an empty file, a deflated text file and a stored binary one
 * of several read pieces, and hostile entries that must never appear: dotfiles,
 * `.git/`, the operator's hidden files (and their sidecars), links out of the
 * root or into `.git/`, a FIFO and a link cycle.
 *
 * The tools are Debian's packages that .ci/run installs (unzip, libarchive-tools,
 * p7zip-full); a missing one fails the test rather than skip it.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunningServer, ServeOptions } from "../../../src/server/serve.js";
import { startServer } from "../../helpers/server.js";

const DIR = "photos ✓";
const DIR_URL = `/${encodeURIComponent(DIR)}/`;

/** Files a GET serves, by path inside DIR: their bytes. */
const FILES: Record<string, Buffer> = {
  "with space.txt": Buffer.from("with space"),
  "100%.txt": Buffer.from("100 percent"),
  "hash#tag.txt": Buffer.from("hash tag"),
  "ünïcödé ✓.txt": Buffer.from("unicode ✓"),
  "empty.txt": Buffer.alloc(0),
  "nested/deeper/leaf.txt": Buffer.from("leaf"),
  // Compressible and over 1 KiB: deflated in the zip.
  "page.html": Buffer.from("<p>wharf archives</p>\n".repeat(3000)),
  // Not compressible, 1.5 MiB: stored, and read in several pieces (64 KiB, 128, 256, 512, ...).
  "random.bin": randomBytes(1536 * 1024),
};
/** Directories, including empty ones, which the archives keep. */
const DIRECTORIES = ["empty-dir", "nested", "nested/deeper", "nested/empty-dir"];
/** Hostile entries: never in any archive. */
const HIDDEN = [
  ".env",
  ".git",
  "wharf.json",
  "wharf.json.gz",
  "htpasswd",
  "link-out",
  "link-git",
  "link-hidden",
  "link-in",
  "loop",
  "fifo",
];

let base = "";
let root = "";
let hasFifo = false;
before(() => {
  base = mkdtempSync(join(tmpdir(), "wharf-archive-"));
  root = join(base, "public");
  const dir = join(root, DIR);
  for (const d of DIRECTORIES) mkdirSync(join(dir, d), { recursive: true });
  for (const [name, bytes] of Object.entries(FILES)) writeFileSync(join(dir, name), bytes);
  mkdirSync(join(dir, ".git"));
  writeFileSync(join(dir, ".git", "config"), "[core]");
  writeFileSync(join(dir, ".env"), "SECRET=1");
  writeFileSync(join(dir, "wharf.json"), '{"auth":["u:p"]}');
  writeFileSync(join(dir, "wharf.json.gz"), "sidecar of a hidden file");
  writeFileSync(join(dir, "htpasswd"), "u:$apr1$x");
  mkdirSync(join(base, "outside"));
  writeFileSync(join(base, "outside", "secret.txt"), "outside the root");
  symlinkSync(join(base, "outside", "secret.txt"), join(dir, "link-out"));
  symlinkSync(".git/config", join(dir, "link-git"));
  symlinkSync("wharf.json", join(dir, "link-hidden"));
  symlinkSync("with space.txt", join(dir, "link-in"));
  symlinkSync(".", join(dir, "loop"));
  hasFifo = spawnSync("mkfifo", [join(dir, "fifo")]).status === 0;
});
after(() => rmSync(base, { recursive: true, force: true }));

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, path: string, method = "GET"): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.end();
  });
}

async function withServer<T>(options: ServeOptions, run: (port: number) => Promise<T>): Promise<T> {
  const server: RunningServer = await startServer({ root, hiddenFiles: [`${DIR}/wharf.json`, `${DIR}/htpasswd`], ...options });
  try {
    return await run(server.port);
  } finally {
    await server.close();
  }
}

/** Everything under `dir`: files with their bytes, directories as `null`. */
function readTree(dir: string, into: Map<string, Buffer | null> = new Map(), top = dir): Map<string, Buffer | null> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const name = relative(top, path).split("\\").join("/");
    if (entry.isDirectory()) {
      into.set(name, null);
      readTree(path, into, top);
    } else {
      into.set(name, readFileSync(path));
    }
  }
  return into;
}

/** The tree an archive must unpack to: the top folder, its directories and files. */
function expectedTree(extra: Record<string, Buffer> = {}): Map<string, Buffer | null> {
  const tree = new Map<string, Buffer | null>([[DIR, null]]);
  for (const d of DIRECTORIES) tree.set(`${DIR}/${d}`, null);
  for (const [name, bytes] of Object.entries({ ...FILES, ...extra })) tree.set(`${DIR}/${name}`, bytes);
  return tree;
}

function assertSameTree(got: Map<string, Buffer | null>, want: Map<string, Buffer | null>, tool: string): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${tool}: names`);
  for (const [name, bytes] of want) {
    const other = got.get(name);
    if (bytes === null) assert.equal(other, null, `${tool}: ${name} is a directory`);
    else
      assert.ok(
        other !== null && other !== undefined && bytes.equals(other),
        `${tool}: ${name}: got ${other?.length} bytes, want ${bytes.length} (byte for byte)`,
      );
  }
}

const PY_ZIP = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z:\n  assert z.testzip() is None\n  z.extractall(sys.argv[2])";
const PY_TAR = "import sys, tarfile\nwith tarfile.open(sys.argv[1]) as t:\n  t.extractall(sys.argv[2], filter='data')";

/** The extractors of each format: a command that unpacks `archive` into `out`. */
const EXTRACTORS: Record<"zip" | "tar", [string, (archive: string, out: string) => [string, string[]]][]> = {
  zip: [
    ["unzip", (a, o) => ["unzip", ["-q", a, "-d", o]]],
    ["bsdtar", (a, o) => ["bsdtar", ["-xf", a, "-C", o]]],
    ["7z", (a, o) => ["7z", ["x", "-y", `-o${o}`, a]]],
    ["python zipfile", (a, o) => ["python3", ["-c", PY_ZIP, a, o]]],
  ],
  tar: [
    ["bsdtar", (a, o) => ["bsdtar", ["-xf", a, "-C", o]]],
    ["7z", (a, o) => ["7z", ["x", "-y", `-o${o}`, a]]],
    ["python tarfile", (a, o) => ["python3", ["-c", PY_TAR, a, o]]],
  ],
};

function extractEverywhere(format: "zip" | "tar", archive: Buffer, want: Map<string, Buffer | null>): void {
  const work = mkdtempSync(join(base, `x-${format}-`));
  const file = join(work, `archive.${format}`);
  writeFileSync(file, archive);
  for (const [tool, command] of EXTRACTORS[format]) {
    const out = join(work, tool.replace(/\W/g, "-"));
    mkdirSync(out);
    const [cmd, args] = command(file, out);
    // LC_ALL: unzip and 7z decode names by the locale; a UTF-8 one, as on a desktop.
    const run = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C.UTF-8" } });
    assert.equal(run.error, undefined, `${tool} is not installed (.ci/run installs unzip, libarchive-tools, p7zip-full)`);
    assert.equal(run.status, 0, `${tool} failed: ${run.stderr}${run.stdout}`);
    assertSameTree(readTree(out), want, `${format} by ${tool}`);
  }
  if (format === "zip") {
    const check = spawnSync("unzip", ["-t", file], { encoding: "utf8" });
    assert.equal(check.status, 0, `unzip -t: ${check.stdout}`);
  }
}

for (const format of ["zip", "tar"] as const) {
  describe(`?download=${format}`, () => {
    test("unpacks with every tool to exactly the files a GET serves, byte for byte; nothing hidden", async () => {
      await withServer({ archive: ["zip", "tar"] }, async (port) => {
        const got = await get(port, `${DIR_URL}?download=${format}`);
        assert.equal(got.status, 200);
        extractEverywhere(format, got.body, expectedTree());
        // What the archive holds is what a GET serves, and the hostile entries answer no 200.
        for (const [name, bytes] of Object.entries(FILES)) {
          const one = await get(port, DIR_URL + name.split("/").map(encodeURIComponent).join("/"));
          assert.equal(one.status, 200, name);
          assert.ok(one.body.equals(bytes), name);
        }
        for (const name of HIDDEN.filter((n) => !["link-in", "loop"].includes(n))) {
          assert.notEqual((await get(port, DIR_URL + encodeURIComponent(name))).status, 200, `GET ${name}`);
        }
      });
    });

    test("with --follow-symlinks: links a GET follows are archived, hidden targets and cycles still are not", async () => {
      await withServer({ archive: [format], symlinks: "follow" }, async (port) => {
        const got = await get(port, `${DIR_URL}?download=${format}`);
        assert.equal(got.status, 200);
        // link-in and link-out answer a GET here; link-git, link-hidden do not; loop would never end.
        const want = expectedTree({ "link-in": FILES["with space.txt"]!, "link-out": Buffer.from("outside the root") });
        extractEverywhere(format, got.body, want);
        assert.equal((await get(port, `${DIR_URL}link-out`)).status, 200);
        assert.notEqual((await get(port, `${DIR_URL}link-git`)).status, 200);
        assert.notEqual((await get(port, `${DIR_URL}link-hidden`)).status, 200);
      });
    });

    test("headers: type, attachment name (RFC 6266/8187), no length, no validator, no-store; HEAD sends none of the body", async () => {
      await withServer({ archive: [format] }, async (port) => {
        for (const method of ["GET", "HEAD"]) {
          const got = await get(port, `${DIR_URL}?download=${format}`, method);
          assert.equal(got.status, 200, method);
          assert.equal(got.headers["content-type"], format === "zip" ? "application/zip" : "application/x-tar", method);
          assert.equal(
            got.headers["content-disposition"],
            `attachment; filename="photos _.${format}"; filename*=UTF-8''photos%20%E2%9C%93.${format}`,
            method,
          );
          assert.equal(got.headers["cache-control"], "no-store", method);
          assert.equal(got.headers["content-length"], undefined, method);
          assert.equal(got.headers["etag"], undefined, method);
          assert.equal(got.headers["last-modified"], undefined, method);
          if (method === "GET") assert.equal(got.headers["transfer-encoding"], "chunked");
          if (method === "HEAD") assert.equal(got.body.length, 0);
        }
        // The served root is named `root`; ASCII needs no filename*.
        const top = await get(port, `/?download=${format}`, "HEAD");
        assert.equal(top.headers["content-disposition"], `attachment; filename="root.${format}"`);
      });
    });
  });
}

describe("what ?download= does not touch", () => {
  test("off by default: the listing answers, as without the query", async () => {
    await withServer({}, async (port) => {
      const got = await get(port, `${DIR_URL}?download=zip`);
      assert.equal(got.status, 200);
      assert.match(String(got.headers["content-type"]), /^text\/html/);
    });
  });

  test("a format that is not on, a file, a hidden or missing directory: answered as a GET without the query", async () => {
    await withServer({ archive: ["zip"] }, async (port) => {
      const rows: [string, number, RegExp | undefined][] = [
        [`${DIR_URL}?download=tar`, 200, /^text\/html/],
        [`${DIR_URL}?download=rar`, 200, /^text\/html/],
        [`${DIR_URL}with%20space.txt?download=zip`, 200, /^text\/plain/],
        [`${DIR_URL}.git/?download=zip`, 404, undefined],
        [`${DIR_URL}nope/?download=zip`, 404, undefined],
      ];
      for (const [path, status, type] of rows) {
        const got = await get(port, path);
        assert.equal(got.status, status, `${path}: got ${got.status}, want ${status}`);
        if (type !== undefined) assert.match(String(got.headers["content-type"]), type, path);
      }
    });
  });

  test("the FIFO fixture exists (so its absence from the archives means something)", () => {
    if (hasFifo) assert.ok(statSync(join(root, DIR, "fifo")).isFIFO());
  });
});
