/**
 * An archive that cannot be complete is cut, never ended: past
 * `archiveMaxBytes`, or when a file turns out shorter than its descriptor said
 * while it is read (a tar header already stated the size; a zip's central
 * directory would describe a torn file). The client sees the connection close
 * before the end of the chunked body — an error, not a complete archive — and
 * what it got fails `unzip -t`.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { nodeFileSystem } from "../../../src/fs/node.js";
import type { FileSystem } from "../../../src/fs/types.js";
import { startServer } from "../../helpers/server.js";

let root = "";
before(() => {
  root = mkdtempSync(join(tmpdir(), "wharf-archive-cut-"));
  mkdirSync(join(root, "d"));
  // 3 files of 100 KiB: 300 KiB in all.
  for (const name of ["a.bin", "b.bin", "c.bin"]) writeFileSync(join(root, "d", name), Buffer.alloc(100 * 1024, name.charCodeAt(0)));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** The body and whether the response ended properly (`complete`) or the connection was cut. */
function fetchArchive(port: number, path: string): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete }));
      // Node reports a chunked body cut short as 'aborted'/'error', then 'close' without 'end'.
      res.on("error", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: false }));
      res.on("close", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/** The node file system, except that `b.bin` reads 1,000 bytes short of its size: truncated while read. */
const shrinking: FileSystem = {
  ...nodeFileSystem,
  open: async (path) => {
    const file = await nodeFileSystem.open(path);
    if (!path.endsWith("b.bin")) return file;
    return { ...file, read: (start, end) => file.read(start, Math.max(start, end - 1000)) };
  },
};

const ROWS = [
  { name: "under the limit", options: { archiveMaxBytes: 300 * 1024 }, complete: true },
  { name: "no limit (0)", options: { archiveMaxBytes: 0 }, complete: true },
  { name: "one byte over the limit", options: { archiveMaxBytes: 300 * 1024 - 1 }, complete: false },
  { name: "a file shorter than its descriptor said", options: { fs: shrinking }, complete: false },
] as const;

for (const format of ["zip", "tar"] as const) {
  describe(`?download=${format} cut short`, () => {
    for (const row of ROWS) {
      test(`${row.name}: ${row.complete ? "complete" : "connection cut, archive incomplete"}`, async () => {
        const server = await startServer({ root, archive: [format], ...row.options });
        try {
          const got = await fetchArchive(server.port, `/d/?download=${format}`);
          assert.equal(got.status, 200);
          assert.equal(got.complete, row.complete, `complete: got ${got.complete}, want ${row.complete}`);
          const file = join(root, `got.${format}`);
          writeFileSync(file, got.body);
          const check = format === "zip" ? spawnSync("unzip", ["-t", file]) : spawnSync("bsdtar", ["-tf", file]);
          assert.equal(check.error, undefined, "unzip/bsdtar missing (.ci/run installs them)");
          if (format === "zip") assert.equal(check.status === 0, row.complete, `unzip -t: ${check.stdout}`);
          if (row.complete) {
            assert.equal(check.status, 0);
          } else {
            // Never a header whose bytes did not follow: the cut body is shorter than 300 KiB of data.
            assert.ok(got.body.length < 300 * 1024, `body ${got.body.length} bytes`);
          }
        } finally {
          await server.close();
        }
      });
    }
  });
}
