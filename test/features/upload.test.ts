/**
 * Uploads over a real server (serve(), HTTP/1.1 on loopback): every status the
 * feature answers, with the exact headers and what is on disk afterwards. Raw
 * sockets where a client would tidy the request (`..`, a body never sent).
 * docs/security.md maps the advisories of other servers to the tests here.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import express5 from "express";
import type { WharfRequest } from "../../src/core/types.js";
import { publish, WriteError, writeTemp } from "../../src/features/upload/store.js";
import { nodeFileSystem } from "../../src/fs/node.js";
import { createHandler } from "../../src/handler/create.js";
import { canonicalRules } from "../../src/responders/hidden-files.js";
import type { ServeOptions } from "../../src/server/serve.js";
import { parseResponses, rawExchange } from "../helpers/raw.js";
import { withServer } from "../helpers/server.js";
import { opensslCertificate } from "../helpers/tls.js";
import { waitFor } from "../helpers/wait.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh root: `nums.txt` (123456789), `sub/`, and an outside directory a symlink `out` leads to. */
function root(): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), "wharf-upload-"));
  dirs.push(base);
  const r = join(base, "root");
  const outside = join(base, "outside");
  mkdirSync(join(r, "sub"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(r, "nums.txt"), "123456789");
  symlinkSync(outside, join(r, "out"));
  return { root: r, outside };
}

/** Every name below `dir`, recursively, sorted: what the disk holds. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

const temps = (dir: string): string[] => tree(dir).filter((n) => n.includes(".wharf-upload-"));

async function serving(options: ServeOptions, fn: (base: string, port: number) => Promise<void>): Promise<void> {
  await withServer(options, (server) => fn(server.urls[0]!.replace(/\/$/, ""), server.port));
}

const put = (url: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: "PUT", body, headers });

const problemOf = async (res: Response): Promise<Record<string, unknown>> => {
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  return (await res.json()) as Record<string, unknown>;
};

describe("uploads off (the default)", () => {
  test("PUT, POST and DELETE answer 405 with Allow, and nothing is written", async () => {
    const { root: r } = root();
    const before = tree(r);
    await serving({ root: r }, async (base) => {
      for (const method of ["PUT", "POST", "DELETE"]) {
        const res = await fetch(`${base}/new.txt`, { method, body: method === "DELETE" ? null : "x" });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "GET, HEAD, OPTIONS", method);
      }
      const listing = await (await fetch(`${base}/`)).text();
      assert.doesNotMatch(listing, /enctype="multipart\/form-data"/, "no upload form");
    });
    assert.deepEqual(tree(r), before);
  });
});

describe("PUT", () => {
  test("201 with Location and an ETag equal to the one a GET then gives", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      const res = await put(`${base}/sub/a%20b.txt`, "abcdef");
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("location"), "/sub/a%20b.txt");
      const etag = res.headers.get("etag");
      assert.match(etag ?? "", /^"[A-Za-z0-9_-]{22}"$/);
      assert.deepEqual(await res.json(), { name: "a b.txt", url: "/sub/a%20b.txt", size: 6 });
      const get = await fetch(`${base}/sub/a%20b.txt`);
      assert.equal(await get.text(), "abcdef");
      assert.equal(get.headers.get("etag"), etag);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
    });
    assert.equal(readFileSync(join(r, "sub", "a b.txt"), "utf8"), "abcdef");
    assert.deepEqual(temps(r), []);
  });

  test("on-conflict error (default): 409 naming the existing file by URL path; the file is unchanged", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      const res = await put(`${base}/nums.txt`, "other");
      assert.equal(res.status, 409);
      const p = await problemOf(res);
      assert.equal(p["detail"], "/nums.txt already exists");
      assert.equal(p["existing"], "/nums.txt");
    });
    assert.equal(readFileSync(join(r, "nums.txt"), "utf8"), "123456789");
    assert.deepEqual(temps(r), []);
  });

  test("on-conflict rename: name (1).ext, then (2)", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, onConflict: "rename" }, async (base) => {
      const first = await put(`${base}/nums.txt`, "one");
      assert.equal(first.status, 201);
      assert.equal(first.headers.get("location"), "/nums%20(1).txt");
      const second = await put(`${base}/nums.txt`, "two");
      assert.equal(second.headers.get("location"), "/nums%20(2).txt");
    });
    assert.equal(readFileSync(join(r, "nums.txt"), "utf8"), "123456789");
    assert.equal(readFileSync(join(r, "nums (1).txt"), "utf8"), "one");
    assert.equal(readFileSync(join(r, "nums (2).txt"), "utf8"), "two");
  });

  test("on-conflict overwrite: 200 and the new bytes; a directory is never replaced", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, onConflict: "overwrite" }, async (base) => {
      const res = await put(`${base}/nums.txt`, "new");
      assert.equal(res.status, 200);
      assert.equal(await (await fetch(`${base}/nums.txt`)).text(), "new");
      assert.equal((await put(`${base}/sub`, "x")).status, 409);
    });
    assert.equal(readFileSync(join(r, "nums.txt"), "utf8"), "new");
    assert.ok(existsSync(join(r, "sub")));
  });

  test("--mkdir makes the directories named; without it 404", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      const res = await put(`${base}/a/b/c.txt`, "x");
      assert.equal(res.status, 404);
      assert.equal((await problemOf(res))["detail"], "Nothing to write into: no such directory.");
    });
    assert.equal(existsSync(join(r, "a")), false);
    await serving({ root: r, upload: true, mkdir: true }, async (base) => {
      assert.equal((await put(`${base}/a/b/c.txt`, "x")).status, 201);
    });
    assert.equal(readFileSync(join(r, "a", "b", "c.txt"), "utf8"), "x");
  });

  test("only under the --upload paths: elsewhere 403", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: ["/sub"] }, async (base) => {
      assert.equal((await put(`${base}/x.txt`, "x")).status, 403);
      assert.equal((await put(`${base}/sub/x.txt`, "x")).status, 201);
      const top = await (await fetch(`${base}/`)).text();
      const sub = await (await fetch(`${base}/sub/`)).text();
      assert.doesNotMatch(top, /enctype="multipart\/form-data"/);
      assert.match(sub, /enctype="multipart\/form-data"/);
    });
    assert.equal(existsSync(join(r, "x.txt")), false);
  });
});

describe("containment: the same rules as reads, after realpath", () => {
  test("a symlink out of the root (dufs's fix): 404 as for a read, nothing written outside", async () => {
    const { root: r, outside } = root();
    await serving({ root: r, upload: true, mkdir: true }, async (base) => {
      const res = await put(`${base}/out/evil.txt`, "x");
      // The answer a read gets, and the words a missing directory gets: a 403 would
      // tell an uploader that something hidden is there.
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { detail: string }).detail, "Nothing to write into: no such directory.");
      assert.equal((await fetch(`${base}/out/`)).status, 404);
      assert.equal((await put(`${base}/out/new/evil.txt`, "x")).status, 404);
      const form = new FormData();
      form.append("file", new Blob(["x"]), "y.txt");
      assert.equal((await fetch(`${base}/out/`, { method: "POST", body: form })).status, 404);
    });
    assert.deepEqual(readdirSync(outside), []);
  });

  test("a hidden directory that exists answers a write as one that does not (no mkdir)", async () => {
    const { root: r } = root();
    mkdirSync(join(r, ".git"));
    symlinkSync(join(r, ".git"), join(r, "git-link"));
    await serving({ root: r, upload: true }, async (base) => {
      const there = await put(`${base}/git-link/x.txt`, "x");
      const missing = await put(`${base}/no-such-dir/x.txt`, "x");
      assert.equal(there.status, 404);
      assert.equal(missing.status, 404);
      assert.equal(await there.text(), await missing.text());
      assert.equal((await fetch(`${base}/git-link/`)).status, 404);
    });
    assert.deepEqual(readdirSync(join(r, ".git")), []);
  });

  test("a link to a sibling named with the root's prefix (updog 73's character-prefix check): 404, as for a read", async () => {
    const { root: r } = root();
    const sibling = `${r}-old`;
    mkdirSync(sibling);
    symlinkSync(sibling, join(r, "old"));
    await serving({ root: r, upload: true }, async (base) => {
      assert.equal((await put(`${base}/old/x.txt`, "x")).status, 404);
      assert.equal((await fetch(`${base}/old/x.txt`)).status, 404);
    });
    assert.deepEqual(readdirSync(sibling), []);
  });

  test("traversal sent raw (miniserve 518): 400, nothing written", async () => {
    const { root: r, outside } = root();
    await serving({ root: r, upload: true, onConflict: "overwrite" }, async (_base, port) => {
      for (const path of ["/../outside/x", "/%2e%2e/outside/x", "/sub/..%2f..%2foutside%2fx", "/a%00b", "/..\\outside\\x"]) {
        const raw = await rawExchange(port, `PUT ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`);
        const [res] = parseResponses(raw);
        assert.ok(res !== undefined && (res.status === 400 || res.status === 403), `${path}: got ${res?.status}`);
      }
    });
    assert.deepEqual(readdirSync(outside), []);
  });

  test("dotfiles and dot-directories are refused unless --dotfiles allows them", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, mkdir: true }, async (base) => {
      assert.equal((await put(`${base}/.env`, "x")).status, 400);
      assert.equal((await put(`${base}/.git/config`, "x")).status, 403);
    });
    assert.equal(existsSync(join(r, ".env")), false);
    await serving({ root: r, upload: true, dotfiles: "allow" }, async (base) => {
      assert.equal((await put(`${base}/.env`, "x")).status, 201);
    });
    assert.equal(readFileSync(join(r, ".env"), "utf8"), "x");
  });

  test("wharf's own hidden files (config, password file) can never be overwritten, deleted or read", async () => {
    const { root: r } = root();
    writeFileSync(join(r, "wharf.json"), "{}");
    const options = { root: r, upload: true, delete: true, onConflict: "overwrite", hiddenFiles: ["wharf.json"] } as const;
    await serving({ ...options, uploadAuth: "me:pw" }, async (base) => {
      const auth = { authorization: `Basic ${Buffer.from("me:pw").toString("base64")}` };
      assert.equal((await put(`${base}/wharf.json`, "{evil}", auth)).status, 403);
      assert.equal((await fetch(`${base}/wharf.json`, { method: "DELETE", headers: auth })).status, 404);
    });
    assert.equal(readFileSync(join(r, "wharf.json"), "utf8"), "{}");
  });

  test("a name longer than 255 bytes: 400", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      assert.equal((await put(`${base}/${"x".repeat(256)}`, "x")).status, 400);
      assert.equal((await put(`${base}/${"x".repeat(255)}`, "x")).status, 201);
    });
  });
});

describe("temporary files", () => {
  test("hidden from GET, listings and archives, even with --dotfiles allow", async () => {
    const { root: r } = root();
    writeFileSync(join(r, ".wharf-upload-AAAAAAAAAAAAAAAA"), "partial");
    await serving({ root: r, dotfiles: "allow", archive: ["tar"] }, async (base) => {
      assert.equal((await fetch(`${base}/.wharf-upload-AAAAAAAAAAAAAAAA`)).status, 404);
      const names = (await (await fetch(`${base}/?format=json`)).json()) as { name: string }[];
      assert.ok(!names.some((e) => e.name.startsWith(".wharf-upload-")), JSON.stringify(names));
      const tar = Buffer.from(await (await fetch(`${base}/?download=tar`)).arrayBuffer());
      assert.equal(tar.includes(Buffer.from(".wharf-upload-")), false);
    });
  });

  test("an upload the client abandons halfway leaves nothing behind", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (_base, port) => {
      const socket = connect({ port, host: "127.0.0.1" });
      await new Promise((ok) => socket.once("connect", ok));
      socket.write("PUT /sub/half.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n");
      socket.write(Buffer.alloc(300_000, 1));
      // Wait until the temporary file exists (the server is writing), then hang up.
      assert.ok(await waitFor(() => temps(r).length === 1), "a temporary file while the body comes");
      socket.destroy();
      assert.ok(await waitFor(() => temps(r).length === 0), `left behind: ${temps(r)}`);
    });
    assert.equal(existsSync(join(r, "sub", "half.bin")), false);
  });
});

describe("limits and digests", () => {
  test("413 before the body is read when Content-Length is over the limit", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, uploadMaxSize: 100 }, async (_base, port) => {
      // The body is never sent: the answer must come from the head alone.
      const raw = await rawExchange(port, "PUT /big.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 101\r\n\r\n");
      const [res] = parseResponses(raw);
      assert.equal(res?.status, 413);
      assert.equal(res?.headers["connection"], "close");
      assert.equal(res?.headers["content-type"], "application/problem+json");
    });
    assert.equal(existsSync(join(r, "big.bin")), false);
  });

  test("Expect: 100-continue: a 413 or 409 comes instead of the 100, before any byte; an accepted upload gets its 100 first", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, uploadMaxSize: 100 }, async (_base, port) => {
      const head = (path: string, length: number): string =>
        `PUT ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;
      const big = (await rawExchange(port, head("/big.bin", 101))).toString("latin1");
      assert.match(big, /^HTTP\/1\.1 413 /, big.slice(0, 40));
      const taken = (await rawExchange(port, head("/nums.txt", 5))).toString("latin1");
      assert.match(taken, /^HTTP\/1\.1 409 /, taken.slice(0, 40));
      // Accepted: the 100 comes, then the body is sent, then the 201.
      const socket = connect({ port, host: "127.0.0.1" });
      let got = "";
      socket.on("data", (d: Buffer) => {
        got += d.toString("latin1");
      });
      socket.write(`${head("/ok.txt", 5).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")}`);
      assert.ok(await waitFor(() => got.includes("100 Continue")), `got ${JSON.stringify(got)}`);
      assert.doesNotMatch(got, /201/);
      socket.write("hello");
      assert.ok(await waitFor(() => /HTTP\/1\.1 201 /.test(got)), `got ${JSON.stringify(got)}`);
      socket.destroy();
    });
    assert.equal(readFileSync(join(r, "ok.txt"), "utf8"), "hello");
    assert.equal(existsSync(join(r, "big.bin")), false);
  });

  test("413 while streaming a body without Content-Length; nothing left behind", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, uploadMaxSize: 100 }, async (_base, port) => {
      const chunk = (s: string): string => `${s.length.toString(16)}\r\n${s}\r\n`;
      const raw = await rawExchange(
        port,
        `PUT /big.bin HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${chunk("x".repeat(60))}${chunk("y".repeat(60))}0\r\n\r\n`,
      );
      assert.equal(parseResponses(raw)[0]?.status, 413);
    });
    assert.equal(existsSync(join(r, "big.bin")), false);
    assert.deepEqual(temps(r), []);
  });

  test("exactly at the limit: 201", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, uploadMaxSize: 100 }, async (base) => {
      assert.equal((await put(`${base}/100.bin`, "x".repeat(100))).status, 201);
    });
  });

  test("Content-Digest and Repr-Digest checked while streaming: a match 201, a mismatch 400 problem+json and nothing written", async () => {
    const { root: r } = root();
    const b64 = (alg: string, s: string): string => createHash(alg).update(s).digest("base64");
    await serving({ root: r, upload: true }, async (base) => {
      assert.equal((await put(`${base}/ok256`, "123", { "content-digest": `sha-256=:${b64("sha256", "123")}:` })).status, 201);
      assert.equal((await put(`${base}/ok512`, "123", { "repr-digest": `sha-512=:${b64("sha512", "123")}:` })).status, 201);
      const bad = await put(`${base}/bad`, "123", { "content-digest": `sha-512=:${b64("sha512", "124")}:` });
      assert.equal(bad.status, 400);
      assert.deepEqual(await problemOf(bad), {
        type: "about:blank",
        status: 400,
        title: "Bad Request",
        detail: "The body does not match its sha-512 digest.",
        algorithm: "sha-512",
      });
      const malformed = await put(`${base}/bad`, "123", { "content-digest": "sha-256=nope" });
      assert.equal(malformed.status, 400);
      // A form post's digest covers the whole multipart body.
      const form = new FormData();
      form.append("file", new Blob(["abc"]), "f.txt");
      const req = new Request(`${base}/sub/`, { method: "POST", body: form });
      const bytes = Buffer.from(await req.arrayBuffer());
      const type = req.headers.get("content-type")!;
      const wrong = await fetch(`${base}/sub/`, {
        method: "POST",
        body: bytes,
        headers: { "content-type": type, "content-digest": `sha-256=:${createHash("sha256").update("x").digest("base64")}:` },
      });
      assert.equal(wrong.status, 400);
      assert.equal(existsSync(join(r, "sub", "f.txt")), false, "nothing of a form whose digest failed");
      const right = await fetch(`${base}/sub/`, {
        method: "POST",
        body: bytes,
        headers: { "content-type": type, "content-digest": `sha-256=:${createHash("sha256").update(bytes).digest("base64")}:` },
      });
      assert.equal(right.status, 201);
    });
    assert.equal(existsSync(join(r, "bad")), false);
    assert.deepEqual(temps(r), []);
  });
});

describe("POST multipart/form-data", () => {
  test("several files: 201 with each; a browser's form post gets 303 back to the listing", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      const form = new FormData();
      form.append("note", "ignored");
      form.append("file", new Blob(["one"]), "one.txt");
      form.append("file", new Blob(["two"]), "two words.txt");
      const res = await fetch(`${base}/sub/`, { method: "POST", body: form });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("location"), "/sub/one.txt");
      assert.deepEqual(await res.json(), {
        files: [
          { name: "one.txt", url: "/sub/one.txt", size: 3 },
          { name: "two words.txt", url: "/sub/two%20words.txt", size: 3 },
        ],
      });
      const html = new FormData();
      html.append("file", new Blob(["3"]), "three.txt");
      const nav = await fetch(`${base}/sub/`, { method: "POST", body: html, headers: { accept: "text/html" }, redirect: "manual" });
      assert.equal(nav.status, 303);
      assert.equal(nav.headers.get("location"), "./");
    });
    assert.deepEqual(tree(join(r, "sub")), ["one.txt", "three.txt", "two words.txt"]);
  });

  test("refused: a file name with a slash, a form with no file, not multipart; nothing written", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      const evil = new FormData();
      evil.append("file", new Blob(["x"]), "../../evil.txt");
      const res = await fetch(`${base}/sub/`, { method: "POST", body: evil });
      // undici strips nothing: the name arrives with its slashes.
      assert.equal(res.status, 400);
      const none = new FormData();
      none.append("a", "b");
      assert.equal((await fetch(`${base}/sub/`, { method: "POST", body: none })).status, 400);
      assert.equal((await fetch(`${base}/sub/`, { method: "POST", body: "x", headers: { "content-type": "text/plain" } })).status, 415);
    });
    assert.deepEqual(tree(join(r, "sub")), []);
  });
});

describe("the rest", () => {
  test("a form is all or nothing: a good file then a bad name leaves neither", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      const form = new FormData();
      form.append("file", new Blob(["good"]), "good.txt");
      form.append("file", new Blob(["bad"]), ".hidden");
      const res = await fetch(`${base}/sub/`, { method: "POST", body: form });
      assert.equal(res.status, 400);
      assert.equal((await problemOf(res))["detail"], "File name refused: a dotfile (--dotfiles allows them).");
    });
    assert.deepEqual(tree(join(r, "sub")), []);
  });

  test("Content-Encoding on an upload: 415, nothing written", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      assert.equal((await put(`${base}/x.gz`, "x", { "content-encoding": "gzip" })).status, 415);
    });
    assert.equal(existsSync(join(r, "x.gz")), false);
  });

  test("the page's check: POST ./?check is 204 and writes nothing; outside the upload paths 403", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: ["/sub"] }, async (base) => {
      assert.equal((await fetch(`${base}/sub/?check`, { method: "POST" })).status, 204);
      assert.equal((await fetch(`${base}/?check`, { method: "POST" })).status, 403);
    });
    assert.deepEqual(tree(join(r, "sub")), []);
  });

  test("uploads need the Node file system: a custom fs is refused at construction", () => {
    const { root: r } = root();
    const fs = { open: () => undefined } as unknown as NonNullable<Parameters<typeof createHandler>[0]>["fs"];
    assert.throws(() => createHandler({ root: r, upload: true, ...(fs === undefined ? {} : { fs }) }), /needs the Node file system/);
  });

  test("GET passes through unchanged; OPTIONS and a 405 list the writes in Allow, in upload directories only", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: ["/sub"], delete: true }, async (base) => {
      const get = await fetch(`${base}/nums.txt`);
      assert.equal(await get.text(), "123456789");
      assert.equal(get.headers.get("allow"), null);
      const options = await fetch(`${base}/sub/x.txt`, { method: "OPTIONS" });
      assert.equal(options.status, 204);
      assert.equal(options.headers.get("allow"), "GET, HEAD, OPTIONS, PUT, POST, DELETE");
      const patch = await fetch(`${base}/sub/x.txt`, { method: "PATCH", body: "x" });
      assert.equal(patch.status, 405);
      assert.equal(patch.headers.get("allow"), "GET, HEAD, OPTIONS, PUT, POST, DELETE");
      assert.equal((await fetch(`${base}/nums.txt`, { method: "OPTIONS" })).headers.get("allow"), "GET, HEAD, OPTIONS");
    });
  });
});

describe("DELETE", () => {
  test("with --delete: 204, then 404; a directory is never deleted; without it 405", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, delete: true }, async (base) => {
      assert.equal((await fetch(`${base}/nums.txt`, { method: "DELETE" })).status, 204);
      assert.equal((await fetch(`${base}/nums.txt`, { method: "DELETE" })).status, 404);
      assert.equal((await fetch(`${base}/sub`, { method: "DELETE" })).status, 403);
    });
    assert.equal(existsSync(join(r, "nums.txt")), false);
    assert.ok(existsSync(join(r, "sub")));
    writeFileSync(join(r, "nums.txt"), "123456789");
    await serving({ root: r, upload: true }, async (base) => {
      assert.equal((await fetch(`${base}/nums.txt`, { method: "DELETE" })).status, 405);
    });
    assert.ok(existsSync(join(r, "nums.txt")));
  });
});

describe("CSRF (simple-http-server PR 57): state-changing requests from another site get 403", () => {
  const ROWS: [string, Record<string, string>, number][] = [
    ["Origin of another site", { origin: "http://evil.example" }, 403],
    ["Origin null", { origin: "null" }, 403],
    ["Sec-Fetch-Site cross-site", { "sec-fetch-site": "cross-site" }, 403],
    ["Sec-Fetch-Site same-site", { "sec-fetch-site": "same-site" }, 403],
    ["Sec-Fetch-Site same-origin", { "sec-fetch-site": "same-origin" }, 201],
    ["no browser header (curl)", {}, 201],
  ];
  for (const [name, headers, want] of ROWS) {
    test(`${name}: ${want}`, async () => {
      const { root: r } = root();
      await serving({ root: r, upload: true, delete: true, cors: true }, async (base) => {
        const res = await put(`${base}/x.txt`, "x", headers);
        assert.equal(res.status, want);
        // Writes never get CORS headers, even with --cors on.
        assert.equal(res.headers.get("access-control-allow-origin"), null);
        if (want === 403) {
          assert.equal((await fetch(`${base}/nums.txt`, { method: "DELETE", headers })).status, 403);
          const form = new FormData();
          form.append("file", new Blob(["x"]), "f.txt");
          assert.equal((await fetch(`${base}/sub/`, { method: "POST", body: form, headers })).status, 403);
        }
      });
      assert.equal(existsSync(join(r, "x.txt")), want === 201);
      assert.ok(existsSync(join(r, "nums.txt")));
      assert.deepEqual(tree(join(r, "sub")), []);
    });
  }
  test("the Origin of this very server passes", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true }, async (base) => {
      assert.equal((await put(`${base}/x.txt`, "x", { origin: base })).status, 201);
    });
  });
});

describe("credentials (uploadserver 53)", () => {
  const basic = (pair: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(pair).toString("base64")}` });

  test("--upload-auth: reads stay public; writes 401 without, 201 with (a colon in the password works)", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, uploadAuth: "me:pa:ss:word" }, async (base) => {
      assert.equal((await fetch(`${base}/nums.txt`)).status, 200);
      const without = await put(`${base}/x.txt`, "x");
      assert.equal(without.status, 401);
      assert.equal(without.headers.get("www-authenticate"), 'Basic realm="wharf uploads", charset="UTF-8"');
      assert.equal((await put(`${base}/x.txt`, "x", basic("me:pa:ss:word"))).status, 201);
    });
  });

  test("an unknown user and a wrong password get the same answer, byte for byte", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, uploadAuth: "me:pw" }, async (base) => {
      const unknown = await put(`${base}/x.txt`, "x", basic("nobody:pw"));
      const wrong = await put(`${base}/x.txt`, "x", basic("me:nope"));
      const malformed = await put(`${base}/x.txt`, "x", { authorization: "Basic ::::" });
      assert.equal(unknown.status, 401);
      assert.equal(wrong.status, 401);
      assert.equal(malformed.status, 401);
      assert.equal(await unknown.text(), await wrong.text());
      assert.deepEqual(
        [...unknown.headers].filter(([k]) => k !== "date"),
        [...wrong.headers].filter(([k]) => k !== "date"),
      );
    });
    assert.equal(existsSync(join(r, "x.txt")), false);
  });

  test("--auth guards writes too", async () => {
    const { root: r } = root();
    await serving({ root: r, upload: true, auth: "me:pw" }, async (base) => {
      assert.equal((await put(`${base}/x.txt`, "x")).status, 401);
      assert.equal((await put(`${base}/x.txt`, "x", basic("me:pw"))).status, 201);
    });
  });

  /** A request from `remoteAddress`, as the handler sees one, with `body`. */
  const fromPeer = (remoteAddress: string, body: string, headers: Record<string, string> = {}): WharfRequest => ({
    method: "PUT",
    target: "/peer.txt",
    pathname: "/peer.txt",
    search: "",
    header: (name) => headers[name],
    remoteAddress,
    body: async function* () {
      yield Buffer.from(body);
    },
  });

  test("with no account, writes from another machine are refused unless --upload-anonymous", async () => {
    const { root: r } = root();
    const closed = createHandler({ root: r, upload: true });
    const refused = await closed.handle(fromPeer("192.168.1.20", "x"));
    assert.equal(refused.status, 403);
    assert.equal(existsSync(join(r, "peer.txt")), false);
    // A reverse proxy on this machine forwards for others: not a local user.
    assert.equal((await closed.handle(fromPeer("127.0.0.1", "x", { "x-forwarded-for": "203.0.113.9" }))).status, 403);
    assert.equal((await closed.handle(fromPeer("::1", "x", { forwarded: "for=203.0.113.9" }))).status, 403);
    assert.equal(existsSync(join(r, "peer.txt")), false);
    assert.equal((await closed.handle(fromPeer("127.0.0.1", "x"))).status, 201);
    rmSync(join(r, "peer.txt"));
    const open = createHandler({ root: r, upload: true, uploadAnonymous: true });
    assert.equal((await open.handle(fromPeer("192.168.1.20", "x"))).status, 201);
    const guarded = createHandler({ root: r, upload: true, uploadAuth: "me:pw", onConflict: "overwrite" });
    assert.equal((await guarded.handle(fromPeer("192.168.1.20", "y", basic("me:pw")))).status, 200);
    assert.equal(readFileSync(join(r, "peer.txt"), "utf8"), "y");
  });

  test("serve() refuses upload accounts over plain HTTP on a public address, as it does --auth", async () => {
    const { root: r } = root();
    await assert.rejects(
      withServer({ root: r, upload: true, uploadAuth: "me:pw", host: "0.0.0.0" }, async () => {}),
      /clear text/,
    );
  });
});

test("50 concurrent uploads of one name with on-conflict error: one 201, 49 409, and the file is one upload whole", async () => {
  const { root: r } = root();
  const bodies = Array.from({ length: 50 }, (_, i) => Buffer.alloc(256 * 1024, i));
  let statuses: number[] = [];
  await serving({ root: r, upload: true }, async (base) => {
    statuses = await Promise.all(
      bodies.map(async (b) => {
        const res = await fetch(`${base}/race.bin`, { method: "PUT", body: b });
        await res.arrayBuffer();
        return res.status;
      }),
    );
  });
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 409).length, 49, `statuses: ${statuses}`);
  const file = readFileSync(join(r, "race.bin"));
  assert.ok(
    bodies.some((b) => b.equals(file)),
    "the file is exactly one of the bodies",
  );
  assert.deepEqual(temps(r), []);
});

test("over HTTP/2 (with TLS): PUT 201 and a form post 201; a 409 over the same connection", async () => {
  const { root: r } = root();
  const cert = opensslCertificate(join(r, ".."), "upload");
  await withServer({ root: r, upload: true, tls: { cert: cert.cert, key: cert.key } }, async (server) => {
    const session = http2Connect(`https://localhost:${server.port}`, { ca: cert.cert });
    const send = (headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const stream = session.request(headers);
        let status = 0;
        let text = "";
        stream.on("response", (h) => {
          status = Number(h[":status"]);
        });
        stream.setEncoding("utf8");
        stream.on("data", (d: string) => {
          text += d;
        });
        stream.on("end", () => resolve({ status, text }));
        stream.on("error", reject);
        stream.end(body);
      });
    try {
      const put = await send({ ":method": "PUT", ":path": "/h2.bin" }, Buffer.alloc(200_000, 5));
      assert.equal(put.status, 201, put.text);
      const again = await send({ ":method": "PUT", ":path": "/h2.bin" }, Buffer.from("x"));
      assert.equal(again.status, 409);
      const form = new Request("http://x/", {
        method: "POST",
        body: (() => {
          const f = new FormData();
          f.append("file", new Blob(["over h2"]), "form.txt");
          return f;
        })(),
      });
      const bytes = Buffer.from(await form.arrayBuffer());
      const post = await send({ ":method": "POST", ":path": "/sub/", "content-type": form.headers.get("content-type")! }, bytes);
      assert.equal(post.status, 201, post.text);
    } finally {
      session.close();
    }
  });
  assert.deepEqual(readFileSync(join(r, "h2.bin")), Buffer.alloc(200_000, 5));
  assert.equal(readFileSync(join(r, "sub", "form.txt"), "utf8"), "over h2");
});

test("with --secret-path: a write without the secret is the plain 404 and writes nothing; with it, 201 and a Location under it", async () => {
  const { root: r } = root();
  const secret = "AAAAAAAAAAAAAAAAAAAAAA-upload";
  await serving({ root: r, upload: true, secretPath: secret }, async (base) => {
    const origin = new URL(base).origin;
    const outside = await put(`${origin}/x.txt`, "x");
    assert.equal(outside.status, 404);
    const form = new FormData();
    form.append("file", new Blob(["x"]), "y.txt");
    assert.equal((await fetch(`${origin}/`, { method: "POST", body: form })).status, 404);
    const inside = await put(`${origin}/${secret}/sub/x.txt`, "x");
    assert.equal(inside.status, 201);
    assert.equal(inside.headers.get("location"), `/${secret}/sub/x.txt`);
    const listing = await (await fetch(`${origin}/${secret}/sub/`)).text();
    assert.match(listing, /enctype="multipart\/form-data"/);
  });
  assert.equal(existsSync(join(r, "x.txt")), false);
  assert.equal(existsSync(join(r, "y.txt")), false);
  assert.equal(readFileSync(join(r, "sub", "x.txt"), "utf8"), "x");
});

// A URL written into a body must be one the client can follow: under the secret
// path, or the mount point, that the handlers below no longer see (WharfRequest.base).
describe("URLs in upload answers carry the prefix the request came under", () => {
  const secret = "AAAAAAAAAAAAAAAAAAAAAA-upload";
  const cases: {
    name: string;
    prefix: string;
    serve: (r: string, fn: (origin: string) => Promise<void>) => Promise<void>;
  }[] = [
    { name: "no prefix", prefix: "", serve: (r, fn) => serving({ root: r, upload: true }, (base) => fn(new URL(base).origin)) },
    {
      name: "a secret path",
      prefix: `/${secret}`,
      serve: (r, fn) => serving({ root: r, upload: true, secretPath: secret }, (base) => fn(new URL(base).origin)),
    },
    {
      name: "an Express mount point",
      prefix: "/files",
      serve: async (r, fn) => {
        const app = express5();
        app.use("/files", createHandler({ root: r, upload: true }));
        const server = app.listen(0, "127.0.0.1");
        await new Promise<void>((done) => server.once("listening", () => done()));
        try {
          await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        } finally {
          await new Promise((done) => server.close(done));
        }
      },
    },
  ];
  for (const c of cases) {
    test(`${c.name}: a PUT's url and Location, a POST's urls and Location, a 409's existing`, async () => {
      const { root: r } = root();
      await c.serve(r, async (origin) => {
        const p = c.prefix;
        const created = await put(`${origin}${p}/sub/x.txt`, "x");
        assert.equal(created.status, 201);
        assert.equal(created.headers.get("location"), `${p}/sub/x.txt`);
        assert.deepEqual(await created.json(), { name: "x.txt", url: `${p}/sub/x.txt`, size: 1 });
        // The URL in the body is one the client can follow.
        assert.equal(await (await fetch(`${origin}${p}/sub/x.txt`)).text(), "x");

        const form = new FormData();
        form.append("file", new Blob(["yy"]), "y y.txt");
        const posted = await fetch(`${origin}${p}/sub/`, { method: "POST", body: form });
        assert.equal(posted.status, 201);
        assert.equal(posted.headers.get("location"), `${p}/sub/y%20y.txt`);
        assert.deepEqual(await posted.json(), { files: [{ name: "y y.txt", url: `${p}/sub/y%20y.txt`, size: 2 }] });

        const again = await put(`${origin}${p}/sub/x.txt`, "z");
        assert.equal(again.status, 409);
        const problem = await problemOf(again);
        assert.equal(problem["existing"], `${p}/sub/x.txt`);
        assert.equal(problem["detail"], `${p}/sub/x.txt already exists`);
      });
      assert.equal(readFileSync(join(r, "sub", "x.txt"), "utf8"), "x");
    });
  }
});

test("publishing alone (no early 409): 50 written files linked to one name at once, exactly one wins whole", async () => {
  const { root: r } = root();
  const rules = await canonicalRules({ root: r, fs: nodeFileSystem, dotfiles: "ignore", symlinks: "inside-root", hiddenFiles: [] });
  const bodies = Array.from({ length: 50 }, (_, i) => Buffer.alloc(64 * 1024, i));
  const written = await Promise.all(
    bodies.map((b) =>
      writeTemp(
        rules.root,
        (async function* () {
          yield b;
        })(),
        { maxSize: Number.POSITIVE_INFINITY },
      ),
    ),
  );
  const outcomes = await Promise.all(
    written.map((w) =>
      publish(rules, w, "race.bin", "error").then(
        () => "published",
        (e: unknown) => (e instanceof WriteError ? e.failure.kind : String(e)),
      ),
    ),
  );
  assert.equal(outcomes.filter((o) => o === "published").length, 1, String(outcomes));
  assert.equal(outcomes.filter((o) => o === "exists").length, 49, String(outcomes));
  const file = readFileSync(join(r, "race.bin"));
  assert.ok(bodies.some((b) => b.equals(file)));
  assert.deepEqual(temps(r), []);
});
