// `wharf precompress DIR`: sidecars for compressible files, skipped when up to date.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const BIN = fileURLToPath(new URL("../../../dist/cli/bin.js", import.meta.url));
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

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, "precompress", ...args], { encoding: "utf8" });

test("writes .br and .gz beside compressible files only", () => {
  const r = run(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(zlib.brotliDecompressSync(readFileSync(join(dir, "js", "app.js.br"))).toString(), TEXT);
  assert.equal(zlib.gunzipSync(readFileSync(join(dir, "js", "app.js.gz"))).toString(), TEXT);
  for (const absent of ["tiny.css.br", "photo.png.br", ".secret.js.br"]) assert.ok(!existsSync(join(dir, absent)), absent);
  assert.match(r.stdout, /^js\/app\.js: 5\.9 KiB → br \d+ B, gzip \d+ B$/m);
  assert.match(r.stdout, /1 compressible file: wrote [23] sidecars, 0 up to date/);
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
