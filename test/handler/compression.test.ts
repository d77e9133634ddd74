/**
 * Compression end to end (issue 4): negotiation, Vary and ETags per coding, 304s
 * that never cross codings, ranges on the variant sent, sidecars and their
 * staleness, streams for large files, and no stale compressed bytes after an edit.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import zlib from "node:zlib";
import { createHandler } from "../../src/handler/create.js";
import type { StaticOptions } from "../../src/handler/options.js";
import { HAS_ZSTD } from "../../src/responders/encoders.js";

const APP = Array.from({ length: 800 }, (_, i) => `export const value${i} = ${i};\n`).join("");
const PRE = "const pre = 'original';\n".repeat(100);
const SIDECAR_TEXT = "const pre = 'from the sidecar';\n".repeat(100);
const BIG = "body { color: rebeccapurple; }\n".repeat(70_000); // ~2.1 MiB: above the 1 MiB memory limit
const tagOf = (b: Buffer | string): string => `"${createHash("sha256").update(b).digest().subarray(0, 16).toString("base64url")}"`;

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let dir: string;
const servers: Server[] = [];

async function start(options: StaticOptions = {}): Promise<number> {
  const server = createServer(createHandler({ root: dir, ...options }, () => {}));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A request with Node's client, which (unlike fetch) never decompresses. */
function get(port: number, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function decode(encoding: string | undefined, body: Buffer): string {
  switch (encoding) {
    case "br":
      return zlib.brotliDecompressSync(body).toString();
    case "gzip":
      return zlib.gunzipSync(body).toString();
    case "zstd":
      return (zlib as unknown as { zstdDecompressSync(b: Buffer): Buffer }).zstdDecompressSync(body).toString();
    case undefined:
      return body.toString();
    default:
      throw new Error(`unexpected coding ${encoding}`);
  }
}

let port: number;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wharf-compress-"));
  writeFileSync(join(dir, "app.js"), APP);
  writeFileSync(join(dir, "small.txt"), "tiny");
  writeFileSync(join(dir, "big.css"), BIG);
  writeFileSync(join(dir, "pre.js"), PRE);
  writeFileSync(join(dir, "pre.js.br"), zlib.brotliCompressSync(SIDECAR_TEXT));
  writeFileSync(join(dir, "pre.js.gz"), zlib.gzipSync(SIDECAR_TEXT));
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(join(dir, "pre.js.gz"), past, past); // older than pre.js: stale
  writeFileSync(join(dir, "data.tar.gz"), zlib.gzipSync("x".repeat(5000)));
  writeFileSync(join(dir, "image.png"), Buffer.alloc(5000, 7));
  port = await start();
});
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("negotiation on a compressible file", () => {
  const rows: { header: string | undefined; want: string | undefined }[] = [
    { header: undefined, want: undefined },
    { header: "gzip, deflate, br, zstd", want: "br" },
    { header: "gzip", want: "gzip" },
    { header: "br;q=0.1, gzip;q=0.9", want: "gzip" },
    { header: "identity", want: undefined },
    { header: "deflate", want: undefined },
    { header: "*", want: "br" },
    { header: "zstd", want: HAS_ZSTD ? "zstd" : undefined },
  ];
  for (const row of rows) {
    test(`Accept-Encoding: ${row.header ?? "(none)"}`, async () => {
      const headers = row.header === undefined ? {} : { "accept-encoding": row.header };
      const res = await get(port, "/app.js", headers);
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], row.want, `content-encoding for ${row.header}`);
      assert.equal(res.headers["vary"], "accept-encoding");
      assert.equal(res.headers["content-length"], String(res.body.length), "exact Content-Length");
      assert.equal(decode(row.want, res.body), APP);
      assert.equal(res.headers["etag"], tagOf(res.body), "the ETag is the hash of the bytes sent");
      const head = await get(port, "/app.js", headers, "HEAD");
      assert.deepEqual({ ...head.headers, date: "" }, { ...res.headers, date: "" }, "HEAD carries GET's headers");
      assert.equal(head.body.length, 0);
    });
  }
});

describe("HTTP around the variants", () => {
  test("each coding has its own ETag, and a 304 for one never validates another", async () => {
    const br = await get(port, "/app.js", { "accept-encoding": "br" });
    const gzip = await get(port, "/app.js", { "accept-encoding": "gzip" });
    const identity = await get(port, "/app.js");
    assert.equal(new Set([br.headers.etag, gzip.headers.etag, identity.headers.etag]).size, 3);
    const same = await get(port, "/app.js", { "accept-encoding": "br", "if-none-match": String(br.headers.etag) });
    assert.equal(same.status, 304);
    assert.equal(same.headers["vary"], "accept-encoding", "Vary on a 304");
    assert.equal(same.headers["etag"], br.headers.etag);
    const other = await get(port, "/app.js", { "accept-encoding": "gzip", "if-none-match": String(br.headers.etag) });
    assert.equal(other.status, 200);
    assert.equal(other.headers["content-encoding"], "gzip");
    const plain = await get(port, "/app.js", { "if-none-match": String(identity.headers.etag) });
    assert.equal(plain.status, 304);
    assert.equal(plain.headers["vary"], "accept-encoding", "Vary on an identity 304");
  });
  test("a Range applies to the compressed bytes sent", async () => {
    const full = await get(port, "/app.js", { "accept-encoding": "br" });
    const part = await get(port, "/app.js", { "accept-encoding": "br", range: "bytes=0-9" });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-encoding"], "br");
    assert.equal(part.headers["content-range"], `bytes 0-9/${full.body.length}`);
    assert.deepEqual(part.body, full.body.subarray(0, 10));
  });
  test("small files are not compressed and do not vary", async () => {
    const res = await get(port, "/small.txt", { "accept-encoding": "br" });
    assert.equal(res.headers["content-encoding"], undefined);
    assert.equal(res.headers["vary"], undefined);
  });
  for (const path of ["/data.tar.gz", "/image.png"]) {
    test(`${path} is sent as it is`, async () => {
      const res = await get(port, path, { "accept-encoding": "gzip, br" });
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.headers["vary"], undefined);
    });
  }
});

describe("listings", () => {
  test("a listing is compressed once and answered from memory after", async () => {
    const plain = await get(port, "/");
    for (let i = 0; i < 2; i++) {
      const res = await get(port, "/", { "accept-encoding": "br" });
      assert.equal(res.headers["content-encoding"], "br");
      assert.equal(res.headers["vary"], "accept, accept-encoding");
      assert.equal(decode("br", res.body), plain.body.toString());
      assert.equal(res.headers.etag, tagOf(res.body));
    }
  });
});

describe("large files are compressed while sent", () => {
  test("gzip stream with a weak ETag and no Content-Length", async () => {
    const res = await get(port, "/big.css", { "accept-encoding": "gzip" });
    assert.equal(res.headers["content-encoding"], "gzip");
    assert.equal(res.headers["content-length"], undefined);
    assert.equal(res.headers["accept-ranges"], undefined);
    assert.match(String(res.headers.etag), /^W\/".*-gzip"$/);
    assert.equal(decode("gzip", res.body), BIG);
  });
  test("a Range request gets the identity bytes", async () => {
    const res = await get(port, "/big.css", { "accept-encoding": "gzip", range: "bytes=0-3" });
    assert.equal(res.status, 206);
    assert.equal(res.headers["content-encoding"], undefined);
    assert.equal(res.body.toString(), BIG.slice(0, 4));
  });
  test("304 on the stream's weak ETag", async () => {
    const first = await get(port, "/big.css", { "accept-encoding": "br" });
    const again = await get(port, "/big.css", { "accept-encoding": "br", "if-none-match": String(first.headers.etag) });
    assert.equal(again.status, 304);
  });
});

describe("precompressed sidecars", () => {
  test("an up-to-date sidecar is sent as it is", async () => {
    const res = await get(port, "/pre.js", { "accept-encoding": "br" });
    assert.equal(res.headers["content-encoding"], "br");
    assert.equal(decode("br", res.body), SIDECAR_TEXT, "the sidecar's bytes");
  });
  test("a sidecar older than its file is ignored", async () => {
    const res = await get(port, "/pre.js", { "accept-encoding": "gzip" });
    assert.equal(res.headers["content-encoding"], "gzip");
    assert.equal(decode("gzip", res.body), PRE, "compressed from the file itself");
  });
  test("a sidecar requested by name is served as itself", async () => {
    const res = await get(port, "/pre.js.br", { "accept-encoding": "br" });
    assert.equal(res.headers["content-encoding"], undefined);
  });
});

describe("a changed file is never served from a stale compressed cache", () => {
  test("br and gzip follow an edit on the next request, each response self-consistent", async () => {
    const v1 = "let version = 1;\n".repeat(200);
    const v2 = "let version = 2;\n".repeat(200);
    writeFileSync(join(dir, "edit.js"), v1);
    for (const coding of ["br", "gzip"])
      assert.equal(decode(coding, (await get(port, "/edit.js", { "accept-encoding": coding })).body), v1);
    writeFileSync(join(dir, "edit.js"), v2);
    for (const coding of ["br", "gzip"]) {
      const res = await get(port, "/edit.js", { "accept-encoding": coding });
      assert.equal(decode(coding, res.body), v2, `${coding}: the old version after the edit`);
      assert.equal(res.headers.etag, tagOf(res.body));
    }
  });
});

describe("compression off", () => {
  test("no coding, no Vary", async () => {
    const off = await start({ compression: false, precompressed: false });
    const res = await get(off, "/app.js", { "accept-encoding": "br, gzip" });
    assert.equal(res.headers["content-encoding"], undefined);
    assert.equal(res.headers["vary"], undefined);
    assert.equal(res.body.toString(), APP);
  });
});
