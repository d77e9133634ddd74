// `wharf precompress DIR`: sidecars for compressible files, skipped when up to date.

import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, sep } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import zlib from "node:zlib";
import { precompress, precompressCommand, temporaryName } from "../../src/cli/precompress.js";

import { ENCODINGS, SIDECAR_SUFFIX } from "../../src/responders/encoders.js";
import { runCli } from "../helpers/cli.js";

const SIDECARS_OF_APP = ENCODINGS.map((e) => `app.js${SIDECAR_SUFFIX[e]}`);

const TEXT = "console.log('precompressed');\n".repeat(200);
let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-pre-"));
  mkdirSync(join(dir, "js"));
  writeFileSync(join(dir, "js", "app.js"), TEXT);
  writeFileSync(join(dir, "tiny.css"), "a{}"); // under 1 KiB
  writeFileSync(join(dir, "photo.png"), Buffer.alloc(4096, 1)); // not compressible
  writeFileSync(join(dir, ".secret.js"), TEXT); // dotfiles are left alone
});
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => runCli(["precompress", ...args]);

test("writes .br and .gz beside compressible files only", () => {
  const r = run(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(zlib.brotliDecompressSync(readFileSync(join(dir, "js", "app.js.br"))).toString(), TEXT);
  assert.equal(zlib.gunzipSync(readFileSync(join(dir, "js", "app.js.gz"))).toString(), TEXT);
  for (const absent of ["tiny.css.br", "photo.png.br", ".secret.js.br"]) assert.ok(!existsSync(join(dir, absent)), absent);
  // zstd where this Node has it (22.15 and later), and then its sidecar too.
  if (ENCODINGS.includes("zstd")) {
    const zstdDecompress = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync;
    assert.equal(zstdDecompress(readFileSync(join(dir, "js", "app.js.zst"))).toString(), TEXT);
    assert.match(r.stdout, /^js\/app\.js: 5\.9 KiB → br \d+ B, zstd \d+ B, gzip \d+ B$/m);
    assert.match(r.stdout, /1 compressible file: wrote 3 sidecars, 0 up to date/);
  } else {
    assert.ok(!existsSync(join(dir, "js", "app.js.zst")), "no .zst without zstd");
    assert.match(r.stdout, /^js\/app\.js: 5\.9 KiB → br \d+ B, gzip \d+ B$/m);
    assert.match(r.stdout, /1 compressible file: wrote 2 sidecars, 0 up to date/);
  }
});

test("a second run skips up-to-date sidecars; an edited file is done again", () => {
  assert.match(run(dir).stdout, /wrote 0 sidecars, [23] up to date/);
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, "js", "app.js"), later, later);
  assert.match(run(dir, "-q").stdout, /^1 compressible file: wrote [23] sidecars, 0 up to date/);
});

test("a missing directory is one line and exit 1", () => {
  const r = run(join(dir, "nope"));
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `wharf: precompress: directory not found: ${join(dir, "nope")}\n`);
});

// Issue 11 item 2: safe to try. Through the built CLI.
describe("safe to try", () => {
  let tree = "";
  before(() => {
    tree = mkdtempSync(join(tmpdir(), "wharf-pre-safe-"));
    for (const name of [
      "app.js",
      "node_modules/lib/index.js",
      ".cache/chunk.js",
      "sub/.hidden/x.js",
      ".env.js",
      "wharf.json",
      "serve.json",
      "conf/htpasswd.json",
      "conf/.htpasswd",
    ]) {
      mkdirSync(join(tree, name, ".."), { recursive: true });
      writeFileSync(join(tree, name), TEXT);
    }
  });
  after(() => rmSync(tree, { recursive: true, force: true }));

  const sidecars = (): string[] =>
    readdirSync(tree, { recursive: true, encoding: "utf8" })
      .filter((p) => /\.(br|gz|zst|tmp)$/.test(p))
      .sort();

  test("without a folder: usage on stderr, exit 2, nothing written", () => {
    const r = runCli(["precompress"], { cwd: tree });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^wharf: precompress: which folder\?.*\n\nusage: wharf precompress \[options\] DIR\n/);
    assert.equal(r.stdout, "");
    assert.deepEqual(sidecars(), []);
  });

  test("--dry-run lists what it would write and writes nothing", () => {
    const r = run("--dry-run", tree);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(lines.slice(0, -1), [`would write ${SIDECARS_OF_APP.join(", ")}`]);
    assert.match(lines.at(-1)!, /^1 compressible file \(5\.9 KiB\): would write [23] sidecars, 0 up to date; nothing written \(dry run\)$/);
    assert.deepEqual(sidecars(), []);
  });

  test("skips node_modules, dot-directories, dotfiles, configuration and password files", () => {
    const r = run(tree);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(sidecars(), [...SIDECARS_OF_APP].sort());
    // The closing line says what was saved.
    assert.match(
      r.stdout,
      /^1 compressible file: wrote [23] sidecars, 0 up to date, 0 not smaller; best codings save [\d.]+ KiB of 5\.9 KiB \(\d+%\)$/m,
    );
  });

  test("--include-node-modules and --dotfiles take them in; configuration and password files never", () => {
    const r = run("-q", "--include-node-modules", "--dotfiles", tree);
    assert.equal(r.status, 0, r.stderr);
    const got = sidecars()
      .map((p) => p.replace(/\.(br|gz|zst)$/, ""))
      .filter((p, i, all) => all.indexOf(p) === i);
    assert.deepEqual(
      got,
      [".cache/chunk.js", ".env.js", "app.js", "node_modules/lib/index.js", "sub/.hidden/x.js"].map((p) => p.split("/").join(sep)).sort(),
    );
  });

  test("progress on stderr, a line every 1,000 files when not a terminal", () => {
    const many = mkdtempSync(join(tmpdir(), "wharf-pre-many-"));
    try {
      for (let i = 0; i < 1000; i++) writeFileSync(join(many, `f${i}.txt`), "x");
      const r = run(many);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "precompress: 1,000 files looked at, 0 sidecars written\n");
    } finally {
      rmSync(many, { recursive: true, force: true });
    }
  });

  test("on a terminal, one line redrawn with \\r and cleared at the end", async () => {
    const many = mkdtempSync(join(tmpdir(), "wharf-pre-tty-"));
    try {
      for (let i = 0; i < 40; i++) writeFileSync(join(many, `f${i}.txt`), "x");
      let progress = "";
      let out = "";
      const code = await precompressCommand(
        [many],
        (t) => (out += t),
        () => undefined,
        { isTTY: true, write: (t) => (progress += t) },
      );
      assert.equal(code, 0);
      assert.equal(
        progress,
        "\rprecompress: 16 files looked at, 0 sidecars written\rprecompress: 32 files looked at, 0 sidecars written\r\x1b[K",
      );
      assert.match(out, /^0 compressible files: wrote 0 sidecars/);
      progress = "";
      assert.equal(
        await precompressCommand(
          ["-q", many],
          () => undefined,
          () => undefined,
          { isTTY: true, write: (t) => (progress += t) },
        ),
        0,
      );
      assert.equal(progress, "", "-q shows no progress");
    } finally {
      rmSync(many, { recursive: true, force: true });
    }
  });
});

// Issue 10 item 10: a tree someone else can write to must not make precompress
// write outside it.
describe("never follows a planted symlink", () => {
  let base = "";
  let site = "";
  let victim = "";
  const ORIGINAL = "the victim's own bytes\n";
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), "wharf-pre-link-"));
    site = join(base, "site");
    mkdirSync(site);
    writeFileSync(join(site, "app.js"), TEXT);
    victim = join(base, "victim.txt");
    writeFileSync(victim, ORIGINAL);
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  test("at the old predictable temporary name (X.br.<pid>.tmp)", async () => {
    // Run in this process, so the pid main used in the name is known in advance.
    for (const suffix of [".br", ".gz", ".zst"]) symlinkSync(victim, join(site, `app.js${suffix}.${process.pid}.tmp`));
    await precompress(site, () => undefined);
    assert.equal(readFileSync(victim, "utf8"), ORIGINAL, "the file outside the tree was overwritten");
    assert.equal(zlib.brotliDecompressSync(readFileSync(join(site, "app.js.br"))).toString(), TEXT);
    assert.ok(!lstatSync(join(site, "app.js.br")).isSymbolicLink());
  });

  test("at the sidecar's own name (X.br): left alone, its target untouched", () => {
    symlinkSync(victim, join(site, "app.js.br"));
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(victim, old, old); // older than app.js: a stale sidecar by its target's date
    const r = run(site);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(victim, "utf8"), ORIGINAL, "wrote through the symlink");
    assert.ok(lstatSync(join(site, "app.js.br")).isSymbolicLink(), "the link was replaced or removed");
    assert.match(r.stdout, /^app\.js\.br: not a regular file, left alone$/m);
    assert.match(r.stdout, /wrote [12] sidecars?, 0 up to date, 0 not smaller, 1 left alone;/);
  });

  test("a source file that is a symlink is not read", () => {
    symlinkSync(victim, join(site, "linked.js"));
    writeFileSync(victim, TEXT);
    run(site);
    assert.ok(!existsSync(join(site, "linked.js.br")));
  });

  test("temporary names are unpredictable dotfiles beside the target", () => {
    const a = temporaryName(join(site, "app.js.br"));
    const b = temporaryName(join(site, "app.js.br"));
    assert.notEqual(a, b);
    assert.match(basename(a), /^\.app\.js\.br\.[0-9a-f]{24}\.tmp$/);
    assert.equal(dirname(a), site);
  });
});
