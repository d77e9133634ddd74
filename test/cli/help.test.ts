/**
 * What `--help` promises, checked against what the CLI does: the SPA fallback's
 * rule spelled out (curl gets 404), `--log-format` listing exactly the formats
 * it accepts, and `npm start` serving the checkout on loopback only.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseCommandLine } from "../../src/cli/flags.js";
import { REPO, runCli } from "../helpers/cli.js";

const run = (args: string[]): { status: number | null; stdout: string; stderr: string } => runCli(args);

const help = run(["--help"]).stdout;

describe("-s explained", () => {
  test("the -s line says HTML navigations", () => {
    assert.match(help, /^ {2}-s, --single \[FILE\] +SPA: HTML navigations to unknown paths get FILE$/m);
  });
  test("a note says curl gets 404, how to see the page, and why", () => {
    const note = /^single-page apps \(-s\):\n((?: {2}.*\n)+)/m.exec(help)?.[1]?.replace(/\s+/g, " ");
    assert.ok(note, `no note on -s in\n${help}`);
    assert.match(note, /HTML navigations only/);
    assert.match(note, /curl sends Accept: \*\/\*/);
    assert.match(note, /gets 404/);
    assert.match(note, /-H 'Accept: text\/html'/);
    assert.match(note, /serve -s/);
    assert.match(note, /scripts, images and fetch\(\) calls also keep their 404/);
  });
  test("help stays within 80 columns", () => {
    const long = help.split("\n").filter((line) => line.length > 80);
    assert.deepEqual(long, []);
  });
});

describe("--log-format: help and error agree", () => {
  const listed = /--log-format FORMAT +access log: ([a-z, ]+)\n/.exec(help)?.[1]?.split(", ");
  const error = run(["--log-format", "xml"]);
  const accepted = /must be one of ([a-z, ]+)\n/.exec(error.stderr)?.[1]?.split(", ");
  test("--help lists the formats the error lists", () => {
    assert.ok(listed, `no formats in the --log-format line of\n${help}`);
    assert.equal(error.status, 2);
    assert.deepEqual(listed, accepted);
    assert.ok(listed.includes("default"), "the default format is named");
  });
  test("every listed format is accepted", () => {
    for (const format of listed ?? []) {
      const line = parseCommandLine(["--log-format", format]);
      assert.equal(line.kind, "run", `--log-format ${format}: ${JSON.stringify(line)}`);
    }
  });
});

test("npm start serves on loopback only", () => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const args = /node dist\/cli\/bin\.js(.*)$/.exec(pkg.scripts["start"]!)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
  const line = parseCommandLine(args);
  assert.equal(line.kind, "run");
  assert.equal(line.kind === "run" ? line.options.host : undefined, "localhost", `npm start runs wharf ${args.join(" ")}`);
});
