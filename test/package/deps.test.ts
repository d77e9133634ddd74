/**
 * Which production dependencies load when (issue 12 item 9): `import
 * "wharf-server"`, and serving files, load only what serving files needs
 * (mime-types and its mime-db); a dependency that serves one feature loads when
 * that feature is used. Each row runs in a child process, importing the built
 * package by its name (the package's self-reference, so `exports` is what
 * resolves it), with a resolve hook that writes down every ES module resolved;
 * CommonJS modules (and those `import` loads through the CommonJS loader) are
 * read from the require cache at the end.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { REPO } from "../helpers/pack.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-deps-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What serving files needs: Content-Type from the file name, and whether to compress it. */
const SERVING = ["mime-db", "mime-types"];

/**
 * Every other production dependency, with the feature that loads it. A new
 * dependency fails "every dependency is classified" until it is placed here or in
 * {@link SERVING}.
 */
const FEATURE_ONLY: Readonly<Record<string, string>> = {
  picomatch: "globs: the `cache`, `unlisted`, `headers`, `redirects` and `rewrites` options (core/glob.ts)",
  ajv: "a wharf.json or serve.json is validated (config/validate.ts)",
  pkijs: 'the development certificate is made: `tls: "dev"`, `--tls` without files (tls/generate.ts)',
  asn1js: "the development certificate is made (tls/generate.ts)",
  bcryptjs: "the first bcrypt password check, in the hash worker (test/features/auth-cost.test.ts)",
  "apache-md5": "the first $apr1$ password check, in the hash worker (test/features/auth-cost.test.ts)",
  "markdown-it": "the first README rendered below a listing, with `--readme` (responders/listing/readme.ts)",
  "qrcode-generator": "the first QR code made, with `--qr`: the terminal's, or a listing page's (core/qr.ts)",
  "prom-client": "serve() with `metrics` (`--metrics`), when it starts (server/metrics.ts)",
};

const hooks = join(dir, "hooks.mjs");
writeFileSync(
  hooks,
  `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.WHARF_LOADS, r.url + "\\n");
  return r;
}`,
);
const register = join(dir, "register.mjs");
writeFileSync(register, `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooks).href)});`);

/** The packages under node_modules/ a file path or URL belongs to (scoped names kept whole). */
function packageOf(path: string): string | undefined {
  const at = path.lastIndexOf("/node_modules/");
  if (at < 0) return undefined;
  const [first = "", second = ""] = path.slice(at + "/node_modules/".length).split("/");
  return first.startsWith("@") ? `${first}/${second}` : first;
}

let runs = 0;
/** Runs `body` (ES module code with `wharf` imported by the package's name) and returns the packages loaded. */
function loadedBy(body: string): string[] {
  const loads = join(dir, `loads-${++runs}.txt`);
  writeFileSync(loads, "");
  const script = `import { createRequire } from "node:module";
import { appendFileSync } from "node:fs";
const dist = ${JSON.stringify(pathToFileURL(join(REPO, "dist")).href)};
const wharf = await import("wharf-server");
${body}
appendFileSync(process.env.WHARF_LOADS, Object.keys(createRequire(import.meta.url).cache).join("\\n") + "\\nDONE\\n");
process.exit(0);`;
  const run = spawnSync(process.execPath, ["--import", pathToFileURL(register).href, "--input-type=module", "-e", script], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, WHARF_LOADS: loads },
  });
  const text = readFileSync(loads, "utf8");
  assert.equal(run.status, 0, run.stderr);
  assert.match(text, /\nDONE\n$/, "the child reached its end");
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const name = packageOf(line);
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}

const SERVE_A_FILE = `
const h = wharf.createHandler({ root: "/s", fs: wharf.memoryFileSystem("/s", { "a.txt": "a", "b.css": "b" }) });
for (const p of ["/a.txt", "/b.css", "/", "/missing"]) await (await h.fetch(new Request("http://x" + p))).arrayBuffer();`;

test("every production dependency is classified: serving files, or the feature that loads it", () => {
  const { dependencies = {} } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  assert.deepEqual(Object.keys(dependencies).sort(), [...SERVING, ...Object.keys(FEATURE_ONLY)].sort());
});

const rows: { name: string; body: string; want: (loaded: string[]) => void }[] = [
  { name: `import "wharf-server"`, body: "", want: (l) => assert.deepEqual(l, SERVING) },
  { name: "createHandler serving files, a listing and a 404", body: SERVE_A_FILE, want: (l) => assert.deepEqual(l, SERVING) },
  {
    name: "serve() on a port, one request, close",
    body: `const s = await wharf.serve({ root: ${JSON.stringify(dir)}, port: 0, host: "127.0.0.1", log: false });
      await (await fetch(s.urls[0] + "hooks.mjs")).arrayBuffer(); await s.close();`,
    want: (l) => assert.deepEqual(l, SERVING),
  },
  {
    name: "serve({ qr: true }) serving a file loads no QR encoder",
    body: `const s = await wharf.serve({ root: ${JSON.stringify(dir)}, port: 0, host: "127.0.0.1", log: false, qr: true });
      await (await fetch(s.urls[0] + "hooks.mjs")).arrayBuffer(); await s.close();`,
    want: (l) => assert.deepEqual(l, SERVING),
  },
  {
    name: "a QR code loads qrcode-generator",
    body: `const { qrMatrix } = await import(dist + "/core/qr.js"); qrMatrix("http://192.168.1.20:8000/");`,
    want: (l) => assert.deepEqual(l, [...SERVING, "qrcode-generator"].sort()),
  },
  {
    name: "serve() with metrics loads prom-client",
    body: `const s = await wharf.serve({ root: ${JSON.stringify(dir)}, port: 0, host: "127.0.0.1", log: false, metrics: 0 });
      await (await fetch(s.urls[0] + "hooks.mjs")).arrayBuffer(); await (await fetch(s.metricsUrl)).text(); await s.close();`,
    want: (l) => assert.ok(l.includes("prom-client"), `got ${l.join(", ")}`),
  },
  {
    name: "a `cache` glob loads picomatch",
    body: `wharf.createHandler({ root: "/s", fs: wharf.memoryFileSystem("/s", {}), cache: [{ glob: "*.png", value: 60 }] });`,
    want: (l) => assert.deepEqual(l, [...SERVING, "picomatch"].sort()),
  },
  {
    name: "a `redirects` glob loads picomatch",
    body: `wharf.createHandler({ root: "/s", fs: wharf.memoryFileSystem("/s", {}), redirects: [{ source: "old/**", destination: "/new" }] });`,
    want: (l) => assert.deepEqual(l, [...SERVING, "picomatch"].sort()),
  },
  {
    name: "validating a wharf.json loads ajv",
    body: `const { fromWharfJson } = await import(dist + "/config/load.js"); await fromWharfJson("{}", "/x/wharf.json");`,
    want: (l) => assert.ok(l.includes("ajv"), `got ${l.join(", ")}`),
  },
  {
    name: "making a certificate loads pkijs and asn1js",
    body: `const { generateCertificate } = await import(dist + "/tls/generate.js");
      await generateCertificate({ dns: ["localhost"], ips: [], notBefore: new Date(0), notAfter: new Date(86400e3) });`,
    want: (l) => assert.ok(l.includes("pkijs") && l.includes("asn1js"), `got ${l.join(", ")}`),
  },
];
for (const row of rows) test(row.name, () => row.want(loadedBy(row.body)));
