/**
 * `wharf why PATH [-d DIR] [flags]` (issue 14 item 3): the decision trace for a
 * URL path, without a server, from the same chain the server runs; exit 0
 * when the path would be served, 1 when not, 2 for a usage error.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseCommandLine } from "../../src/cli/flags.js";
import { runCli } from "../helpers/cli.js";

const base = mkdtempSync(join(tmpdir(), "wharf-why-"));
const root = join(base, "site");
const files: Record<string, string> = {
  "images/Logo.png": "logo",
  "index.html": "<p>app</p>",
  ".env": "SECRET=1",
  "about.htm": "<p>about</p>",
  "docs/readme.txt": "docs",
  "a.txt": "a",
  "app.js": "x".repeat(2000),
  "app.js.br": "br",
  "rewritten.txt": "r",
  "wharf.json": JSON.stringify({ rewrites: [{ source: "/old/:name", destination: "/:name" }] }),
};
for (const [name, content] of Object.entries(files)) {
  mkdirSync(join(root, name, ".."), { recursive: true });
  writeFileSync(join(root, name), content);
}
writeFileSync(join(base, "outside.txt"), "outside");
symlinkSync(join(base, "outside.txt"), join(root, "escape.txt"));
after(() => rmSync(base, { recursive: true, force: true }));

interface Row {
  readonly name: string;
  readonly args: readonly string[];
  readonly exit: 0 | 1 | 2;
  /** Lines (or parts of lines) the output must hold, in this order. */
  readonly lines: readonly (string | RegExp)[];
}

const rows: readonly Row[] = [
  {
    name: "a file, with its sidecar",
    args: ["/app.js"],
    exit: 0,
    lines: [
      "GET /app.js in ",
      "  decode: /app.js",
      "  visibility: /app.js: visible (hidden files, dotfiles, symlinks out of the root)",
      "  file: /app.js: 2000 bytes, text/javascript; charset=utf-8",
      "  sidecar: up to date: /app.js.br",
      "result: 200 OK: served",
    ],
  },
  {
    name: "a case mismatch",
    args: ["/Images/logo.png"],
    exit: 1,
    lines: [
      "  resolve: nothing at /Images/logo.png; did you mean /images/Logo.png?",
      "result: 404 Not Found: not served",
      "  why: No /Images/logo.png; did you mean /images/Logo.png?",
      /^ {2}fix: .*link to \/images\/Logo\.png/,
    ],
  },
  {
    name: "a dotfile, then with --dotfiles",
    args: ["/.env"],
    exit: 1,
    lines: [
      "  dotfiles: /.env has a dot segment: hidden (404)",
      "result: 404 Not Found: not served",
      /^ {2}fix: Start wharf with --dotfiles/,
    ],
  },
  { name: "--dotfiles serves it", args: ["/.env", "--dotfiles"], exit: 0, lines: ["result: 200 OK: served"] },
  {
    name: "a symlink out of the root",
    args: ["/escape.txt"],
    exit: 1,
    lines: [
      "  symlink: /escape.txt leads through a symlink to outside the root (refused)",
      "  visibility: /escape.txt is a symlink out of the root: refused, 404",
      /^ {2}fix: .*--follow-symlinks/,
    ],
  },
  {
    name: "--follow-symlinks follows it",
    args: ["/escape.txt", "--follow-symlinks"],
    exit: 0,
    lines: ["  symlink: /escape.txt leads through a symlink to outside the root (followed: --follow-symlinks)", "result: 200 OK: served"],
  },
  {
    name: "a directory without its slash",
    args: ["/docs"],
    exit: 0,
    lines: ["  directory: /docs is a directory: 301 to /docs/", "result: 301 Moved Permanently to /docs/: served"],
  },
  { name: "a directory listed", args: ["/docs/"], exit: 0, lines: ["  listing: on: the listing of /docs/", "result: 200 OK: served"] },
  {
    name: "a directory without index, listings off",
    args: ["/docs/", "--no-listing"],
    exit: 1,
    lines: [
      "  index: /docs/index.html: not there",
      "  index: /docs/index.htm: not there",
      "  listing: off: 404",
      /^ {2}why: \/docs\/ is a folder without/,
    ],
  },
  {
    name: "an .htm that clean URLs do not map",
    args: ["/about", "--clean-urls"],
    exit: 1,
    lines: [
      "  clean-urls: trying /about.html",
      "  clean-urls: /about.html answered 404; looking for /about.htm",
      "result: 404 Not Found: not served",
      "  why: --clean-urls serves /about from /about.html only, and there is /about.htm.",
    ],
  },
  {
    name: "clean URLs redirect a .html address",
    args: ["/about.html", "--clean-urls"],
    exit: 0,
    lines: [/^ {2}redirect: 301 to \/about /, "result: 301 Moved Permanently to /about: served"],
  },
  {
    name: "a deep link under the SPA fallback",
    args: ["/deep/link", "-s"],
    exit: 0,
    lines: [
      "  spa: a page navigation to a path without an extension: falling back to /index.html",
      "  spa: served /index.html for /deep/link",
      "result: 200 OK: served",
    ],
  },
  {
    name: "the same deep link as curl asks for it",
    args: ["/deep/link", "-s", "--accept", "*/*"],
    exit: 1,
    lines: [
      "  accept: */*",
      "  spa: the request does not accept text/html (Accept): no fallback",
      /^ {2}why: The single-page-app fallback answers page navigations only/,
    ],
  },
  {
    name: "an asset the SPA fallback does not cover",
    args: ["/missing.js", "-s"],
    exit: 1,
    lines: ["  spa: /missing.js has an extension: an asset, no fallback", /^ {2}why: \/missing\.js has a file extension/],
  },
  {
    name: "a rewrite from the configuration file",
    args: ["/old/rewritten.txt"],
    exit: 0,
    lines: ["  rewrite: /old/rewritten.txt matched a rule: trying /rewritten.txt", "  decode: /rewritten.txt", "result: 200 OK: served"],
  },
  {
    name: "the configuration file itself is hidden",
    args: ["/wharf.json"],
    exit: 1,
    lines: ["  visibility: /wharf.json is a configuration or password file: never served, 404"],
  },
  {
    name: "a bad encoding",
    args: ["/%ff"],
    exit: 1,
    lines: ["  decode: refused, 400: path is not valid UTF-8", "result: 400 Bad Request: not served", /^ {2}fix: Percent-encode/],
  },
  {
    name: "a dot-dot above the root",
    args: ["/a/..%2f.."],
    exit: 1,
    lines: ["  decode: refused, 400: path climbs above the root", /^ {2}why: The path has a \.\. segment/],
  },
  {
    name: "a whole URL",
    args: ["http://localhost:8000/a.txt?x=1#top"],
    exit: 0,
    lines: ["GET /a.txt?x=1 in ", "result: 200 OK: served"],
  },
];

describe("wharf why", () => {
  for (const row of rows) {
    test(row.name, () => {
      const r = runCli(["why", ...row.args, "-d", root], { cwd: root });
      assert.equal(r.status, row.exit, `wharf why ${row.args.join(" ")}: exit ${r.status}, want ${row.exit}\n${r.stdout}${r.stderr}`);
      const lines = r.stdout.split("\n");
      let at = 0;
      for (const want of row.lines) {
        const found = lines.findIndex((line, i) => i >= at && (typeof want === "string" ? line.startsWith(want) : want.test(line)));
        assert.ok(found >= 0, `wharf why ${row.args.join(" ")}: no line ${want} (in order) in\n${r.stdout}`);
        at = found + 1;
      }
      // URL paths only, except the root named once on the first line.
      assert.equal(r.stdout.split(root).length - 1, 1, `the root is named once:\n${r.stdout}`);
      assert.ok(!r.stdout.includes("outside.txt"), "never where a symlink leads");
    });
  }

  test("usage errors exit 2 with one line and the usage", () => {
    for (const args of [[], ["index.html"], ["/a", "--no-such-flag"], ["/a", "-d", join(base, "nope")]]) {
      const r = runCli(["why", ...args]);
      assert.equal(r.status, 2, `wharf why ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, /^wharf why: /);
      assert.equal(r.stdout, "");
    }
  });

  test("--help prints the usage", () => {
    const r = runCli(["why", "--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage: wharf why PATH \[-d DIR\]/);
  });
});

describe("the --explain flag", () => {
  const cases: ReadonlyArray<readonly [args: readonly string[], want: Record<string, unknown> | string]> = [
    [["--explain"], { explain: "on" }],
    [["--explain", "off"], { explain: "off" }],
    [["--explain=auto"], { explain: "auto" }],
    // A value is taken only when it is a mode: the rest is the directory or the port.
    [["--explain", "dist"], { explain: "on", root: "dist" }],
    [["--explain", "8080"], { explain: "on", port: 8080 }],
    [["--explain=maybe"], "invalid --explain 'maybe': must be auto, on or off"],
  ];
  for (const [args, want] of cases) {
    test(args.join(" "), () => {
      const got = parseCommandLine(args);
      if (typeof want === "string") assert.deepEqual(got, { kind: "error", message: want });
      else {
        assert.equal(got.kind, "run");
        assert.deepEqual((got as { options: unknown }).options, want);
      }
    });
  }
});
