/**
 * Uploads attacked through what else wharf does: files it serves in place of
 * others (precompressed and digest sidecars), files it reads when it starts
 * (serve.json, wharf.json), and DNS rebinding against writes that need no
 * credentials. Each test failed before its fix (docs/security.md, "Uploads").
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { constants as h2, connect as http2Connect } from "node:http2";
import { connect } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import * as zlib from "node:zlib";
import { gzipSync } from "node:zlib";

/**
 * A response's body as text, decoded whatever its coding: fetch decodes gzip
 * and br, and zstd in Node 24's undici but not in Node 22's, while both Nodes
 * serve zstd. So a body still in a zstd frame (its magic number) is decoded here.
 */
async function bodyText(res: Response): Promise<string> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const zstd = (zlib as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
  const framed = bytes.length >= 4 && bytes.readUInt32LE(0) === 0xfd2fb528;
  return framed && zstd !== undefined ? zstd(bytes).toString() : bytes.toString();
}

import { publish, WriteError, writeTemp } from "../../src/features/upload/store.js";
import { nodeFileSystem } from "../../src/fs/node.js";
import { canonicalRules } from "../../src/responders/hidden-files.js";
import type { ServeOptions } from "../../src/server/serve.js";
import { parseResponses, rawExchange } from "../helpers/raw.js";
import { startServer, withServer } from "../helpers/server.js";
import { opensslCertificate } from "../helpers/tls.js";
import { waitFor } from "../helpers/wait.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PAGE = "<p>the real page</p>\n".repeat(100);

/** A fresh root holding `index.html` (PAGE) and `sub/`. */
function root(): string {
  const base = mkdtempSync(join(tmpdir(), "wharf-upload-attack-"));
  dirs.push(base);
  mkdirSync(join(base, "sub"));
  writeFileSync(join(base, "index.html"), PAGE);
  return base;
}

async function serving(options: ServeOptions, fn: (base: string, port: number) => Promise<void>): Promise<void> {
  await withServer(options, (server) => fn(server.urls[0]!.replace(/\/$/, ""), server.port));
}

const put = (url: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: "PUT", body, headers });

const listed = (dir: string): string[] => readdirSync(dir).sort();

describe("sidecars: an upload never stands in for an existing file", () => {
  // Each of these would be served for /index.html (to a client that accepts the
  // coding), or give a large file its ETag and Repr-Digest, because an upload is
  // never older than the file it sits beside.
  const ROWS: [string, Uint8Array<ArrayBuffer>][] = [
    ["index.html.gz", new Uint8Array(gzipSync("<p>planted</p>"))],
    ["index.html.br", new Uint8Array(Buffer.from("planted"))],
    ["index.html.zst", new Uint8Array(Buffer.from("planted"))],
    ["index.html.sha256", new Uint8Array(Buffer.from(`${"0".repeat(64)}  index.html\n`))],
    ["index.html.GZ", new Uint8Array(gzipSync("<p>planted</p>"))],
  ];
  for (const [name, body] of ROWS) {
    test(`PUT ${name} beside index.html with on-conflict error: 409 naming index.html; GET /index.html is the real page`, async () => {
      const r = root();
      await serving({ root: r, upload: true }, async (base) => {
        const res = await put(`${base}/${name}`, body);
        assert.equal(res.status, 409, `PUT ${name}: got ${res.status}, want 409`);
        const p = (await res.json()) as Record<string, unknown>;
        assert.equal(p["existing"], "/index.html");
        assert.equal(p["detail"], `/${name} would be served in place of /index.html, which exists`);
        for (const coding of ["gzip", "br", "zstd"]) {
          const get = await fetch(`${base}/index.html`, { headers: { "accept-encoding": coding } });
          assert.equal(await bodyText(get), PAGE, `GET with Accept-Encoding: ${coding}`);
        }
      });
      assert.deepEqual(listed(r), ["index.html", "sub"]);
    });
  }

  test("a form post of index.html.gz: 409, nothing published", async () => {
    const r = root();
    await serving({ root: r, upload: true }, async (base) => {
      const form = new FormData();
      form.append("file", new Blob([gzipSync("<p>planted</p>")]), "index.html.gz");
      const res = await fetch(`${base}/`, { method: "POST", body: form });
      assert.equal(res.status, 409);
      const get = await fetch(`${base}/`, { headers: { "accept-encoding": "gzip" } });
      assert.equal(await get.text(), PAGE);
    });
    assert.deepEqual(listed(r), ["index.html", "sub"]);
  });

  test("on-conflict rename keeps both: index.html.gz becomes index.html (1).gz, which stands in for nothing", async () => {
    const r = root();
    await serving({ root: r, upload: true, onConflict: "rename" }, async (base) => {
      const res = await put(`${base}/index.html.gz`, new Uint8Array(gzipSync("x")));
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("location"), "/index.html%20(1).gz");
      assert.equal(await (await fetch(`${base}/index.html`, { headers: { "accept-encoding": "gzip" } })).text(), PAGE);
    });
    assert.deepEqual(listed(r), ["index.html", "index.html (1).gz", "sub"]);
  });

  test("a sidecar name with nothing beside it, and archive.tar.gz beside nothing, upload as usual", async () => {
    const r = root();
    await serving({ root: r, upload: true }, async (base) => {
      assert.equal((await put(`${base}/archive.tar.gz`, new Uint8Array(gzipSync("t")))).status, 201);
      assert.equal((await put(`${base}/sub/page.html.br`, "b")).status, 201);
    });
    assert.deepEqual(listed(r), ["archive.tar.gz", "index.html", "sub"]);
  });

  test("with overwrite, which may replace index.html itself, a sidecar is accepted", async () => {
    const r = root();
    await serving({ root: r, upload: true, onConflict: "overwrite" }, async (base) => {
      assert.equal((await put(`${base}/index.html.gz`, new Uint8Array(gzipSync("new")))).status, 201);
    });
    assert.ok(existsSync(join(r, "index.html.gz")));
  });

  test("publishing: the file appears while its sidecar is being linked; the sidecar is taken back (409)", async () => {
    // The race the early check cannot close: `x` published after `x.gz` was checked.
    // publish() checks again after its link.
    const r = root();
    const rules = await canonicalRules({ root: r, fs: nodeFileSystem, dotfiles: "ignore", symlinks: "inside-root", hiddenFiles: [] });
    const single = async function* (text: string) {
      yield new TextEncoder().encode(text);
    };
    const sidecar = await writeTemp(join(r, "sub"), single("planted"), { maxSize: 100 });
    const file = await writeTemp(join(r, "sub"), single("real"), { maxSize: 100 });
    // Both uploads passed their early checks; the file is published first, then the sidecar.
    await publish(rules, file, "x", "error");
    await assert.rejects(
      publish(rules, sidecar, "x.gz", "error"),
      (e: unknown) => e instanceof WriteError && (e.failure.kind as string) === "stands-in",
    );
    assert.deepEqual(listed(join(r, "sub")), ["x"]);
  });
});

describe("configuration files: an upload never configures the next start", () => {
  // serve.json in the served directory (and wharf.json in the working directory)
  // is read when wharf starts: had one been uploaded where none was, the next
  // `wharf` (or `wharf share`) there would take its rewrites, headers, listing...
  for (const name of ["serve.json", "wharf.json", "Serve.JSON"]) {
    test(`PUT /${name} and /sub/${name}: 403; a form post of it: 403; DELETE of one: 403`, async () => {
      const r = root();
      writeFileSync(join(r, "sub", "serve.json"), "{}");
      await serving({ root: r, upload: true, delete: true }, async (base) => {
        const config = JSON.stringify({ rewrites: [{ source: "**", destination: "/evil.html" }] });
        for (const path of [`/${name}`, `/sub/${name}`]) {
          const res = await put(`${base}${path}`, config);
          assert.equal(res.status, 403, `PUT ${path}: got ${res.status}`);
          assert.match(((await res.json()) as { detail: string }).detail, /a name wharf reads its configuration from/);
        }
        const form = new FormData();
        form.append("file", new Blob([config]), name);
        assert.equal((await fetch(`${base}/`, { method: "POST", body: form })).status, 403);
        assert.equal((await fetch(`${base}/sub/serve.json`, { method: "DELETE" })).status, 403);
      });
      assert.deepEqual(listed(r), ["index.html", "sub"]);
      assert.deepEqual(listed(join(r, "sub")), ["serve.json"]);
    });
  }
});

describe("DNS rebinding: writes without credentials go only to the names this server answers to", () => {
  /** A PUT sent raw with `host` as its Host and the headers a rebound page's fetch carries. */
  const rebound = async (port: number, host: string, name: string): Promise<number> => {
    const body = "planted";
    const head =
      `PUT /${name} HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nSec-Fetch-Site: same-origin\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const [res] = parseResponses(await rawExchange(port, head + body));
    return res!.status;
  };

  test("loopback without accounts: a page on evil.example re-pointed at 127.0.0.1 gets 403, nothing written", async () => {
    const r = root();
    await serving({ root: r, upload: true }, async (_base, port) => {
      assert.equal(await rebound(port, `evil.example:${port}`, "a.txt"), 403);
      assert.equal(await rebound(port, `EVIL.example.:${port}`, "b.txt"), 403);
      // The names it answers to: an address, localhost, this machine's name.
      assert.equal(await rebound(port, `127.0.0.1:${port}`, "ip.txt"), 201);
      assert.equal(await rebound(port, `localhost:${port}`, "localhost.txt"), 201);
      assert.equal(await rebound(port, `${hostname().toLowerCase()}:${port}`, "host.txt"), 201);
    });
    assert.deepEqual(listed(r), ["host.txt", "index.html", "ip.txt", "localhost.txt", "sub"]);
  });

  test("--upload-anonymous: the same; --allowed-hosts lets a name in", async () => {
    const r = root();
    await serving({ root: r, upload: true, uploadAnonymous: true, allowedHosts: ["files.example"] }, async (_base, port) => {
      assert.equal(await rebound(port, `evil.example:${port}`, "a.txt"), 403);
      assert.equal(await rebound(port, `files.example:${port}`, "allowed.txt"), 201);
    });
    await serving({ root: r, upload: true, uploadAnonymous: true }, async (_base, port) => {
      assert.equal(await rebound(port, `evil.example:${port}`, "a.txt"), 403);
    });
    assert.deepEqual(listed(r), ["allowed.txt", "index.html", "sub"]);
  });

  test("with --upload-auth, credentials are the guard: a known name is not needed", async () => {
    const r = root();
    await serving({ root: r, upload: true, uploadAuth: "u:p" }, async (_base, port) => {
      const body = "x";
      const head =
        `PUT /named.txt HTTP/1.1\r\nHost: files.example:${port}\r\nAuthorization: Basic ${Buffer.from("u:p").toString("base64")}\r\n` +
        `Content-Length: 1\r\nConnection: close\r\n\r\n`;
      const [res] = parseResponses(await rawExchange(port, head + body));
      assert.equal(res!.status, 201);
    });
    assert.equal(readFileSync(join(r, "named.txt"), "utf8"), "x");
  });
});

describe("a form is all or nothing, conflicts included", () => {
  const formOf = (...files: [string, string][]): FormData => {
    const form = new FormData();
    for (const [name, text] of files) form.append("file", new Blob([text]), name);
    return form;
  };

  test("on-conflict error: a new file then one that exists: 409 naming it, the new file not published", async () => {
    const r = root();
    await serving({ root: r, upload: true }, async (base) => {
      const res = await fetch(`${base}/`, { method: "POST", body: formOf(["new.txt", "n"], ["index.html", "x"]) });
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as Record<string, unknown>)["existing"], "/index.html");
      assert.equal((await fetch(`${base}/new.txt`)).status, 404);
    });
    assert.deepEqual(listed(r), ["index.html", "sub"]);
    assert.equal(readFileSync(join(r, "index.html"), "utf8"), PAGE);
  });

  test("on-conflict error: two files of one name in one form: 409, neither published", async () => {
    const r = root();
    await serving({ root: r, upload: true }, async (base) => {
      const res = await fetch(`${base}/sub/`, { method: "POST", body: formOf(["a.txt", "first"], ["a.txt", "second"]) });
      assert.equal(res.status, 409);
    });
    assert.deepEqual(listed(join(r, "sub")), []);
  });

  test("on-conflict overwrite: a file then a configuration name: 403, the first file not replaced", async () => {
    const r = root();
    await serving({ root: r, upload: true, onConflict: "overwrite" }, async (base) => {
      const res = await fetch(`${base}/`, { method: "POST", body: formOf(["index.html", "replaced"], ["serve.json", "{}"]) });
      assert.equal(res.status, 403);
    });
    assert.equal(readFileSync(join(r, "index.html"), "utf8"), PAGE);
    assert.deepEqual(listed(r), ["index.html", "sub"]);
  });

  test("on-conflict rename: two files of one name are both kept", async () => {
    const r = root();
    await serving({ root: r, upload: true, onConflict: "rename" }, async (base) => {
      const res = await fetch(`${base}/sub/`, { method: "POST", body: formOf(["a.txt", "first"], ["a.txt", "second"]) });
      assert.equal(res.status, 201);
    });
    assert.deepEqual(listed(join(r, "sub")), ["a (1).txt", "a.txt"]);
    assert.equal(readFileSync(join(r, "sub", "a.txt"), "utf8"), "first");
  });
});

test("over HTTP/2, an upload that stops sending is reset (CANCEL) after requestTimeout and its temporary file removed", async () => {
  // HTTP/1.1 answers 408; HTTP/2 streams had no deadline at all: a stream that
  // sent a byte and stopped held itself and its open temporary file. (One that
  // keeps sending is never cut: test/features/upload-timeout.test.ts.)
  const r = root();
  const cert = opensslCertificate(r, "trickle");
  const options = { root: r, upload: true, tls: { cert: cert.cert, key: cert.key }, requestTimeout: 1000, headersTimeout: 500 };
  await withServer(options, async (server) => {
    const session = http2Connect(`https://localhost:${server.port}`, { ca: cert.cert });
    session.on("error", () => undefined);
    const codes: number[] = [];
    for (const i of [0, 1, 2]) {
      const stream = session.request({ ":method": "PUT", ":path": `/sub/slow${i}.bin` });
      stream.on("error", () => undefined);
      stream.once("close", () => codes.push(stream.rstCode ?? -1));
      stream.write("x");
    }
    try {
      assert.ok(await waitFor(() => codes.length === 3, { deadline: 20_000 }), `streams still open: ${3 - codes.length}`);
      assert.deepEqual(codes, [h2.NGHTTP2_CANCEL, h2.NGHTTP2_CANCEL, h2.NGHTTP2_CANCEL]);
      const temps = (): string[] => readdirSync(join(r, "sub")).filter((n) => n.startsWith(".wharf-upload-"));
      assert.ok(await waitFor(() => temps().length === 0), `left behind: ${temps()}`);
    } finally {
      session.destroy();
    }
  });
  assert.deepEqual(listed(join(r, "sub")), []);
});

test("a hidden file's name answers a PUT the same whether it exists or not (403), in every conflict mode", async () => {
  // GET answers 404 for both; the early 409 ("already exists") told an uploader
  // which hidden names were there.
  for (const onConflict of ["error", "rename", "overwrite"] as const) {
    const r = root();
    writeFileSync(join(r, "secret.txt"), "s");
    const hiddenFiles = [join(r, "secret.txt"), join(r, "absent.txt")];
    await serving({ root: r, upload: true, onConflict, hiddenFiles }, async (base) => {
      const there = await put(`${base}/secret.txt`, "x");
      const absent = await put(`${base}/absent.txt`, "x");
      assert.equal(there.status, 403, `${onConflict}: existing hidden file: got ${there.status}`);
      assert.equal(absent.status, 403, `${onConflict}: absent hidden file: got ${absent.status}`);
      const detail = (p: Response): Promise<unknown> => p.json().then((j) => (j as { detail: unknown }).detail);
      assert.equal(await detail(there), await detail(absent));
    });
    assert.deepEqual(listed(r), ["index.html", "secret.txt", "sub"]);
    assert.equal(readFileSync(join(r, "secret.txt"), "utf8"), "s");
  }
});

test("a path the file system cannot store (over PATH_MAX with the temporary name): 400 for PUT and a form post, never a 500", async () => {
  // Each name is within 255 bytes; the whole path is what the kernel refuses (ENAMETOOLONG).
  const r = root();
  const segments: string[] = [];
  let length = r.length;
  while (length < 4070) {
    const l = Math.min(250, 4070 - length);
    segments.push(String.fromCharCode(97 + (segments.length % 26)).repeat(l));
    length += l + 1;
  }
  mkdirSync(join(r, ...segments), { recursive: true });
  await serving({ root: r, upload: true }, async (base) => {
    const dir = `${base}/${segments.join("/")}/`;
    const res = await put(`${dir}f.txt`, "x");
    assert.equal(res.status, 400, `PUT: got ${res.status}`);
    assert.match(((await res.json()) as { detail: string }).detail, /cannot store this name or path/);
    const form = new FormData();
    form.append("file", new Blob(["x"]), "g.txt");
    const post = await fetch(dir, { method: "POST", body: form });
    assert.equal(post.status, 400, `POST: got ${post.status}`);
  });
  assert.deepEqual(readdirSync(join(r, ...segments)), []);
});

test("a server stopping (--expire, Ctrl+C) cuts an upload in progress, and close() settles only once its temporary file is gone", async () => {
  // The CLI exits as soon as close() settles: a temporary file still being
  // removed then stayed on disk for good (hidden, up to the size limit each).
  const r = root();
  const server = await startServer({ root: r, upload: true, shutdownTimeout: 200 });
  const socket = connect({ port: server.port, host: "127.0.0.1" });
  socket.on("error", () => undefined);
  try {
    socket.write("PUT /sub/half.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n");
    socket.write(Buffer.alloc(1000, 1));
    const temps = (): string[] => readdirSync(join(r, "sub")).filter((n) => n.startsWith(".wharf-upload-"));
    assert.ok(await waitFor(() => temps().length === 1), "a temporary file while the body comes");
    await server.close();
    assert.deepEqual(temps(), [], "left behind once close() settled");
  } finally {
    socket.destroy();
    await server.close();
  }
  assert.deepEqual(listed(join(r, "sub")), []);
});

describe("links inside an upload area", () => {
  test("--upload /inbox: a link inbox/site -> ../site does not let a write out of /inbox (403); /inbox itself still takes it", async () => {
    const r = root();
    mkdirSync(join(r, "inbox"));
    mkdirSync(join(r, "site"));
    symlinkSync("../site", join(r, "inbox", "site"));
    await serving({ root: r, upload: ["/inbox"], mkdir: true }, async (base) => {
      assert.equal((await put(`${base}/site/x.html`, "direct")).status, 403);
      const via = await put(`${base}/inbox/site/x.html`, "through the link");
      assert.equal(via.status, 403, `PUT through the link: got ${via.status}`);
      assert.match(((await via.json()) as { detail: string }).detail, /a link out of the upload directory/);
      const deeper = await put(`${base}/inbox/site/new/x.html`, "and make a directory there");
      assert.equal(deeper.status, 403);
      const form = new FormData();
      form.append("file", new Blob(["x"]), "y.html");
      assert.equal((await fetch(`${base}/inbox/site/`, { method: "POST", body: form })).status, 403);
      assert.equal((await put(`${base}/inbox/ok.txt`, "ok")).status, 201);
      // A read follows the link as before.
      assert.equal((await fetch(`${base}/inbox/site/`)).status, 200);
    });
    assert.deepEqual(listed(join(r, "site")), []);
    assert.deepEqual(listed(join(r, "inbox")), ["ok.txt", "site"]);
  });

  test("--mkdir through a dangling link: 404, never a 500", async () => {
    const r = root();
    symlinkSync(join(r, "nowhere"), join(r, "dangling"));
    await serving({ root: r, upload: true, mkdir: true }, async (base) => {
      const res = await put(`${base}/dangling/x.txt`, "x");
      assert.equal(res.status, 404, `got ${res.status}`);
    });
    assert.equal(existsSync(join(r, "nowhere")), false);
  });
});
