/**
 * `wharf precompress --digests`: a `FILE.sha256` in sha256sum's format beside
 * every file over 1 MiB, compressed sidecars included, skipped when up to date;
 * `sha256sum -c` agrees with every one, and wharf takes the ETag and Repr-Digest
 * of a file above hashLimit from them on the first request.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { precompressCommand } from "../../src/cli/precompress.js";
import { createHandler } from "../../src/handler/create.js";
import { rawRequest } from "../helpers/raw.js";

const MiB = 1024 * 1024;
let dir = "";
const files: Record<string, Buffer> = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-pre-digests-"));
  const put = (name: string, bytes: Buffer): void => {
    files[name] = bytes;
    writeFileSync(join(dir, name), bytes);
  };
  put("big.bin", randomBytes(MiB + 1)); // just over the line
  put("exactly.bin", randomBytes(MiB)); // kept in memory by wharf: no digest
  put("small.txt", Buffer.from("small\n"));
  put("data.tar.gz", randomBytes(MiB + 100)); // a real .gz download, not a sidecar
  // A compressible file whose compressed sidecars are already there and up to date
  // (their bytes stand in for real ones: compressing megabytes at the highest
  // settings would only slow the test), each over 1 MiB.
  put("big.js", Buffer.from("let x = 1;\n".repeat(110_000)));
  for (const suffix of [".br", ".gz"]) put(`big.js${suffix}`, randomBytes(MiB + 7));
  put(".hidden.bin", randomBytes(MiB + 1)); // dotfiles left alone
  put("site.htpasswd", randomBytes(MiB + 1)); // password files never: their digest helps guess them
  // The original older than its sidecars, so they are up to date.
  const earlier = new Date(Date.now() - 10_000);
  utimesSync(join(dir, "big.js"), earlier, earlier);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; progress: string }> {
  let out = "";
  let progress = "";
  const code = await precompressCommand(
    [...args, dir],
    (t) => (out += t),
    (t) => (out += t),
    { isTTY: false, write: (t) => (progress += t) },
  );
  return { code, out, progress };
}

const sha256 = (bytes: Uint8Array): Buffer => createHash("sha256").update(bytes).digest();
const DIGESTED = ["big.bin", "data.tar.gz", "big.js", "big.js.br", "big.js.gz"];

test("--dry-run names the digests it would write and writes none", async () => {
  const r = await run("--digests", "--dry-run");
  assert.equal(r.code, 0, r.out);
  for (const name of DIGESTED) assert.match(r.out, new RegExp(`^would write ${name.replaceAll(".", "\\.")}\\.sha256$`, "m"));
  assert.match(r.out, /5 files over 1 MiB: would write 5 digests, 0 up to date; nothing written \(dry run\)/);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith(".sha256")),
    [],
  );
});

test("writes sha256sum's line beside every file over 1 MiB, compressed sidecars included", async () => {
  const r = await run("--digests");
  assert.equal(r.code, 0, r.out);
  for (const name of DIGESTED) {
    assert.equal(readFileSync(join(dir, `${name}.sha256`), "utf8"), `${sha256(files[name]!).toString("hex")}  ${name}\n`, name);
    assert.match(r.out, new RegExp(`^${name.replaceAll(".", "\\.")}\\.sha256: sha256 of `, "m"));
  }
  for (const name of ["exactly.bin", "small.txt", ".hidden.bin", "site.htpasswd"])
    assert.ok(!existsSync(join(dir, `${name}.sha256`)), `${name}: no digest`);
  assert.match(r.out, /; 5 files over 1 MiB: wrote 5 digests, 0 up to date$/m);
  // The tool that wrote the format checks it.
  const checked = execFileSync("sha256sum", ["-c", ...DIGESTED.map((n) => `${n}.sha256`)], { cwd: dir, encoding: "utf8" });
  assert.equal(checked, DIGESTED.map((n) => `${n}: OK\n`).join(""));
});

test("a second run writes none; an edited file gets a new one", async () => {
  assert.match((await run("--digests")).out, /5 files over 1 MiB: wrote 0 digests, 5 up to date/);
  const edited = randomBytes(MiB + 2);
  writeFileSync(join(dir, "big.bin"), edited);
  // Its digest from before is older than the edit, whatever the clock's resolution.
  const earlier = new Date(Date.now() - 60_000);
  utimesSync(join(dir, "big.bin.sha256"), earlier, earlier);
  files["big.bin"] = edited;
  const r = await run("--digests", "-q");
  assert.match(r.out, /5 files over 1 MiB: wrote 1 digest, 4 up to date/);
  assert.equal(r.progress, "", "-q shows no progress");
  assert.equal(readFileSync(join(dir, "big.bin.sha256"), "utf8"), `${sha256(edited).toString("hex")}  big.bin\n`);
});

test("without --digests nothing is hashed", async () => {
  const r = await run();
  assert.doesNotMatch(r.out, /digest/);
});

test("wharf serves those tags and digests from the first request", async () => {
  const server = createServer(createHandler({ root: dir, hashLimit: 1024, digest: true }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    for (const [path, encoding, bytes] of [
      ["/big.bin", undefined, files["big.bin"]!],
      ["/big.js", "br", files["big.js.br"]!],
      ["/big.js", "gzip", files["big.js.gz"]!],
      ["/big.js", undefined, files["big.js"]!],
    ] as const) {
      const res = await rawRequest(port, "HEAD", path, encoding === undefined ? "" : `Accept-Encoding: ${encoding}\r\n`);
      const digest = sha256(bytes);
      assert.equal(res.headers["content-encoding"], encoding, `${path} ${encoding}`);
      assert.equal(res.headers["etag"], `"${digest.subarray(0, 16).toString("base64url")}"`, `${path} ${encoding}: etag`);
      assert.equal(res.headers["repr-digest"], `sha-256=:${digest.toString("base64")}:`, `${path} ${encoding}: repr-digest`);
    }
  } finally {
    server.close();
  }
});

test("a file dated in the future gets a sidecar dated no earlier, so wharf uses it", async () => {
  const future = new Date(Date.now() + 3_600_000);
  writeFileSync(join(dir, "future.bin"), randomBytes(MiB + 3));
  utimesSync(join(dir, "future.bin"), future, future);
  assert.equal((await run("--digests", "-q")).code, 0);
  const { mtimeMs } = statSync(join(dir, "future.bin.sha256"));
  assert.ok(mtimeMs >= future.getTime(), `sidecar ${new Date(mtimeMs).toISOString()}, file ${future.toISOString()}`);
});
