/**
 * End to end through the package a user installs: `npm pack`, a global install
 * into a clean prefix, then the installed `wharf` bin serves a directory and the
 * installed library imports with its types.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
let work: string;
let bin: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), "wharf-pack-"));
  const out = execFileSync("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", work], { cwd: repo, encoding: "utf8" });
  const tarball = join(work, out.trim().split("\n").at(-1) ?? "");
  const prefix = join(work, "prefix");
  execFileSync("npm", ["install", "-g", tarball, "--prefix", prefix, "--no-audit", "--no-fund", "--silent"], { cwd: work });
  bin = join(prefix, "bin", "wharf");
});
after(() => rmSync(work, { recursive: true, force: true }));

test("the tarball holds dist with types and no sources or tests", () => {
  const lib = join(work, "prefix", "lib", "node_modules", "wharf");
  assert.ok(existsSync(join(lib, "dist", "index.js")));
  assert.ok(existsSync(join(lib, "dist", "index.d.ts")));
  assert.ok(!existsSync(join(lib, "src")), "sources are not shipped");
  assert.ok(!existsSync(join(lib, "test")), "tests are not shipped");
  assert.ok(readdirSync(join(lib, "node_modules")).includes("mime-types"), "dependencies installed");
});

test("the installed bin prints its version", () => {
  const version = execFileSync(bin, ["--version"], { encoding: "utf8" });
  assert.match(version, /^wharf \d+\.\d+\.\d+/);
});

test("the installed bin serves a directory", async () => {
  const site = join(work, "site");
  execFileSync("mkdir", ["-p", site]);
  writeFileSync(join(site, "hello.txt"), "hello from the package");
  const child = spawn(bin, ["0", "--bind", "127.0.0.1", "--directory", site], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) resolve(m[0]);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const res = await fetch(`${url}hello.txt`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hello from the package");
  } finally {
    child.kill("SIGTERM");
  }
});

test("the installed library imports", () => {
  const lib = join(work, "prefix", "lib", "node_modules", "wharf");
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", `import { createHandler, serve } from ${JSON.stringify(join(lib, "dist", "index.js"))}; console.log(typeof createHandler, typeof serve);`], { encoding: "utf8" });
  assert.equal(out.trim(), "function function");
});
