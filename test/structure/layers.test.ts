/**
 * The layers of src/ only call down (issue 12 item 1; docs/design.md, "Layers").
 *
 * Every import of every src/**\/*.ts file is read, static, `export ... from`,
 * `import type` and dynamic `import("...")` alike (a type is a dependency too),
 * and mapped to its *unit*: the folder under src/ (`core`, `http`, ...), or the
 * file itself for a file at the top (`index.ts`). Then:
 *
 * - every unit is in {@link LAYERS}: a new folder must be given its place;
 * - a unit imports only units of a lower layer (never one beside it, never one above);
 * - the graph between units has no cycle (implied by the above, checked on its own
 *   so a wrong table cannot hide one);
 * - the pure layers (`core`, `http`, `path`) load no Node module that does I/O.
 *
 * Imports named in comments (`{@link import("../fs/types.js").FileSystem}`) are
 * documentation, not dependencies, and are left out.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, posix, relative, sep } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../../src/", import.meta.url));

/**
 * Bottom to top. A unit may import the units of the layers before its own, and no
 * other. Units in one layer are independent of each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  // The model every layer shares: request, reply and its constructors (error pages
  // included), middleware and compose, errors, small text helpers.
  ["core"],
  // Pure HTTP rules, pure path rules, and the small file-system interface.
  ["http", "path", "fs"],
  // A request in, a reply out: resolver, resources, variants, listing, static.
  ["responders"],
  // Middleware around the responders; the Node and Fetch adapters.
  ["features", "adapters"],
  // The handler assembly: options resolved, features composed, every shape.
  ["handler"],
  ["tls"],
  ["server"],
  ["config"],
  ["cli"],
  // The public surface.
  ["index.ts"],
];

/** Units that decide, and must not do I/O: they import nothing but `core` (checked by the layers) and no I/O module. */
const PURE = new Set(["core", "http", "path"]);

/**
 * The Node modules a pure unit may load. `node:path` manipulates strings.
 * `node:crypto` is allowed for what the pure layers use it for, hashing bytes they
 * hold (a style's CSP hash) and drawing a multipart boundary: computation, no file,
 * socket or process touched. Everything else (fs, net, http, tls, child_process,
 * worker_threads, os, stream, zlib, ...) is I/O or runtime state and belongs to
 * `fs/`, the responders and above. `node:module` is allowed for createRequire
 * alone: core/glob.ts loads picomatch at the first glob instead of with the
 * package, loading the code a static import would load, only later.
 */
const PURE_NODE_MODULES = new Set(["node:path", "node:crypto", "node:module"]);

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/**
 * The module specifiers `text` imports. Comments are dropped first: block comments
 * and `//` comments that begin a line (the style of this code base; an import is
 * never written after code on a line), so string contents are never mistaken for one.
 */
export function importsOf(text: string): string[] {
  const code = text.replace(/^[ \t]*\/\*[\s\S]*?\*\//gm, "").replace(/^[ \t]*\/\/.*$/gm, "");
  const specs: string[] = [];
  const patterns = [
    // import x from "m"; import { a, type B } from "m"; export { a } from "m"; export * from "m"
    /^[ \t]*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm,
    // import "m";
    /^[ \t]*import\s*["']([^"']+)["']/gm,
    // await import("m")
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) specs.push(match[1]!);
  return specs;
}

/** The unit a path under src/ belongs to. */
function unitOf(pathUnderSrc: string): string {
  return pathUnderSrc.split("/")[0]!;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly spec: string;
}

/** Every import of src/, as unit edges (within a unit too), and every non-relative specifier by unit. */
function readGraph(): { edges: Edge[]; external: { unit: string; file: string; spec: string }[]; files: number } {
  const edges: Edge[] = [];
  const external: { unit: string; file: string; spec: string }[] = [];
  const files = sourceFiles(SRC);
  for (const path of files) {
    const file = relative(SRC, path).split(sep).join("/");
    const from = unitOf(file);
    for (const spec of importsOf(readFileSync(path, "utf8"))) {
      if (!spec.startsWith(".")) {
        external.push({ unit: from, file, spec });
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      assert.ok(!target.startsWith(".."), `${file} imports ${spec}, outside src/`);
      edges.push({ from, to: unitOf(target.replace(/\.js$/, ".ts")), file, spec });
    }
  }
  return { edges, external, files: files.length };
}

const rank = new Map(LAYERS.flatMap((units, i) => units.map((u) => [u, i] as const)));

/** A cycle in `graph` (unit → units it imports) as a path `a → b → a`, or undefined. */
export function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found !== undefined) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

const graph = readGraph();
const between = graph.edges.filter((e) => e.from !== e.to);
const describe = (e: Edge): string => `${e.from} → ${e.to} (${e.file} imports "${e.spec}")`;

test("the import reader sees every form of import, and none in comments", () => {
  const text = [
    `/**`,
    ` * See {@link import("../fs/types.js").FileSystem}.`,
    ` * import { x } from "../in-a-comment.js";`,
    ` */`,
    `// import { y } from "../line-comment.js";`,
    `import { a } from "./a.js";`,
    `import type { B } from "../b.js";`,
    `import {`,
    `  c,`,
    `  type D,`,
    `} from "./c.js";`,
    `export { e } from "./e.js";`,
    `export * from "./f.js";`,
    `export type { G } from "./g.js";`,
    `import "./side-effect.js";`,
    `import fs from "node:fs";`,
    `const lazy = async () => (await import("./lazy.js")).x;`,
    `const s = "not an import from './nowhere.js'";`,
  ].join("\n");
  assert.deepEqual(
    importsOf(text).sort(),
    ["../b.js", "./a.js", "./c.js", "./e.js", "./f.js", "./g.js", "./lazy.js", "./side-effect.js", "node:fs"].sort(),
  );
});

test("cycle finder: finds one, and none where there is none", () => {
  const g = (edges: [string, string][]): Map<string, Set<string>> => {
    const m = new Map<string, Set<string>>();
    for (const [a, b] of edges) {
      if (!m.has(a)) m.set(a, new Set());
      m.get(a)!.add(b);
    }
    return m;
  };
  assert.deepEqual(
    findCycle(
      g([
        ["a", "b"],
        ["b", "c"],
        ["c", "a"],
      ]),
    ),
    ["a", "b", "c", "a"],
  );
  assert.equal(
    findCycle(
      g([
        ["a", "b"],
        ["b", "c"],
        ["a", "c"],
      ]),
    ),
    undefined,
  );
});

test("the reader found the source tree and its imports", () => {
  assert.ok(graph.files > 50, `only ${graph.files} files under ${SRC}`);
  // A known edge: the assembly builds the static responder.
  assert.ok(
    between.some((e) => e.from === "handler" && e.to === "responders"),
    "the edge handler → responders was not found: the import reader is broken",
  );
});

test("every unit of src/ has a place in the layer table", () => {
  const units = new Set(graph.edges.flatMap((e) => [e.from, e.to]));
  for (const file of sourceFiles(SRC)) units.add(unitOf(relative(SRC, file).split(sep).join("/")));
  const missing = [...units].filter((u) => !rank.has(u)).sort();
  assert.deepEqual(missing, [], `add these to LAYERS (and docs/design.md): ${missing.join(", ")}`);
});

test("each unit imports only units of the layers below it", () => {
  const upward = between.filter((e) => !(rank.get(e.to)! < rank.get(e.from)!)).map(describe);
  assert.deepEqual(upward, [], `imports that do not go down:\n  ${upward.join("\n  ")}`);
});

test("no cycle between the folders of src/", () => {
  const units = new Map<string, Set<string>>();
  for (const e of between) {
    if (!units.has(e.from)) units.set(e.from, new Set());
    units.get(e.from)!.add(e.to);
  }
  const cycle = findCycle(units);
  assert.equal(cycle, undefined, `cycle: ${cycle?.join(" → ")}`);
});

test("core, http and path load no I/O module", () => {
  const bad = graph.external
    .filter(
      (x) => PURE.has(x.unit) && BUILTINS.has(x.spec) && !PURE_NODE_MODULES.has(x.spec.startsWith("node:") ? x.spec : `node:${x.spec}`),
    )
    .map((x) => `${x.file} imports "${x.spec}"`);
  assert.deepEqual(bad, [], `pure layers doing I/O:\n  ${bad.join("\n  ")}`);
});

test("docs/design.md's layer table names every module of src/, in its folder's row", () => {
  const design = readFileSync(join(SRC, "..", "docs", "design.md"), "utf8");
  const rows = design.split("\n").filter((line) => /^\| \d \| /.test(line));
  const missing: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const path = relative(SRC, file).split(sep).join("/");
    if (!path.includes("/")) continue; // src/index.ts: the public surface row
    const folder = path.slice(0, path.indexOf("/"));
    const name = path.slice(path.lastIndexOf("/") + 1).replace(/\.ts$/, "");
    const row = rows.find((r) => r.includes(`\`src/${folder}/\``));
    if (row === undefined || !row.includes(`\`${name}\``)) missing.push(path);
  }
  assert.deepEqual(missing, [], `docs/design.md does not name: ${missing.join(", ")}`);
});
