/**
 * Awkward file systems, over a real server: names at the 255-byte limit, trees
 * deeper than anyone needs, paths past PATH_MAX, symlink loops and cycles, a
 * FIFO. Each answers promptly with a 2xx or a 4xx: nothing hangs, nothing is a
 * 500. (Loops and over-long names that do not exist are in handler/hostile and
 * handler/serve; these build the real thing on disk.)
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunningServer } from "../../src/server/serve.js";
import { rawRequest } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";

const NAME_255 = `${"n".repeat(251)}.txt`;
const UNICODE_255 = `${"é".repeat(125)}.txt`; // 250 + 4 bytes: 254, under the limit in bytes, not in characters
const DEPTH = 100;

let dir = "";
let server: RunningServer;
const hasFifo = spawnSync("mkfifo", ["--version"]).status === 0;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-fs-"));
  writeFileSync(join(dir, "nums.txt"), "123456789");
  writeFileSync(join(dir, NAME_255), "long name");
  writeFileSync(join(dir, UNICODE_255), "long unicode name");
  let deep = dir;
  for (let i = 0; i < DEPTH; i++) deep = join(deep, "d");
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, "bottom.txt"), "bottom");
  // Cycles: a directory that contains itself, one that points back up, and a
  // two-link loop next to real files in a listed directory.
  mkdirSync(join(dir, "cycle"));
  writeFileSync(join(dir, "cycle", "here.txt"), "here");
  symlinkSync(".", join(dir, "cycle", "self"));
  symlinkSync("..", join(dir, "cycle", "up"));
  symlinkSync("loop2", join(dir, "cycle", "loop1"));
  symlinkSync("loop1", join(dir, "cycle", "loop2"));
  if (hasFifo) assert.equal(spawnSync("mkfifo", [join(dir, "pipe")]).status, 0);
  server = await startServer({ root: dir });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const encode = (name: string): string => encodeURIComponent(name);

describe("awkward file systems", () => {
  test("a 255-byte name is served and listed; one byte more is 404", async () => {
    const res = await rawRequest(server.port, "GET", `/${NAME_255}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "long name");
    assert.equal((await rawRequest(server.port, "GET", `/${NAME_255}x`)).status, 404);
    const listing = await rawRequest(server.port, "GET", "/");
    assert.ok(listing.body.toString().includes(NAME_255));
  });

  test("a long multi-byte name, percent-encoded (over 750 characters of target)", async () => {
    const target = `/${encode(UNICODE_255)}`;
    assert.ok(target.length > 750);
    const res = await rawRequest(server.port, "GET", target);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "long unicode name");
  });

  test(`a tree ${DEPTH} directories deep is served`, async () => {
    const res = await rawRequest(server.port, "GET", `/${"d/".repeat(DEPTH)}bottom.txt`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "bottom");
    assert.equal((await rawRequest(server.port, "GET", `/${"d/".repeat(DEPTH)}`)).status, 200, "its listing");
  });

  test("a path longer than PATH_MAX is 404, not 500", async () => {
    // 4,100 bytes of existing directories and then some: the file system says ENAMETOOLONG.
    const res = await rawRequest(server.port, "GET", `/${"d/".repeat(DEPTH)}${"x/".repeat(2000)}y`);
    assert.equal(res.status, 404);
  });

  test("cycles: a directory that contains itself resolves a few levels deep, and too deep is 404", async () => {
    assert.equal((await rawRequest(server.port, "GET", `/cycle/${"self/".repeat(10)}here.txt`)).body.toString(), "here");
    assert.equal((await rawRequest(server.port, "GET", `/cycle/${"up/cycle/".repeat(10)}here.txt`)).body.toString(), "here");
    // Past the kernel's limit of symlinks followed in one lookup (40): ELOOP.
    assert.equal((await rawRequest(server.port, "GET", `/cycle/${"self/".repeat(100)}here.txt`)).status, 404);
    assert.equal((await rawRequest(server.port, "GET", "/cycle/loop1")).status, 404);
    assert.equal((await rawRequest(server.port, "GET", "/cycle/loop1/x")).status, 404);
  });

  test("a directory holding loops is listed; the loops are left out", async () => {
    const res = await rawRequest(server.port, "GET", "/cycle/");
    assert.equal(res.status, 200);
    const html = res.body.toString();
    assert.ok(html.includes("here.txt") && html.includes(">self/<") && html.includes(">up/<"), html);
    assert.ok(!html.includes("loop1") && !html.includes("loop2"), "a looping symlink was listed");
  });

  test("a FIFO is 404 at once (opening it would block forever)", { skip: !hasFifo && "no mkfifo" }, async () => {
    assert.equal((await rawRequest(server.port, "GET", "/pipe")).status, 404);
    assert.equal((await rawRequest(server.port, "GET", "/nums.txt")).status, 200, "the server still answers");
  });
});
