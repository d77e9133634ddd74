/**
 * Validators the same on every replica, for every size (issue 15 item 5): two
 * server processes, each serving its own copy of a tree (other inodes, other
 * mtimes), agree on the ETag of a file above `hashLimit` when a digest sidecar
 * (`FILE.sha256`) is there, and after the background hash when it is not; a
 * stale sidecar is ignored, a fresh one trusted. And no Last-Modified for the
 * placeholder mtimes of reproducible images, with preconditions on the ETag alone.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createHandler } from "../../src/handler/create.js";
import { lastModifiedOf, PLACEHOLDER_MTIME_BEFORE_MS } from "../../src/http/dates.js";
import { serveContent, type WharfRequest } from "../../src/index.js";
import { REPO, type RunningCli, startCli } from "../helpers/cli.js";
import { type RawResponse, rawRequest } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";

const sha256 = (bytes: Uint8Array): Buffer => createHash("sha256").update(bytes).digest();
/** The content tag of a SHA-256: its first 128 bits, base64url. */
const tagFrom = (digest: Buffer): string => `"${digest.subarray(0, 16).toString("base64url")}"`;
const tagOf = (bytes: Uint8Array): string => tagFrom(sha256(bytes));
const headerLines = (headers: Record<string, string>): string =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
const get = (port: number, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<RawResponse> =>
  rawRequest(port, method, path, headerLines(headers));

/** 64 KiB of bytes that are not text: over the test's hashLimit (4 KiB) and cacheFileBytes (1 KiB). */
const bytes = (seed: number): Buffer => Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 31 + seed) % 251));
const SIDECAR = bytes(1);
const HASHED_LATER = bytes(2);
const STALE = bytes(3);
const LYING = bytes(4);
const LIE = sha256(Buffer.from("not the file"));
const MID = bytes(5).subarray(0, 2048);

describe("replicas agree on the ETag of a file above hashLimit", () => {
  let base: string;
  const replicas: RunningCli[] = [];

  before(async () => {
    base = mkdtempSync(join(tmpdir(), "wharf-validators-"));
    const tree = join(base, "a");
    mkdirSync(tree);
    writeFileSync(join(tree, "sidecar.bin"), SIDECAR);
    // sha256sum's own format, the file name after two spaces.
    writeFileSync(join(tree, "sidecar.bin.sha256"), `${sha256(SIDECAR).toString("hex")}  sidecar.bin\n`);
    writeFileSync(join(tree, "later.bin"), HASHED_LATER);
    writeFileSync(join(tree, "stale.bin"), STALE);
    writeFileSync(join(tree, "stale.bin.sha256"), `${LIE.toString("hex")}\n`);
    writeFileSync(join(tree, "lying.bin"), LYING);
    writeFileSync(join(tree, "lying.bin.sha256"), LIE.toString("hex").toUpperCase());
    // Between cacheFileBytes and hashLimit: a sidecar spares reading it too.
    writeFileSync(join(tree, "mid.bin"), MID);
    writeFileSync(join(tree, "mid.bin.sha256"), `${LIE.toString("hex")} *mid.bin\n`);
    // The second replica's copy: new inodes, and every mtime a day later.
    cpSync(tree, join(base, "b"), { recursive: true });
    const stamp = (dir: string, name: string, seconds: number): void => utimesSync(join(base, dir, name), seconds, seconds);
    for (const [dir, day] of [
      ["a", 1_750_000_000],
      ["b", 1_750_086_400],
    ] as const) {
      for (const name of ["sidecar.bin", "later.bin", "lying.bin", "stale.bin", "mid.bin"]) stamp(dir, name, day);
      // Sidecars not older than their file, except the stale one, a second older.
      for (const name of ["sidecar.bin.sha256", "lying.bin.sha256", "mid.bin.sha256"]) stamp(dir, name, day);
      stamp(dir, "stale.bin.sha256", day - 1);
    }
    const script = join(base, "replica.mjs");
    writeFileSync(
      script,
      `import { serve } from ${JSON.stringify(join(REPO, "dist/index.js"))};
const server = await serve({ root: process.argv[2], host: "127.0.0.1", port: 0, log: false, hashLimit: 4096, cacheFileBytes: 1024, digest: true });
console.log("Serving at http://127.0.0.1:" + server.port + "/ Press Ctrl+C");
`,
    );
    for (const dir of ["a", "b"]) replicas.push(await startCli([join(base, dir)], { command: [process.execPath, script] }));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  test("with a sidecar: the content tag from the first request, on both", async () => {
    const [a, b] = await Promise.all(replicas.map((r) => get(r.port, "/sidecar.bin")));
    assert.equal(a?.headers["etag"], tagOf(SIDECAR));
    assert.equal(b?.headers["etag"], tagOf(SIDECAR));
    assert.equal(a?.headers["repr-digest"], `sha-256=:${sha256(SIDECAR).toString("base64")}:`);
    assert.equal(b?.headers["repr-digest"], a?.headers["repr-digest"]);
    assert.notEqual(a?.headers["last-modified"], b?.headers["last-modified"], "the copies' mtimes differ");
  });

  test("a revalidation and a resume move across replicas", async () => {
    const [a, b] = replicas as [RunningCli, RunningCli];
    const first = await get(a.port, "/sidecar.bin");
    const etag = first.headers["etag"] as string;
    const revalidated = await get(b.port, "/sidecar.bin", { "if-none-match": etag });
    assert.equal(revalidated.status, 304);
    const resumed = await get(b.port, "/sidecar.bin", { range: "bytes=1000-", "if-range": etag });
    assert.equal(resumed.status, 206);
    assert.deepEqual(resumed.body, SIDECAR.subarray(1000));
  });

  test("without one: the size-and-mtime tag first, the content tag on both once hashed in the background", async () => {
    const firsts = await Promise.all(replicas.map((r) => get(r.port, "/later.bin")));
    for (const first of firsts) {
      assert.equal(first.status, 200);
      // Unless the background hash already won the race, the first answer is the metadata tag: no digest yet.
      if (first.headers["etag"] !== tagOf(HASHED_LATER)) {
        assert.match(first.headers["etag"] ?? "", /^"10000-[0-9a-f]+"$/);
        assert.equal(first.headers["repr-digest"], undefined);
      }
    }
    for (const replica of replicas) {
      const hashed = await waitFor(async () => (await get(replica.port, "/later.bin")).headers["etag"] === tagOf(HASHED_LATER));
      assert.ok(hashed, `replica on ${replica.port}: no content tag after the background hash`);
      const after = await get(replica.port, "/later.bin", {}, "HEAD");
      assert.equal(after.headers["repr-digest"], `sha-256=:${sha256(HASHED_LATER).toString("base64")}:`);
    }
  });

  test("a sidecar older than its file is ignored", async () => {
    for (const replica of replicas) {
      const first = await get(replica.port, "/stale.bin");
      assert.notEqual(first.headers["etag"], tagFrom(LIE), "the stale sidecar's digest was used");
      const hashed = await waitFor(async () => (await get(replica.port, "/stale.bin")).headers["etag"] === tagOf(STALE));
      assert.ok(hashed, "the file itself was not hashed");
    }
  });

  test("a sidecar not older than its file is trusted, even when it lies (it is the operator's file)", async () => {
    for (const replica of replicas) {
      for (const path of ["/lying.bin", "/mid.bin"]) {
        const res = await get(replica.port, path);
        assert.equal(res.headers["etag"], tagFrom(LIE), path);
        assert.equal(res.headers["repr-digest"], `sha-256=:${LIE.toString("base64")}:`, path);
      }
    }
  });

  test("a sidecar gives SHA-256 only: sha-512 asked alone gets none", async () => {
    const res = await get(replicas[0]!.port, "/sidecar.bin", { "want-repr-digest": "sha-512=1" });
    assert.equal(res.status, 200);
    assert.equal(res.headers["repr-digest"], undefined);
    const both = await get(replicas[0]!.port, "/sidecar.bin", { "want-repr-digest": "sha-512=9, sha-256=1" });
    assert.equal(both.headers["repr-digest"], `sha-256=:${sha256(SIDECAR).toString("base64")}:`);
  });
});

describe("Last-Modified and placeholder mtimes", () => {
  test("lastModifiedOf: placeholders before 1980-01-02T00:00:00Z", () => {
    const rows: [string, number, number | undefined][] = [
      ["the epoch (ko, kaniko --reproducible)", 0, undefined],
      ["one second (the Nix store)", 1000, undefined],
      ["1980-01-01T00:00:01Z (buildpacks, zip)", Date.UTC(1980, 0, 1, 0, 0, 1), undefined],
      ["the last instant before the bound", PLACEHOLDER_MTIME_BEFORE_MS - 1, undefined],
      ["the bound itself", PLACEHOLDER_MTIME_BEFORE_MS, PLACEHOLDER_MTIME_BEFORE_MS],
      ["a SOURCE_DATE_EPOCH release date", Date.UTC(2024, 4, 1), Date.UTC(2024, 4, 1)],
    ];
    for (const [name, mtime, want] of rows) assert.equal(lastModifiedOf(mtime), want, `${name}: lastModifiedOf(${mtime})`);
  });

  let dir: string;
  let server: Server;
  let port: number;
  const BODY = "reproducible\n";
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wharf-epoch-"));
    for (const [name, seconds] of [
      ["zero.txt", 0],
      ["nix.txt", 1],
      ["buildpack.txt", Date.UTC(1980, 0, 1, 0, 0, 1) / 1000],
      ["real.txt", Date.UTC(2024, 4, 1) / 1000],
    ] as const) {
      writeFileSync(join(dir, name), BODY);
      utimesSync(join(dir, name), seconds, seconds);
    }
    server = createServer(createHandler({ root: dir }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const LATER = "Wed, 01 Jan 2025 00:00:00 GMT";
  const rows: { name: string; path: string; headers: Record<string, string>; status: number; lastModified: string | undefined }[] = [
    { name: "mtime 0: no Last-Modified", path: "/zero.txt", headers: {}, status: 200, lastModified: undefined },
    { name: "mtime 1 s: no Last-Modified", path: "/nix.txt", headers: {}, status: 200, lastModified: undefined },
    { name: "1980-01-01: no Last-Modified", path: "/buildpack.txt", headers: {}, status: 200, lastModified: undefined },
    { name: "a real date is sent", path: "/real.txt", headers: {}, status: 200, lastModified: "Wed, 01 May 2024 00:00:00 GMT" },
    {
      name: "If-Modified-Since is ignored without a date",
      path: "/zero.txt",
      headers: { "if-modified-since": LATER },
      status: 200,
      lastModified: undefined,
    },
    { name: "...and honoured with one", path: "/real.txt", headers: { "if-modified-since": LATER }, status: 304, lastModified: undefined },
    {
      name: "If-None-Match decides alone",
      path: "/zero.txt",
      headers: { "if-none-match": tagOf(Buffer.from(BODY)) },
      status: 304,
      lastModified: undefined,
    },
    {
      name: "If-Unmodified-Since is ignored without a date",
      path: "/zero.txt",
      headers: { "if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT" },
      status: 200,
      lastModified: undefined,
    },
    {
      name: "If-Range with a date sends the whole file",
      path: "/zero.txt",
      headers: { range: "bytes=0-3", "if-range": "Thu, 01 Jan 1970 00:00:00 GMT" },
      status: 200,
      lastModified: undefined,
    },
    {
      name: "If-Range with the ETag resumes",
      path: "/zero.txt",
      headers: { range: "bytes=0-3", "if-range": tagOf(Buffer.from(BODY)) },
      status: 206,
      lastModified: undefined,
    },
  ];
  test("serveContent({ file }) follows the same rule", async () => {
    for (const [name, want] of [
      ["zero.txt", undefined],
      ["real.txt", "Wed, 01 May 2024 00:00:00 GMT"],
    ] as const) {
      const req: WharfRequest = {
        method: "GET",
        target: "/x",
        pathname: "/x",
        search: "",
        header: () => undefined,
        remoteAddress: undefined,
      };
      const reply = await serveContent(req, { file: join(dir, name) });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers["last-modified"], want, name);
    }
  });

  for (const row of rows) {
    for (const method of ["GET", "HEAD"]) {
      test(`${method} ${row.name}`, async () => {
        const res = await get(port, row.path, row.headers, method);
        assert.equal(res.status, row.status, `${method} ${row.path} ${JSON.stringify(row.headers)}: status`);
        assert.equal(res.headers["last-modified"], row.lastModified, `${method} ${row.path}: last-modified`);
      });
    }
  }
});
