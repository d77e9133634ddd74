/**
 * The upload flags on the command line, and the banner: where uploads go and
 * who may write, with a warning when anyone may (`--upload-anonymous`).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type CommandLine, parseCommandLine } from "../../src/cli/flags.js";
import { uploadLines } from "../../src/cli/main.js";
import type { Settings } from "../../src/config/registry.js";
import { startCli } from "../helpers/cli.js";

const run = (o: Settings, directoryFrom?: "positional"): CommandLine =>
  directoryFrom === undefined ? { kind: "run", options: o } : { kind: "run", options: o, directoryFrom };

describe("upload flags", () => {
  const ROWS: { argv: string[]; want: CommandLine }[] = [
    { argv: ["--upload"], want: run({ upload: true }) },
    { argv: ["--upload", "/inbox", "--upload=/drop box"], want: run({ upload: ["/inbox", "/drop box"] }) },
    // A directory after --upload is still the directory to serve.
    { argv: ["--upload", "public"], want: run({ upload: true, root: "public" }, "positional") },
    { argv: ["--upload", "--mkdir", "--delete"], want: run({ upload: true, mkdir: true, delete: true }) },
    { argv: ["--on-conflict", "rename"], want: run({ onConflict: "rename" }) },
    { argv: ["--upload-max-size", "100M"], want: run({ uploadMaxSize: 100 * 1024 * 1024 }) },
    { argv: ["--upload-max-size", "0"], want: run({ uploadMaxSize: 0 }) },
    { argv: ["--upload-max-size", "2GiB"], want: run({ uploadMaxSize: 2 * 1024 ** 3 }) },
    { argv: ["--upload-auth", "me:a:b", "--upload-auth", "you:c"], want: run({ uploadAuth: ["me:a:b", "you:c"] }) },
    { argv: ["--upload-anonymous"], want: run({ uploadAnonymous: true }) },
    {
      argv: ["--on-conflict", "replace"],
      want: { kind: "error", message: "invalid --on-conflict 'replace': must be one of error, rename, overwrite" },
    },
    {
      argv: ["--upload-max-size", "lots"],
      want: { kind: "error", message: "invalid --upload-max-size 'lots': must be bytes, like 1048576, 100M or 2G" },
    },
    // The password is never echoed.
    { argv: ["--upload-auth", "secret"], want: { kind: "error", message: "invalid --upload-auth 'secret': expected USER:PASSWORD" } },
  ];
  for (const row of ROWS) test(JSON.stringify(row.argv), () => assert.deepEqual(parseCommandLine(row.argv), row.want));
});

describe("the banner", () => {
  const ROWS: [string, Settings, string[]][] = [
    ["off", {}, []],
    ["loopback only", { upload: true }, ["  uploads: anywhere, up to 1.0 GiB, on conflict error; writes from this machine only"]],
    [
      "paths, options and an account",
      { upload: ["/in"], mkdir: true, delete: true, onConflict: "rename", uploadMaxSize: 0, uploadAuth: ["a:b"] },
      ["  uploads: under /in, no size limit, on conflict rename, folders, delete; writes need an --upload-auth account"],
    ],
    [
      "anonymous: a warning",
      { upload: true, uploadAnonymous: true },
      [
        "  uploads: anywhere, up to 1.0 GiB, on conflict error; anyone who can reach this server may write",
        "  WARNING: --upload-anonymous: anyone on the network can write files here, without a password",
      ],
    ],
  ];
  for (const [name, settings, want] of ROWS) test(name, () => assert.deepEqual(uploadLines(settings), want));

  const dir = mkdtempSync(join(tmpdir(), "wharf-upload-cli-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test("wharf --upload --upload-anonymous prints the warning", async () => {
    const cli = await startCli(["0", "-b", "127.0.0.1", "--upload", "--upload-anonymous", "-d", dir]);
    try {
      assert.match(cli.stdout(), /^ {2}features: uploads, compression$/m);
      assert.match(cli.stdout(), /^ {2}WARNING: --upload-anonymous: anyone on the network can write files here, without a password$/m);
    } finally {
      await cli.stop();
    }
  });
});
