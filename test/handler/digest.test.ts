/**
 * `digest` (RFC 9530): Repr-Digest on 200 and 206 of every representation whose
 * digest is known — the file, its in-memory br/zstd/gzip forms, its precompressed
 * sidecars — chosen by Want-Repr-Digest; Content-Digest when Want-Content-Digest
 * asks, of a 206's own body; none on 304; Vary says so. Every digest is computed
 * again here with node:crypto over the bytes received over a raw socket (a
 * client would decode the coding first).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import zlib from "node:zlib";
import { createHandler } from "../../src/handler/create.js";
import { ENCODINGS } from "../../src/responders/encoders.js";
import { type RawResponse, rawRequest } from "../helpers/raw.js";

let dir: string;
let on: Server;
let off: Server;
let portOn: number;
let portOff: number;

const text = (n: number, seed: string): string => Array.from({ length: n }, (_, i) => `${seed} line ${i}\n`).join("");
const NUMS = "123456789";
const SMALL_JS = text(200, "small js"); // about 3 KiB: kept in memory, compressed in memory
const PRE_CSS = text(200, "pre css"); // with .br and .gz sidecars on disk
// Over cacheFileBytes and not compressible: read from disk, hashed by streaming.
const DISK_BIN = Buffer.from(Array.from({ length: 2 * 1024 * 1024 + 7 }, (_, i) => (i * 7919) % 251));
const DISK_JS = text(120_000, "disk js"); // over cacheFileBytes and compressible: compressed while sent

async function listen(handler: Parameters<typeof createServer>[1]): Promise<[Server, number]> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return [server, (server.address() as AddressInfo).port];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-digest-"));
  writeFileSync(join(dir, "nums.txt"), NUMS);
  writeFileSync(join(dir, "empty.txt"), "");
  writeFileSync(join(dir, "small.js"), SMALL_JS);
  writeFileSync(join(dir, "pre.css"), PRE_CSS);
  writeFileSync(join(dir, "pre.css.br"), zlib.brotliCompressSync(PRE_CSS));
  writeFileSync(join(dir, "pre.css.gz"), zlib.gzipSync(PRE_CSS, { level: 9 }));
  writeFileSync(join(dir, "disk.bin"), DISK_BIN);
  writeFileSync(join(dir, "disk.js"), DISK_JS);
  [on, portOn] = await listen(createHandler({ root: dir, digest: true }));
  [off, portOff] = await listen(createHandler({ root: dir }));
});
after(() => {
  on.close();
  off.close();
  rmSync(dir, { recursive: true, force: true });
});

const hashOf = (algorithm: string, bytes: Uint8Array): string =>
  createHash(algorithm === "sha-256" ? "sha256" : "sha512")
    .update(bytes)
    .digest("base64");

/** Checks that `value` is `ALG=:BASE64:` with ALG `algorithm` and the digest of `bytes`. */
function assertDigest(value: string | undefined, algorithm: string, bytes: Uint8Array, what: string): void {
  const match = /^(sha-256|sha-512)=:([A-Za-z0-9+/=]+):$/.exec(value ?? "");
  assert.ok(match, `${what}: got ${JSON.stringify(value)}, want ${algorithm}=:…:`);
  assert.equal(match[1], algorithm, `${what}: algorithm`);
  assert.equal(match[2], hashOf(algorithm, bytes), `${what}: not the ${algorithm} of the bytes`);
}

const headerLines = (headers: Record<string, string>): string =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");

const get = (port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(port, method, path, headerLines(headers));

const VARY_DIGEST = "want-repr-digest, want-content-digest";
const VARY_ALL = `accept-encoding, ${VARY_DIGEST}`;

interface Row {
  readonly name: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly encoding?: string;
  /** Repr-Digest's algorithm, or absent. */
  readonly repr: "sha-256" | "sha-512" | undefined;
  /** Content-Digest's algorithm (GET only), or absent. */
  readonly content?: "sha-256" | "sha-512";
  readonly vary: string | undefined;
  /** A multipart/byteranges 206. */
  readonly multipart?: true;
}

const CODED: Row[] = ENCODINGS.flatMap((encoding): Row[] => [
  {
    name: `in-memory ${encoding}: the digest of the ${encoding} bytes`,
    path: "/small.js",
    headers: { "accept-encoding": encoding },
    status: 200,
    encoding,
    repr: "sha-256",
    vary: VARY_ALL,
  },
  {
    name: `in-memory ${encoding}, sha-512 asked for both`,
    path: "/small.js",
    headers: { "accept-encoding": encoding, "want-repr-digest": "sha-512=9", "want-content-digest": "sha-512=9" },
    status: 200,
    encoding,
    repr: "sha-512",
    content: "sha-512",
    vary: VARY_ALL,
  },
  {
    name: `in-memory ${encoding}, a range of the coded bytes`,
    path: "/small.js",
    headers: { "accept-encoding": encoding, range: "bytes=10-99", "want-content-digest": "sha-256=1" },
    status: 206,
    encoding,
    repr: "sha-256",
    content: "sha-256",
    vary: VARY_ALL,
  },
]);
// Sidecars exist for br and gzip (zstd sidecars need a Node with zstd to make).
const SIDECARS: Row[] = ["br", "gzip"].map((encoding) => ({
  name: `precompressed ${encoding} sidecar: the digest of the sidecar's bytes`,
  path: "/pre.css",
  headers: { "accept-encoding": encoding, "want-content-digest": "sha-256=1" },
  status: 200,
  encoding,
  repr: "sha-256",
  content: "sha-256",
  vary: VARY_ALL,
}));

const ROWS: Row[] = [
  { name: "identity, no Want field: sha-256", path: "/nums.txt", status: 200, repr: "sha-256", vary: VARY_DIGEST },
  { name: "an empty file", path: "/empty.txt", status: 200, repr: "sha-256", vary: VARY_DIGEST },
  {
    name: "Want-Repr-Digest sha-512",
    path: "/nums.txt",
    headers: { "want-repr-digest": "sha-512=10, sha-256=1" },
    status: 200,
    repr: "sha-512",
    vary: VARY_DIGEST,
  },
  {
    name: "Want-Repr-Digest sha-256 over sha-512",
    path: "/nums.txt",
    headers: { "want-repr-digest": "sha-512=1, sha-256=2" },
    status: 200,
    repr: "sha-256",
    vary: VARY_DIGEST,
  },
  {
    name: "Want-Repr-Digest refuses both: none",
    path: "/nums.txt",
    headers: { "want-repr-digest": "sha-256=0, sha-512=0" },
    status: 200,
    repr: undefined,
    vary: VARY_DIGEST,
  },
  {
    name: "Want-Repr-Digest md5 only: none",
    path: "/nums.txt",
    headers: { "want-repr-digest": "md5=10" },
    status: 200,
    repr: undefined,
    vary: VARY_DIGEST,
  },
  {
    name: "a malformed Want-Repr-Digest is ignored",
    path: "/nums.txt",
    headers: { "want-repr-digest": "SHA-512=10" },
    status: 200,
    repr: "sha-256",
    vary: VARY_DIGEST,
  },
  {
    name: "Want-Content-Digest on a 200: the representation's digest",
    path: "/nums.txt",
    headers: { "want-content-digest": "sha-512=3" },
    status: 200,
    repr: "sha-256",
    content: "sha-512",
    vary: VARY_DIGEST,
  },
  {
    name: "206 single range: Repr-Digest of the whole, Content-Digest of the part",
    path: "/nums.txt",
    headers: { range: "bytes=2-5", "want-content-digest": "sha-256=5" },
    status: 206,
    repr: "sha-256",
    content: "sha-256",
    vary: VARY_DIGEST,
  },
  {
    name: "206 multipart: Content-Digest of the multipart body",
    path: "/small.js",
    multipart: true,
    headers: { range: "bytes=0-9,1000-1009", "want-content-digest": "sha-512=5", "want-repr-digest": "sha-512=5" },
    status: 206,
    repr: "sha-512",
    content: "sha-512",
    vary: VARY_ALL,
  },
  {
    name: "206 without Want-Content-Digest: Repr-Digest only",
    path: "/nums.txt",
    headers: { range: "bytes=-3" },
    status: 206,
    repr: "sha-256",
    vary: VARY_DIGEST,
  },
  {
    name: "a file read from disk, hashed by streaming",
    path: "/disk.bin",
    headers: { "want-content-digest": "sha-256=1" },
    status: 200,
    repr: "sha-256",
    content: "sha-256",
    vary: VARY_DIGEST,
  },
  {
    name: "206 of a file read from disk: no Content-Digest (it would mean reading the part twice)",
    path: "/disk.bin",
    headers: { range: "bytes=100-199", "want-content-digest": "sha-256=1" },
    status: 206,
    repr: "sha-256",
    vary: VARY_DIGEST,
  },
  {
    name: "compressed while sent: bytes not known before, no digest",
    path: "/disk.js",
    headers: { "accept-encoding": "gzip", "want-content-digest": "sha-256=1" },
    status: 200,
    encoding: "gzip",
    repr: undefined,
    vary: "accept-encoding",
  },
  { name: "that file's identity is known", path: "/disk.js", status: 200, repr: "sha-256", vary: VARY_ALL },
  ...CODED,
  ...SIDECARS,
];

/** The whole representation `row` selects: a GET with its headers but no Range. */
async function representation(row: Row): Promise<Buffer> {
  const { range: _, ...headers } = row.headers ?? {};
  const whole = await get(portOn, "GET", row.path, headers);
  assert.equal(whole.status, 200);
  return whole.body;
}

describe("digest on", () => {
  for (const row of ROWS) {
    for (const method of ["GET", "HEAD"] as const) {
      test(`${method} ${row.name}`, async () => {
        const res = await get(portOn, method, row.path, row.headers);
        const what = `${method} ${row.path} ${JSON.stringify(row.headers ?? {})}`;
        assert.equal(res.status, row.status, `${what}: status`);
        assert.equal(res.headers["content-encoding"], row.encoding, `${what}: content-encoding`);
        assert.equal(res.headers["vary"], row.vary, `${what}: vary`);
        assert.equal(res.headers["content-type"]?.startsWith("multipart/byteranges;"), row.multipart === true, `${what}: multipart`);
        const whole = row.status === 200 && method === "GET" ? res.body : await representation(row);
        if (row.repr === undefined) assert.equal(res.headers["repr-digest"], undefined, `${what}: repr-digest`);
        else assertDigest(res.headers["repr-digest"], row.repr, whole, `${what}: repr-digest`);
        // HEAD has no content to digest.
        if (row.content === undefined || method === "HEAD")
          assert.equal(res.headers["content-digest"], undefined, `${what}: content-digest`);
        else assertDigest(res.headers["content-digest"], row.content, res.body, `${what}: content-digest`);
      });
    }
  }

  test("exact headers of a 200 and of its 304", async () => {
    const ok = await get(portOn, "GET", "/nums.txt");
    const { date: _d, ...headers } = ok.headers;
    const etag = headers["etag"] as string;
    assert.deepEqual(headers, {
      etag,
      "cache-control": "no-cache",
      vary: VARY_DIGEST,
      "last-modified": headers["last-modified"],
      "accept-ranges": "bytes",
      "x-content-type-options": "nosniff",
      "content-type": "text/plain; charset=utf-8",
      "content-length": "9",
      "repr-digest": `sha-256=:${hashOf("sha-256", Buffer.from(NUMS))}:`,
      connection: "close",
    });
    // RFC 9110 §15.4.5: the 304 keeps Vary; RFC 9530 gives it no digest.
    const notModified = await get(portOn, "GET", "/nums.txt", {
      "if-none-match": etag,
      "want-repr-digest": "sha-256=1",
      "want-content-digest": "sha-256=1",
    });
    const { date: _d2, ...headers304 } = notModified.headers;
    assert.equal(notModified.status, 304);
    assert.deepEqual(headers304, { etag, "cache-control": "no-cache", vary: VARY_DIGEST, connection: "close" });
  });

  test("listings and error pages carry no digest", async () => {
    for (const path of ["/", "/missing.txt"]) {
      const res = await get(portOn, "GET", path, { "want-repr-digest": "sha-256=1", "want-content-digest": "sha-256=1" });
      assert.equal(res.status, path === "/" ? 200 : 404, path);
      assert.equal(res.headers["repr-digest"], undefined, path);
      assert.equal(res.headers["content-digest"], undefined, path);
      assert.doesNotMatch(res.headers["vary"] ?? "", /want-/, path);
    }
  });

  test("412 and 416 carry no digest", async () => {
    const failed = await get(portOn, "GET", "/nums.txt", { "if-match": '"nope"', "want-repr-digest": "sha-256=1" });
    assert.equal(failed.status, 412);
    assert.equal(failed.headers["repr-digest"], undefined);
    const unsatisfiable = await get(portOn, "GET", "/nums.txt", { range: "bytes=100-", "want-content-digest": "sha-256=1" });
    assert.equal(unsatisfiable.status, 416);
    assert.equal(unsatisfiable.headers["repr-digest"], undefined);
    assert.equal(unsatisfiable.headers["content-digest"], undefined);
  });
});

describe("digest off (the default)", () => {
  test("exact headers of a 200, as before the option existed", async () => {
    const ok = await get(portOff, "GET", "/nums.txt", { "want-repr-digest": "sha-512=1" });
    const { date: _d, ...headers } = ok.headers;
    assert.deepEqual(Object.keys(headers), [
      "etag",
      "cache-control",
      "last-modified",
      "accept-ranges",
      "x-content-type-options",
      "content-type",
      "content-length",
      "connection",
    ]);
  });

  for (const path of ["/nums.txt", "/small.js", "/pre.css", "/disk.bin"]) {
    test(`${path}: no digest fields, Vary as before`, async () => {
      const res = await get(portOff, "GET", path, {
        "accept-encoding": "br",
        "want-repr-digest": "sha-256=1",
        "want-content-digest": "sha-256=1",
        range: "bytes=0-3",
      });
      assert.equal(res.status, 206);
      assert.equal(res.headers["repr-digest"], undefined);
      assert.equal(res.headers["content-digest"], undefined);
      assert.equal(res.headers["vary"], path === "/nums.txt" || path === "/disk.bin" ? undefined : "accept-encoding");
    });
  }
});
