/**
 * The option registry (src/config/registry.ts) against everything that is not
 * made from it: the JSON Schema's properties and defaults, the README's
 * command-line table, the TSDoc `@default` of StaticOptions, FeatureOptions and
 * ServeOptions, the defaults resolveOptions() really applies, and the
 * environment variables docs/features.md lists. Each test fails naming the
 * option that disagrees.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { FLAGS, helpText, parseCommandLine } from "../../src/cli/flags.js";
import { README_MARKERS, readmeTable } from "../../src/cli/readme.js";
import { fromEnvironment } from "../../src/config/env.js";
import { mergeSettings, withCliDefaults } from "../../src/config/merge.js";
import { OPTIONS, type Settings } from "../../src/config/registry.js";
import { resolveOptions } from "../../src/handler/options.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string): string => readFileSync(join(REPO, path), "utf8");

describe("registry: the table itself", () => {
  test("names, flags, variables and config keys are each declared once", () => {
    const once = (what: string, names: readonly string[]): void => {
      const twice = names.filter((n, i) => names.indexOf(n) !== i);
      assert.deepEqual(twice, [], `${what} declared twice`);
    };
    once(
      "option",
      OPTIONS.map((o) => o.name),
    );
    once(
      "long flag",
      FLAGS.map((f) => f.long),
    );
    once(
      "short flag",
      FLAGS.flatMap((f) => (f.short === undefined ? [] : [f.short])),
    );
    once(
      "variable",
      OPTIONS.flatMap((o) => o.env ?? []),
    );
    once(
      "config key",
      OPTIONS.flatMap((o) => (o.configKey === undefined ? [] : [o.configKey])),
    );
  });
  test("every option with a variable can read it", () => {
    for (const o of OPTIONS.filter((o) => o.env !== undefined))
      assert.equal(typeof o.parse, "function", `${o.name} has variables but no parse`);
  });
});

describe("registry: JSON Schema (schema/wharf.schema.json)", () => {
  const schema = JSON.parse(read("schema/wharf.schema.json")) as { properties: Record<string, { default?: unknown }> };
  const properties = Object.keys(schema.properties).filter((k) => k !== "$schema");
  // The one key whose default the schema does not state: the library's is `false`,
  // while the command line uses 404.html when the site has one (src/cli/settings.ts).
  const CLI_DECIDES = new Set(["notFound"]);
  test("its properties are exactly the registry's config keys", () => {
    const keys = OPTIONS.flatMap((o) => (o.configKey === undefined ? [] : [o.configKey]));
    assert.deepEqual([...properties].sort(), [...keys].sort());
  });
  for (const o of OPTIONS.filter((o) => o.configKey !== undefined)) {
    test(`${o.configKey}: the schema's default is the registry's`, () => {
      const got = schema.properties[o.configKey!]!.default;
      if (CLI_DECIDES.has(o.name)) assert.equal(got, undefined, `${o.configKey}: the command line decides this default`);
      else assert.deepEqual(got, o.default, `${o.configKey}: schema default ${JSON.stringify(got)}, registry ${JSON.stringify(o.default)}`);
    });
  }
});

describe("registry: README.md's command-line table", () => {
  test("is the table made from the registry (npm run readme writes it)", () => {
    const readme = read("README.md");
    const [start, end] = README_MARKERS;
    const a = readme.indexOf(start);
    const b = readme.indexOf(end);
    assert.ok(a !== -1 && b > a, "README.md lacks the options-table markers");
    assert.equal(readme.slice(a + start.length, b).trim(), readmeTable(), "README.md's table is stale: run npm run readme");
  });
  test("the library's options table names only registry options", () => {
    const readme = read("README.md");
    const section = readme.slice(readme.indexOf("### Options"), readme.indexOf("Invalid options throw"));
    const rows = section.split("\n").filter((l) => l.startsWith("| `"));
    const names = rows.flatMap((row) => [...row.split("|")[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!));
    assert.ok(names.length > 20, `found ${names.length} rows`);
    for (const name of names)
      assert.ok(
        OPTIONS.some((o) => o.name === name && o.layer !== "cli"),
        `README's options table names ${name}, not a library option`,
      );
  });
  test("has a row for every flag and names every variable", () => {
    const table = readmeTable();
    for (const f of FLAGS) assert.ok(table.includes(`\`--${f.long}`), `no row for --${f.long}`);
    for (const name of OPTIONS.flatMap((o) => o.env ?? [])) assert.ok(table.includes(`\`${name}\``), `${name} not in the table`);
  });
});

/** `@default` text by property name, for `interface name` wherever it is declared under src/. */
function tsdocDefaults(name: string): Map<string, string | undefined> {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );
  for (const file of files(join(REPO, "src"))) {
    const text = readFileSync(file, "utf8");
    const at = text.indexOf(`export interface ${name} `);
    if (at === -1) continue;
    const body = text.slice(at, text.indexOf("\n}", at));
    const out = new Map<string, string | undefined>();
    for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly (\w+)\?:/g)) {
      out.set(m[2]!, /@default (.*)$/m.exec(m[1]!)?.[1]?.trim());
    }
    return out;
  }
  throw new Error(`interface ${name} not found under src/`);
}

/** The value a TSDoc default starts with (`67108864 (64 MiB)` → 67108864); `undefined` for `undefined` or prose. */
function leadingValue(text: string): { value: unknown } | { prose: string } {
  if (/^undefined\b/.test(text)) return { value: undefined };
  const m = /^(\[[^\]]*\]|"[^"]*"|-?\d+|true|false)(?:\s|$)/.exec(text);
  return m === null ? { prose: text } : { value: JSON.parse(m[1]!) as unknown };
}

describe("registry: TSDoc @default of the library's options", () => {
  const documented = new Map([
    ...tsdocDefaults("FeatureOptions"),
    ...tsdocDefaults("UploadOptions"),
    ...tsdocDefaults("StaticOptions"),
    ...tsdocDefaults("ServeOptions"),
  ]);
  test("every option of StaticOptions and ServeOptions is in the registry, and back", () => {
    const library = OPTIONS.filter((o) => o.layer !== "cli").map((o) => o.name as string);
    assert.deepEqual([...documented.keys()].sort(), [...library].sort());
  });
  for (const [name, text] of documented) {
    test(`${name}: @default ${text ?? "(missing)"}`, () => {
      assert.ok(text !== undefined, `${name} has no @default`);
      const spec = OPTIONS.find((o) => o.name === name)!;
      const got = leadingValue(text);
      // Prose (`process.cwd()`, `the Node file system`) is a default no table can hold.
      if ("prose" in got)
        assert.equal(spec.default, undefined, `${name}: TSDoc says "${got.prose}", the registry ${JSON.stringify(spec.default)}`);
      else assert.deepEqual(spec.default, got.value, `${name}: TSDoc ${text}, registry ${JSON.stringify(spec.default)}`);
    });
  }
});

describe("registry: the defaults resolveOptions() applies", () => {
  const resolved = resolveOptions({ root: REPO }) as unknown as Record<string, unknown>;
  for (const o of OPTIONS.filter(
    (o) => o.layer === "handler" && o.name in resolved && typeof resolved[o.name] !== "function" && o.name !== "root" && o.name !== "fs",
  )) {
    test(o.name, () =>
      assert.deepEqual(
        resolved[o.name],
        o.default,
        `${o.name}: resolveOptions() applies ${JSON.stringify(resolved[o.name])}, the registry says ${JSON.stringify(o.default)}`,
      ),
    );
  }
});

describe("registry: --help", () => {
  const help = helpText();
  for (const o of OPTIONS) {
    for (const f of o.flags ?? []) {
      test(`--${f.long}: its line, and a limit's default in the flag's unit`, () => {
        assert.ok(help.includes(`--${f.long}${f.value === undefined ? "" : ` ${f.value}`}`), `help lacks --${f.long}`);
        if (f.value === "SECONDS") assert.equal(f.default, String((o.default as number) / 1000), `--${f.long}`);
        // A note may follow the number: `4294967296 (4 GiB)`.
        else if (typeof o.default === "number" && f.value !== undefined && /^(N|BYTES)$/.test(f.value))
          assert.equal(f.default?.split(" ")[0], String(o.default), `--${f.long}`);
      });
    }
  }
});

describe("registry: environment variables", () => {
  test("docs/features.md lists exactly the registry's", () => {
    const features = read("docs/features.md");
    const table = features.slice(features.indexOf("| variable | meaning |"));
    // The variables of each row's first cell (the second may name others, like HOST, that are not read).
    const rows = table.slice(0, table.indexOf("\n\n")).split("\n").slice(2);
    const listed = new Set(rows.flatMap((row) => [...row.split("|")[1]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!)));
    assert.deepEqual([...listed].sort(), OPTIONS.flatMap((o) => o.env ?? []).sort());
  });
  test("each sets its option, and a flag beats it", () => {
    const samples: Record<string, string> = {
      PORT: "3000",
      WHARF_PORT: "3001",
      WHARF_HOST: "::1",
      WHARF_DIRECTORY: "/srv",
      WHARF_CONFIG: "w.json",
      WHARF_AUTH: "a:b",
      WHARF_AUTH_FILE: "/h",
      WHARF_LOG_FORMAT: "json",
      WHARF_SHUTDOWN_DELAY: "5",
      WHARF_TRUST_PROXY: "loopback,10.0.0.0/8",
      WHARF_CLIENT_IP_HEADER: "X-Real-IP",
      WHARF_ON_CONFLICT: "rename",
      WHARF_UPLOAD_MAX_SIZE: "100M",
      WHARF_UPLOAD_AUTH: "u:p:q",
      WHARF_METRICS: "127.0.0.1:9100",
    };
    const flags: Record<string, string[]> = {
      port: ["-p", "9"],
      host: ["-b", "h"],
      root: ["-d", "/d"],
      config: ["-c", "c.json"],
      auth: ["--auth", "c:d"],
      authFile: ["--auth-file", "/f"],
      logFormat: ["--log-format", "dev"],
      shutdownDelay: ["--shutdown-delay", "2"],
      trustProxy: ["--trust-proxy", "private"],
      clientIpHeader: ["--client-ip-header", "forwarded"],
      onConflict: ["--on-conflict", "overwrite"],
      uploadMaxSize: ["--upload-max-size", "2G"],
      uploadAuth: ["--upload-auth", "w:x"],
      metrics: ["--metrics", "9101"],
    };
    for (const o of OPTIONS.filter((o) => o.env !== undefined)) {
      for (const name of o.env!) {
        assert.ok(samples[name] !== undefined, `no sample value for ${name}`);
        const env = fromEnvironment({ [name]: samples[name] }, "/");
        assert.notEqual(env[o.name], undefined, `${name} does not set ${o.name}`);
        const line = parseCommandLine(flags[o.name]!);
        assert.equal(line.kind, "run");
        const cli = line.kind === "run" ? line.options : {};
        assert.deepEqual(mergeSettings(env, cli)[o.name], cli[o.name], `the flag does not beat ${name}`);
      }
    }
  });
});

describe("precedence: a plain merge of partials", () => {
  const rows: { name: string; file?: Settings; env?: Settings; cli?: Settings; want: Settings }[] = [
    { name: "nothing anywhere: nothing (the layers apply their defaults)", want: {} },
    { name: "the file alone", file: { listing: false }, want: { listing: false } },
    { name: "a variable over the file", file: { port: 3000 }, env: { port: 4000 }, want: { port: 4000 } },
    { name: "a flag over both", file: { port: 3000 }, env: { port: 4000 }, cli: { port: 5000 }, want: { port: 5000 } },
    {
      name: "a flag that says false still wins",
      file: { compression: true },
      cli: { compression: false, precompressed: false },
      want: { compression: false, precompressed: false },
    },
    {
      name: "unrelated keys from each",
      file: { cleanUrls: true },
      env: { host: "::1" },
      cli: { root: "/x" },
      want: { cleanUrls: true, host: "::1", root: "/x" },
    },
    { name: "auth: the flag's list replaces the variable's", env: { auth: "a:b" }, cli: { auth: ["c:d"] }, want: { auth: ["c:d"] } },
    {
      name: "headers: the file's rules, then the flags'",
      file: { headers: [{ source: "*", headers: { a: "1" } }] },
      cli: { headers: [{ source: "**", headers: { a: "2" } }] },
      want: {
        headers: [
          { source: "*", headers: { a: "1" } },
          { source: "**", headers: { a: "2" } },
        ],
      },
    },
    {
      name: "cache: the flags' rules, then the file's",
      file: { cache: [{ glob: "*", value: 1 }] },
      cli: { cache: [{ glob: "*.png", value: 2 }] },
      want: {
        cache: [
          { glob: "*.png", value: 2 },
          { glob: "*", value: 1 },
        ],
      },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = mergeSettings(row.file, row.env, row.cli);
      assert.deepEqual(got, row.want, `got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`);
    });
  }
  test("the command line's own defaults are applied once, under everything", () => {
    assert.deepEqual(withCliDefaults({}), { workers: 1, open: false });
    assert.deepEqual(withCliDefaults({ workers: 4 }), { workers: 4, open: false });
  });
  test("the parser returns only what was written", () => {
    assert.deepEqual(parseCommandLine([]), { kind: "run", options: {} });
    assert.deepEqual(parseCommandLine(["-q", "--max-ranges", "0"]), { kind: "run", options: { log: false, maxRanges: 0 } });
  });
});
