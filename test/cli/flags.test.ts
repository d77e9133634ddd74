import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, test } from "node:test";
import { type CommandLine, FLAGS, helpText, parseCommandLine } from "../../src/cli/flags.js";
import type { Settings } from "../../src/config/registry.js";

// Only what was written: no defaults, so that the environment and a configuration
// file can fill in the rest (src/config/merge.ts).
const run = (o: Settings = {}, directoryFrom?: "flag" | "positional"): CommandLine =>
  directoryFrom === undefined ? { kind: "run", options: o } : { kind: "run", options: o, directoryFrom };
const error = (message: string): CommandLine => ({ kind: "error", message });

const rows: { argv: string[]; want: CommandLine }[] = [
  { argv: [], want: run() },
  { argv: ["3000"], want: run({ port: 3000 }) },
  { argv: ["0"], want: run({ port: 0 }) },
  { argv: ["65535"], want: run({ port: 65535 }) },
  { argv: ["08080"], want: run({ port: 8080 }) },
  { argv: ["-b", "127.0.0.1"], want: run({ host: "127.0.0.1" }) },
  { argv: ["--bind", "::1"], want: run({ host: "::1" }) },
  { argv: ["--bind=localhost"], want: run({ host: "localhost" }) },
  { argv: ["-b::1"], want: run({ host: "::1" }) },
  { argv: ["-d", "public"], want: run({ root: "public" }, "flag") },
  { argv: ["--directory=my dir", "-q"], want: run({ root: "my dir", log: false }, "flag") },
  {
    argv: ["--quiet", "--dotfiles", "--follow-symlinks", "--no-listing"],
    want: run({ log: false, dotfiles: "allow", symlinks: "follow", listing: false }),
  },
  // --readme: the listing's object form; --no-listing wins in either order.
  { argv: ["--readme"], want: run({ listing: { readme: true } }) },
  { argv: ["--readme", "--no-listing"], want: run({ listing: false }) },
  { argv: ["--no-listing", "--readme"], want: run({ listing: false }) },
  { argv: ["-qd", "public"], want: run({ log: false, root: "public" }, "flag") },
  { argv: ["-qb", "::1", "9000"], want: run({ log: false, host: "::1", port: 9000 }) },
  { argv: ["9000", "-b", "0.0.0.0", "-d", "/srv"], want: run({ port: 9000, host: "0.0.0.0", root: "/srv" }, "flag") },
  { argv: ["-b", "a", "-b", "b"], want: run({ host: "b" }) },
  { argv: ["--", "9000"], want: run({ port: 9000 }) },
  { argv: ["--workers", "4"], want: run({ workers: 4 }) },
  { argv: ["-w", "2"], want: run({ workers: 2 }) },
  { argv: ["--no-compression"], want: run({ compression: false, precompressed: false }) },
  {
    argv: ["--cache", "*.png=3600", "--cache=assets/**=no-store"],
    want: run({
      cache: [
        { glob: "*.png", value: 3600 },
        { glob: "assets/**", value: "no-store" },
      ],
    }),
  },
  { argv: ["--cache", "*.html=max-age=60"], want: run({ cache: [{ glob: "*.html", value: "max-age=60" }] }) },
  { argv: ["--cache", "nothing"], want: error("invalid --cache 'nothing': expected GLOB=SECONDS or GLOB=VALUE, e.g. '*.png=3600'") },
  { argv: ["--workers=auto"], want: run({ workers: availableParallelism() }) },
  // TLS: `--tls` alone makes a certificate; Python 3.14's names take files.
  { argv: ["--tls"], want: run({ tls: "dev" }) },
  { argv: ["--tls-cert", "c.pem"], want: run({ tlsCert: "c.pem" }) },
  {
    argv: ["--tls-cert=c.pem", "--tls-key", "k.pem", "--tls-password-file", "p.txt"],
    want: run({ tlsCert: "c.pem", tlsKey: "k.pem", tlsPasswordFile: "p.txt" }),
  },
  { argv: ["--tls-key", "k.pem"], want: error("--tls-key requires --tls-cert to be set") },
  { argv: ["--tls-password-file", "p.txt"], want: error("--tls-password-file requires --tls-cert to be set") },
  { argv: ["--tls-cert"], want: error("option --tls-cert needs a value: --tls-cert FILE") },
  { argv: ["--workers", "0"], want: error("invalid --workers '0': must be 'auto' or a whole number from 1 to 1024") },
  { argv: ["--workers", "many"], want: error("invalid --workers 'many': must be 'auto' or a whole number from 1 to 1024") },
  { argv: ["-d", "-"], want: run({ root: "-" }, "flag") },
  { argv: ["-h"], want: { kind: "help" } },
  { argv: ["--help"], want: { kind: "help" } },
  { argv: ["3000", "--help", "--bogus"], want: { kind: "help" } },
  { argv: ["-V"], want: { kind: "version" } },
  { argv: ["--version"], want: { kind: "version" } },
  { argv: ["-qV"], want: { kind: "version" } },
  { argv: ["--bogus"], want: error("unknown option '--bogus'") },
  { argv: ["--bogus=1"], want: error("unknown option '--bogus'") },
  { argv: ["-x"], want: error("unknown option '-x'") },
  { argv: ["-qx"], want: error("unknown option '-x'") },
  { argv: ["--bogus", "--help"], want: error("unknown option '--bogus'") },
  { argv: ["99999"], want: error("invalid port '99999': must be a whole number from 0 to 65535") },
  { argv: ["65536"], want: error("invalid port '65536': must be a whole number from 0 to 65535") },
  // Habits of other servers (issue 11): a word is the directory, a number the port.
  { argv: ["abc"], want: run({ root: "abc" }, "positional") },
  { argv: ["dist"], want: run({ root: "dist" }, "positional") },
  { argv: ["."], want: run({ root: "." }, "positional") },
  { argv: ["dist", "3000"], want: run({ root: "dist", port: 3000 }, "positional") },
  { argv: ["3000", "dist"], want: run({ root: "dist", port: 3000 }, "positional") },
  { argv: ["dist", "-d", "public"], want: error("two directories: 'dist' and -d 'public'") },
  { argv: ["-d", "public", "dist"], want: error("unexpected argument 'dist' (the directory is already 'public')") },
  { argv: ["dist", "site"], want: error("unexpected argument 'site' (the directory is already 'dist')") },
  { argv: ["-p", "8080"], want: run({ port: 8080 }) },
  { argv: ["--port", "8080"], want: run({ port: 8080 }) },
  { argv: ["--port=0", "dist"], want: run({ port: 0, root: "dist" }, "positional") },
  { argv: ["-p", "8080", "9000"], want: error("unexpected argument '9000' (the port is already 8080)") },
  { argv: ["9000", "-p", "8080"], want: error("two ports: -p 8080 and the one given before") },
  { argv: ["-p", "http"], want: error("invalid --port 'http': must be a whole number from 0 to 65535") },
  { argv: ["-p", "HTTP/1.0"], want: run({ keepAlive: false }) },
  { argv: ["-p", "HTTP/1.1", "8080"], want: run({ keepAlive: true, port: 8080 }) },
  { argv: ["--protocol", "HTTP/1.0"], want: run({ keepAlive: false }) },
  { argv: ["--protocol", "HTTP/2"], want: error("invalid --protocol 'HTTP/2': must be HTTP/1.0 or HTTP/1.1") },
  { argv: ["-p", "HTTP/3"], want: error("invalid -p 'HTTP/3': must be HTTP/1.0 or HTTP/1.1") },
  { argv: ["-l", "3000"], want: run({ port: 3000 }) },
  { argv: ["-l", "tcp://0.0.0.0:3000"], want: run({ port: 3000, host: "0.0.0.0" }) },
  { argv: ["--listen", "localhost:3000"], want: run({ port: 3000, host: "localhost" }) },
  {
    argv: ["-l", "unix:/tmp/s.sock"],
    want: error("invalid --listen 'unix:/tmp/s.sock': wharf takes a port or HOST:PORT; for other addresses use -b ADDR and the port"),
  },
  { argv: ["--dir", "public"], want: run({ root: "public" }, "flag") },
  { argv: ["--direc=public"], want: run({ root: "public" }, "flag") },
  { argv: ["--d", "x"], want: error("ambiguous option '--d': could be --directory, --dotfiles, --digest, --delete") },
  { argv: ["--quie"], want: run({ log: false }) },
  { argv: ["--host", "0.0.0.0"], want: error("unknown option '--host'; wharf uses -b/--bind ADDR") },
  { argv: ["-a", "0.0.0.0"], want: error("unknown option '-a'; wharf uses -b ADDR (http-server's -a)") },
  { argv: ["-S"], want: error("unknown option '-S'; wharf uses --tls (http-server's -S)") },
  { argv: ["--dotfile"], want: run({ dotfiles: "allow" }) },
  { argv: ["--listng"], want: error("unknown option '--listng'; did you mean --listen?") },
  { argv: ["--no-listng"], want: error("unknown option '--no-listng'; did you mean --no-listing?") },
  { argv: ["-s", "dist"], want: run({ root: "dist", single: true }, "positional") },
  { argv: ["-s", "app.html", "dist"], want: run({ root: "dist", single: "app.html" }, "positional") },
  { argv: ["--single="], want: error("invalid --single=: name a file (--single=app.html), or give -s alone for index.html") },
  { argv: ["--cors", "example.com"], want: error("invalid --cors 'example.com': an origin has a scheme, like https://example.com") },
  {
    argv: ["--cors", "https://a.example,b.example"],
    want: error("invalid --cors 'https://a.example,b.example': an origin has a scheme, like https://b.example"),
  },
  { argv: ["--cors", "dist"], want: run({ root: "dist", cors: "*" }, "positional") },
  { argv: ["-1"], want: error("invalid port '-1': must be a whole number from 0 to 65535") },
  { argv: ["80.5"], want: error("invalid port '80.5': must be a whole number from 0 to 65535") },
  { argv: [""], want: error("invalid port '': must be a whole number from 0 to 65535") },
  { argv: ["8000", "9000"], want: error("unexpected argument '9000' (the port is already 8000)") },
  { argv: ["-b"], want: error("option -b/--bind needs a value: -b ADDR") },
  { argv: ["--bind"], want: error("option -b/--bind needs a value: --bind ADDR") },
  { argv: ["--bind="], want: error("option -b/--bind needs a value: --bind ADDR") },
  { argv: ["-b", "-q"], want: error("option -b/--bind needs a value: -b ADDR") },
  { argv: ["-d", ""], want: error("option -d/--directory needs a value: -d DIR") },
  { argv: ["--quiet=yes"], want: error("option --quiet takes no value") },
];

describe("parseCommandLine", () => {
  for (const row of rows) {
    test(row.argv.map((a) => JSON.stringify(a)).join(" ") || "(no arguments)", () => {
      const got = parseCommandLine(row.argv);
      assert.deepEqual(
        got,
        row.want,
        `parseCommandLine(${JSON.stringify(row.argv)}): got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`,
      );
    });
  }
});

describe("helpText", () => {
  const help = helpText();
  test("usage line comes first, like Python's", () => {
    // Python's own flags first; every flag in the table appears; the positional last.
    const usage = help.slice(0, help.indexOf("\n\n"));
    assert.ok(usage.startsWith("usage: wharf [-b ADDR] [-d DIR] [-q] [-p PORT]"), `got ${JSON.stringify(usage)}`);
    // Wrapped at 80 columns like argparse's: the two positionals may fall on two lines.
    assert.ok(usage.replace(/\s+/g, " ").endsWith(" [port] [DIR]"), `got ${JSON.stringify(usage)}`);
    for (const flag of FLAGS) {
      const shown = flag.short === undefined ? `--${flag.long}` : `-${flag.short}`;
      assert.ok(usage.includes(`[${shown}`), `usage lacks ${shown}: ${JSON.stringify(usage)}`);
    }
  });
  test("fits in 80 columns", () => {
    for (const line of help.split("\n")) assert.ok(line.length <= 80, `too long: ${JSON.stringify(line)}`);
  });
  for (const flag of FLAGS) {
    test(`documents --${flag.long}${flag.default === undefined ? "" : " and its default"}`, () => {
      assert.ok(help.includes(`--${flag.long}`), `help lacks --${flag.long}`);
      if (flag.default !== undefined) assert.ok(help.includes(`(default: ${flag.default})`), `help lacks the default of --${flag.long}`);
    });
  }
  test("has examples and the port default", () => {
    assert.match(help, /\nexamples:\n/);
    assert.match(help, /\(default: 8000\)/);
  });
});
