/**
 * Configuration without a server: the new flags (optional values), wharf.json
 * checked against its schema with precise errors, serve.json read as-is, the
 * environment, and who wins.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseCommandLine } from "../../src/cli/flags.js";
import { fromEnvironment } from "../../src/config/env.js";
import { fromServeJsonText, fromWharfJson, loadConfig, parseJson } from "../../src/config/load.js";
import { mergeSettings } from "../../src/config/merge.js";
import type { Settings } from "../../src/config/registry.js";
import { closest, keyPath } from "../../src/config/validate.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("flags for serving apps", () => {
  // The options of the app flags the command line wrote (port, directory and -q aside).
  const app = (argv: string[]): Settings | undefined => {
    const line = parseCommandLine(argv);
    assert.equal(line.kind, "run", JSON.stringify(line));
    if (line.kind !== "run") return undefined;
    const { port: _port, root: _root, log: _log, ...rest } = line.options;
    return Object.keys(rest).length === 0 ? undefined : rest;
  };
  const port = (argv: string[]): number | undefined => {
    const line = parseCommandLine(argv);
    return line.kind === "run" ? line.options.port : -1;
  };
  test("no app flag: no app options", () => assert.equal(app([]), undefined));
  test("-s alone", () => assert.deepEqual(app(["-s"]), { single: true }));
  test("-s FILE", () => assert.deepEqual(app(["-s", "app.html"]), { single: "app.html" }));
  test("--single=FILE", () => assert.deepEqual(app(["--single=app.html"]), { single: "app.html" }));
  test("-s 8080: the number stays the port", () => {
    assert.deepEqual(app(["-s", "8080"]), { single: true });
    assert.equal(port(["-s", "8080"]), 8080);
  });
  test("-s -q: a flag is not a value", () => assert.deepEqual(app(["-s", "-q"]), { single: true }));
  test("-qs FILE in a group", () => assert.deepEqual(app(["-qs", "app.html"]), { single: "app.html" }));
  test("--cors alone", () => assert.deepEqual(app(["--cors"]), { cors: "*" }));
  test("--cors 8080: the port", () => {
    assert.deepEqual(app(["--cors", "8080"]), { cors: "*" });
    assert.equal(port(["--cors", "8080"]), 8080);
  });
  test("--cors ORIGINS", () =>
    assert.deepEqual(app(["--cors", "https://a.example,http://localhost:5173"]), { cors: ["https://a.example", "http://localhost:5173"] }));
  test("--cors=*", () => assert.deepEqual(app(["--cors=*"]), { cors: "*" }));
  test("--cors=bad", () => assert.match(JSON.stringify(parseCommandLine(["--cors=a.example"])), /invalid --cors 'a.example'/));
  test("-H twice", () =>
    assert.deepEqual(app(["-H", "X-A: 1", "--header=X-B: two words"]), {
      headers: [{ source: "**", headers: { "X-A": "1", "X-B": "two words" } }],
    }));
  test("-H without a colon", () =>
    assert.deepEqual(parseCommandLine(["-H", "nope"]), {
      kind: "error",
      message: "invalid --header 'nope': expected 'Name: value' with a valid name and no line breaks",
    }));
  test("--trailing-slash", () => assert.deepEqual(app(["--trailing-slash", "never"]), { trailingSlash: "never" }));
  test("--trailing-slash bad", () =>
    assert.deepEqual(parseCommandLine(["--trailing-slash", "maybe"]), {
      kind: "error",
      message: "invalid --trailing-slash 'maybe': must be 'always' or 'never'",
    }));
  test("--auth does not echo the password in errors", () =>
    assert.deepEqual(parseCommandLine(["--auth", ":secret"]), { kind: "error", message: "invalid --auth ':...': expected USER:PASSWORD" }));
  test("everything else", () =>
    assert.deepEqual(
      app([
        "--clean-urls",
        "--coop-coep",
        "--404",
        "missing.html",
        "--auth",
        "a:b",
        "--auth",
        "c:d",
        "--auth-file",
        "ht",
        "--insecure-auth",
        "-c",
        "w.json",
        "-o",
        "--log-format",
        "json",
      ]),
      {
        cleanUrls: true,
        coopCoep: true,
        notFound: "missing.html",
        auth: ["a:b", "c:d"],
        authFile: "ht",
        insecureAuth: true,
        config: "w.json",
        open: true,
        logFormat: "json",
      },
    ));
  test("--log-format bad", () =>
    assert.deepEqual(parseCommandLine(["--log-format", "xml"]), {
      kind: "error",
      message: "invalid --log-format 'xml': must be one of default, dev, common, combined, json",
    }));
  test("only what was written, nothing else", () => {
    const line = parseCommandLine(["3000", "-s", "-d", "x", "--cors"]);
    assert.deepEqual(line, { kind: "run", options: { port: 3000, single: true, root: "x", cors: "*" }, directoryFrom: "flag" });
  });
});

describe("wharf.json", () => {
  const file = join(dir, "wharf.json");
  const load = (json: unknown) => fromWharfJson(JSON.stringify(json), file);
  const errors: [string, unknown, string][] = [
    ["an unknown key, with a suggestion", { clenUrls: true }, 'wharf.json: unknown key "clenUrls" (did you mean "cleanUrls"?)'],
    ["serve.json's public", { public: "dist" }, 'wharf.json: unknown key "public" (serve.json\'s "public" is "directory" here)'],
    ["a wrong type", { port: "80" }, 'wharf.json: port: "80" must be integer'],
    ["out of range", { port: 70000 }, "wharf.json: port: 70000 must be <= 65535"],
    ["an enum", { trailingSlash: "sometimes" }, 'wharf.json: trailingSlash: "sometimes" must be one of "always", "never"'],
    [
      "a bad origin deep in an object",
      { cors: { origins: ["https://ok.example", "example.com"] } },
      'wharf.json: cors.origins[1]: "example.com" must be scheme://host[:port], no path',
    ],
    [
      "cors of the wrong shape",
      { cors: 5 },
      'wharf.json: cors: 5 is not valid: CORS: true or "*" for any origin (never with credentials), a list of origins, or an object.',
    ],
    ["a rule without destination", { redirects: [{ source: "/a" }] }, 'wharf.json: redirects[0]: missing "destination"'],
    [
      "an unknown key in a rule",
      { rewrites: [{ source: "/a", destination: "/b", type: 301 }] },
      'wharf.json: rewrites[0]: unknown key "type"',
    ],
    [
      "a header value that is a number",
      { headers: [{ source: "**", headers: { "X-A": 1 } }] },
      "wharf.json: headers[0].headers.X-A: 1 must be string,null",
    ],
    [
      "a header name with a space",
      { headers: [{ source: "**", headers: { "X A": "1" } }] },
      'wharf.json: headers[0].headers: "X A" is not a valid name',
    ],
    [
      "a single file that climbs",
      { single: "../index.html" },
      'wharf.json: single: "../index.html" must be a file relative to the served directory',
    ],
  ];
  for (const [name, json, want] of errors) {
    test(name, async () => {
      await assert.rejects(load(json), (e: Error & { code?: string }) => {
        assert.equal(e.message, want);
        assert.equal(e.code, "WHARF_CONFIG");
        return true;
      });
    });
  }
  test("bad JSON names the line and column", () => {
    assert.throws(() => parseJson('{\n  "port": 80,\n}', "wharf.json"), /wharf\.json: not valid JSON at line 3, column 1/);
  });
  test("a full file maps to options, paths relative to the file", async () => {
    const options = await load({
      $schema: "./node_modules/wharf/schema/wharf.schema.json",
      port: 3000,
      host: "localhost",
      directory: "dist",
      single: true,
      cleanUrls: ["/docs/**"],
      trailingSlash: "never",
      cors: ["https://app.example"],
      headers: [{ source: "**/*.wasm", headers: { "Cache-Control": "max-age=60", "X-Powered-By": null } }],
      coopCoep: true,
      notFound: "missing.html",
      redirects: [{ source: "/a", destination: "/b", type: 302 }],
      rewrites: [{ source: "/c/**", destination: "/c.html" }],
      authFile: ".htpasswd",
      insecureAuth: false,
      dotfiles: "deny",
      symlinks: "follow",
      listing: false,
      unlisted: ["*.map"],
      compression: false,
      cache: [{ glob: "*.png", value: 3600 }],
      logFormat: "combined",
    });
    assert.equal(options.root, join(dir, "dist"));
    assert.equal(options.authFile, join(dir, ".htpasswd"));
    assert.equal(options.port, 3000);
    assert.deepEqual(options.cors, ["https://app.example"]);
    assert.equal((options as Record<string, unknown>)["$schema"], undefined);
  });
  test("helpers: keyPath and closest", () => {
    assert.equal(keyPath("/cors/origins/0"), "cors.origins[0]");
    assert.equal(closest("prot", ["port", "host"]), "port");
    assert.equal(closest("zzzzzz", ["port", "host"]), undefined);
  });
});

describe("serve.json", () => {
  const read = (json: unknown) => fromServeJsonText(JSON.stringify(json), join(dir, "serve.json"), dir);
  const fails = async (json: unknown, message: string) => assert.rejects(read(json), { message });
  test("clean URLs default to on, like serve", async () => assert.equal((await read({})).options.cleanUrls, true));
  test("cleanUrls: false is honoured", async () => assert.equal((await read({ cleanUrls: false })).options.cleanUrls, false));
  test("public is relative to the served directory", async () =>
    assert.equal((await read({ public: "_site" })).options.root, join(dir, "_site")));
  test("headers become name → value maps, null kept", async () =>
    assert.deepEqual(
      (
        await read({
          headers: [
            {
              source: "*.js",
              headers: [
                { key: "X-A", value: "1" },
                { key: "X-B", value: null },
              ],
            },
          ],
        })
      ).options.headers,
      [{ source: "*.js", headers: { "X-A": "1", "X-B": null } }],
    ));
  test("trailingSlash true/false", async () => {
    assert.equal((await read({ trailingSlash: true })).options.trailingSlash, "always");
    assert.equal((await read({ trailingSlash: false })).options.trailingSlash, "never");
  });
  test("what wharf cannot honour is noted, one line per key", async () => {
    const { options, notes } = await read({
      renderSingle: true,
      etag: false,
      symlinks: false,
      directoryListing: ["/assets/**"],
      custom: 1,
      etag2: 1,
    });
    assert.equal(options.listing, false);
    assert.deepEqual(notes, [
      "renderSingle is not supported; ignored",
      "etag: false: wharf always sends an ETag (and Last-Modified)",
      "symlinks: false: wharf still serves symlinks that stay inside the directory (never those that leave it)",
      "directoryListing: a list of paths is not supported; directory listings are off",
      "custom: unknown key; ignored",
      "etag2: unknown key; ignored",
    ]);
  });
  test("honoured keys make no notes", async () =>
    assert.deepEqual((await read({ etag: true, symlinks: true, directoryListing: false, unlisted: [".DS_Store"] })).notes, []));
  test("a wrong type is an error naming the key", () =>
    fails({ rewrites: [{ source: "/a", destination: 5 }] }, "serve.json: rewrites[0].destination: 5 must be string"));
  test("not an object", () => fails([1], "serve.json: must be a JSON object"));
});

describe("finding the file", () => {
  const site = join(dir, "find", "site");
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, "serve.json"), JSON.stringify({ cleanUrls: false }));
  test("serve.json in the served directory", async () => {
    const found = await loadConfig({ cwd: join(dir, "find"), directory: site });
    assert.equal(found?.kind, "serve");
    assert.equal(found?.path, join(site, "serve.json"));
  });
  test("wharf.json in the working directory comes first", async () => {
    writeFileSync(join(dir, "find", "wharf.json"), JSON.stringify({ listing: false }));
    const found = await loadConfig({ cwd: join(dir, "find"), directory: site });
    assert.equal(found?.kind, "wharf");
    assert.equal(found?.options.listing, false);
  });
  test("-c names a file that must exist", async () => {
    await assert.rejects(loadConfig({ cwd: dir, directory: dir, explicit: "nope.json" }), {
      message: `config file not found: ${join(dir, "nope.json")}`,
    });
  });
  test("nothing: undefined", async () =>
    assert.equal(await loadConfig({ cwd: join(dir, "find", "site", "x"), directory: join(dir, "none") }), undefined));
});

describe("environment and precedence", () => {
  test("PORT, then WHARF_PORT over it", () => {
    assert.equal(fromEnvironment({ PORT: "3000" }, dir).port, 3000);
    assert.equal(fromEnvironment({ PORT: "3000", WHARF_PORT: "4000" }, dir).port, 4000);
  });
  test("HOST is not read", () => assert.equal(fromEnvironment({ HOST: "myhost" }, dir).host, undefined));
  test("WHARF_* variables", () => {
    const got = fromEnvironment(
      {
        WHARF_HOST: "::1",
        WHARF_DIRECTORY: "pub",
        WHARF_AUTH: "a:b:c",
        WHARF_LOG_FORMAT: "dev",
        WHARF_CONFIG: "w.json",
        WHARF_AUTH_FILE: "h",
      },
      dir,
    );
    assert.deepEqual(got, {
      host: "::1",
      root: join(dir, "pub"),
      auth: "a:b:c",
      authFile: join(dir, "h"),
      logFormat: "dev",
      config: "w.json",
    });
  });
  test("bad values are errors naming the variable", () => {
    assert.throws(() => fromEnvironment({ PORT: "http" }, dir), { message: "invalid PORT 'http': must be a whole number from 0 to 65535" });
    assert.throws(() => fromEnvironment({ WHARF_AUTH: "nocolon" }, dir), { message: "invalid WHARF_AUTH: expected USER:PASSWORD" });
  });
  // Each source is what it says, nothing more: precedence is a plain merge, lowest first.
  const cli: Settings = { root: "/cli", headers: [{ source: "**", headers: { "X-Cli": "1" } }], cache: [{ glob: "*.png", value: 60 }] };
  const env: Settings = { port: 4000 };
  const file: Settings = {
    port: 3000,
    root: "/file",
    listing: false,
    cleanUrls: true,
    headers: [{ source: "*.js", headers: { "X-File": "1" } }],
    cache: [{ glob: "*", value: "no-store" }],
  };
  const merged = mergeSettings(file, env, cli);
  test("flag > environment > file", () => {
    assert.equal(merged.root, "/cli"); // -d given
    assert.equal(merged.port, 4000); // env over file
    assert.equal(merged.listing, false); // the file's, nothing above it
    assert.equal(merged.cleanUrls, true);
  });
  test("a flag beats the file", () => assert.equal(mergeSettings({ port: 3000 }, {}, { port: 8000 }).port, 8000));
  test("no port anywhere: absent, so serve()'s default moves when busy", () =>
    assert.equal("port" in mergeSettings({}, {}, { root: "/x" }), false));
  test("-H headers come after the file's, so they win per name", () => {
    assert.deepEqual(merged.headers, [
      { source: "*.js", headers: { "X-File": "1" } },
      { source: "**", headers: { "X-Cli": "1" } },
    ]);
  });
  test("--cache rules come before the file's, so they match first", () => {
    assert.deepEqual(merged.cache, [
      { glob: "*.png", value: 60 },
      { glob: "*", value: "no-store" },
    ]);
  });
});
