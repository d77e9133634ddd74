/**
 * serve() resolves its options once and builds its handler from that one
 * resolution: the htpasswd file is read (and parsed) once per serve(), and the
 * features the banner reports and the auth-without-TLS check looks at are those
 * of the handler that answers. Before, createHandler() resolved them a second
 * time, reading the file twice; an edit between the reads made the banner
 * describe a different build from the one serving.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs, { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, mock, test } from "node:test";
import { startServer } from "../helpers/server.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-resolve-once-"));
const htpasswd = join(dir, "htpasswd");
writeFileSync(join(dir, "a.txt"), "a");
// {SHA}: checked in this thread, no worker pool to wait for.
writeFileSync(htpasswd, `admin:{SHA}${createHash("sha1").update("pw").digest("base64")}\n`);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Counts reads of `path` through node:fs (the ESM named exports included) while `body` runs. */
async function countingReads(path: string, body: () => Promise<void>): Promise<number> {
  let reads = 0;
  const original = fs.readFileSync;
  const spy = mock.method(fs, "readFileSync", function (this: unknown, ...args: Parameters<typeof fs.readFileSync>) {
    if (String(args[0]) === path) reads++;
    return original.apply(this, args);
  });
  syncBuiltinESMExports();
  try {
    await body();
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
  return reads;
}

describe("serve() resolves its options once", () => {
  test("the htpasswd file is read once; the banner's features are the handler's", async () => {
    let features: readonly string[] = [];
    let statuses: number[] = [];
    const reads = await countingReads(htpasswd, async () => {
      const server = await startServer({ root: dir, authFile: htpasswd });
      try {
        features = server.features;
        const url = `${server.urls[0]}a.txt`;
        statuses = [
          (await fetch(url)).status,
          (await fetch(url, { headers: { authorization: `Basic ${Buffer.from("admin:pw").toString("base64")}` } })).status,
        ];
      } finally {
        await server.close();
      }
    });
    assert.equal(reads, 1, `the htpasswd file was read ${reads} times by one serve()`);
    assert.ok(features.includes("auth"), `banner features: ${features.join(", ")}`);
    assert.deepEqual(statuses, [401, 200]);
  });
});
