/**
 * `--max-ranges 0`: ranges off, end to end. The flag has always accepted 0 and
 * http/range.ts has always read it as "ignore every Range header", but
 * resolveOptions() refused it (a whole number of at least 1), so `wharf
 * --max-ranges 0` exited 2. Now the flag, the library and the range code agree:
 * a Range header gets 200 with the whole file.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createHandler } from "../../src/handler/create.js";
import { type RunningCli, startCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-max-ranges-"));
writeFileSync(join(dir, "nums.txt"), "123456789");
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the built CLI and resolves once the banner is out (or rejects with its stderr). */
function start(args: string[]): Promise<RunningCli> {
  return startCli(["0", "-b", "127.0.0.1", "-q", "-d", dir, ...args]);
}

describe("--max-ranges 0: ranges off", () => {
  const rows: { name: string; args: string[]; status: number; body: string }[] = [
    { name: "default: a range is a 206", args: [], status: 206, body: "1" },
    { name: "--max-ranges 1: one range still served", args: ["--max-ranges", "1"], status: 206, body: "1" },
    { name: "--max-ranges 0: the whole file, 200", args: ["--max-ranges", "0"], status: 200, body: "123456789" },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const { child, url } = await start(row.args);
      try {
        for (const method of ["GET", "HEAD"]) {
          const res = await fetch(`${url}nums.txt`, { method, headers: { range: "bytes=0-0" } });
          assert.equal(res.status, row.status, `${method}: got ${res.status}, want ${row.status}`);
          assert.equal(await res.text(), method === "HEAD" ? "" : row.body);
        }
      } finally {
        child.kill();
      }
    });
  }
  test("the library takes 0 too", async () => {
    const handler = createHandler({ root: dir, maxRanges: 0 }, () => {});
    const res = await handler.fetch(new Request("http://localhost/nums.txt", { headers: { range: "bytes=0-0" } }));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "123456789");
  });
});
