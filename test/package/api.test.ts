/**
 * The public API is a deliberate list (issue 12 item 9; docs/api.md documents
 * each name). The built package's runtime exports (`import * as api from
 * "wharf-server"`, resolved through package.json's `exports`) and the type names
 * dist/index.d.ts exports are pinned here: adding, removing or renaming an export
 * fails with the difference, and is done on purpose, by changing this list, the
 * docs/api.md line and the CHANGELOG together.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO } from "../helpers/pack.js";

const RUNTIME = [
  "COOP_COEP",
  "OptionError",
  "ServeError",
  "StaleReplyError",
  "addVary",
  "basicAuth",
  "bytesReply",
  "cleanUrls",
  "clientAddress",
  "cors",
  "corsDecision",
  "corsPolicy",
  "createHandler",
  "directoryWithoutSlash",
  "empty",
  "errorPages",
  "errorReply",
  "fetchHandler",
  "headers",
  "html",
  "json",
  "memoryFileSystem",
  "nodeFileSystem",
  "nodeListener",
  "openReplyBody",
  "parseBasic",
  "redirectDecider",
  "redirects",
  "rewrites",
  "serve",
  "serveContent",
  "spa",
  "spaDecision",
  "text",
  "trailingSlashTarget",
  "wantsHtml",
  "withHeaders",
  "withPath",
  "mapReply",
  "withHeader",
  "withReplyHeaders",
  "withStatus",
];

/** Names exported as types only (the classes above are types too, and are not repeated). */
const TYPES = [
  "AuthOptions",
  "Body",
  "BodyContent",
  "BoundAddress",
  "CertificateInfo",
  "Chunk",
  "CleanUrls",
  "Content",
  "CorsDecision",
  "CorsOptions",
  "CorsPolicy",
  "DirEntry",
  "DotfilePolicy",
  "ErrorPageOptions",
  "FileContent",
  "FileSlice",
  "FileStat",
  "FileSystem",
  "HeaderRule",
  "ListingFormat",
  "OnConflict",
  "UploadOptions",
  "ListingOptions",
  "ListingOrder",
  "ListingSort",
  "LogFormat",
  "MemoryNode",
  "Middleware",
  "Next",
  "NextFunction",
  "NodeRequest",
  "NodeResponse",
  "OpenFile",
  "RedirectDecision",
  "RedirectOptions",
  "RedirectRule",
  "RedirectStatus",
  "Reply",
  "ReplyBody",
  "Responder",
  "RewriteRule",
  "RunningServer",
  "SendOptions",
  "ServeOptions",
  "ServedCertificate",
  "SpaDecision",
  "SpaOptions",
  "StatedFile",
  "StaticOptions",
  "SymlinkPolicy",
  "TlsCredentials",
  "TrailingSlash",
  "WharfHandler",
  "WharfRequest",
];

/** `got` against `want` as the names added and removed, so a failure reads as a diff. */
function diff(got: readonly string[], want: readonly string[]): { added: string[]; removed: string[] } {
  return { added: got.filter((n) => !want.includes(n)).sort(), removed: want.filter((n) => !got.includes(n)).sort() };
}

/** The names `export { ... }` and `export type { ... }` statements of a declaration file export, by kind. */
export function declaredExports(dts: string): { values: string[]; types: string[]; star: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  const code = dts.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const m of code.matchAll(/^export\s+(type\s+)?\{([^}]*)\}/gm)) {
    for (const item of m[2]!
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const onlyType = m[1] !== undefined || item.startsWith("type ");
      const name = item
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)
        .at(-1)!;
      (onlyType ? types : values).push(name);
    }
  }
  // Declarations written in the entry itself (`export declare function f`, `export interface I`).
  for (const m of code.matchAll(/^export\s+(?:declare\s+)?(?:abstract\s+)?(function|const|let|class|enum|interface|type)\s+([\w$]+)/gm)) {
    (m[1] === "interface" || m[1] === "type" ? types : values).push(m[2]!);
  }
  const star = [...code.matchAll(/^export\s+(?:type\s+)?\*.*$/gm)].map((m) => m[0]);
  return { values: [...new Set(values)].sort(), types: [...new Set(types)].sort(), star };
}

test("the declaration reader sees every form of export, and none in comments", () => {
  const got = declaredExports(
    [
      `/** export { notMe } from "./x.js"; */`,
      `// export type { NorMe } from "./x.js";`,
      `export { a, b as c } from "./a.js";`,
      `export type { D, E as F } from "./d.js";`,
      `export { type G, h } from "./g.js";`,
      `export declare function i(): void;`,
      `export interface J {}`,
      `export type K = string;`,
    ].join("\n"),
  );
  assert.deepEqual(got, { values: ["a", "c", "h", "i"], types: ["F", "D", "G", "J", "K"].sort(), star: [] });
});

test("the runtime exports of the built package are the pinned list", async () => {
  const api = (await import("wharf-server")) as Record<string, unknown>;
  const got = Object.keys(api).sort();
  assert.deepEqual(diff(got, RUNTIME), { added: [], removed: [] }, "runtime exports changed: update RUNTIME, docs/api.md and CHANGELOG.md");
  assert.equal(api["default"], undefined, "no default export: names only");
});

test("the type names dist/index.d.ts exports are the pinned list", () => {
  const { values, types, star } = declaredExports(readFileSync(join(REPO, "dist", "index.d.ts"), "utf8"));
  assert.deepEqual(star, [], "no `export *`: every public name is written out");
  assert.deepEqual(diff(values, RUNTIME), { added: [], removed: [] }, "the declarations' values are the runtime exports");
  assert.deepEqual(diff(types, TYPES), { added: [], removed: [] }, "type exports changed: update TYPES, docs/api.md and CHANGELOG.md");
});

test("docs/api.md documents every exported name, and no other", () => {
  const doc = readFileSync(join(REPO, "docs", "api.md"), "utf8");
  // Each name is documented on a list line that starts with it in a code span: "- `name`".
  const documented = [...doc.matchAll(/^- `([\w$]+)`/gm)].map((m) => m[1]!);
  assert.deepEqual(
    diff(documented, [...RUNTIME, ...TYPES]),
    { added: [], removed: [] },
    "docs/api.md: got the names added, missing the names removed",
  );
  const twice = documented.filter((n, i) => documented.indexOf(n) !== i);
  assert.deepEqual(twice, [], "documented twice");
});
