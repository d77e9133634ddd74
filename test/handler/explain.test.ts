/**
 * 404s and 400s that say why (issue 14 item 2): for a client on loopback (and
 * everyone with `explain: "on"`), the same status with the reason and the fix,
 * in HTML, text or problem+json by Accept, naming URL paths only; for any other
 * client, the bytes main sends today.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { isLocalClient } from "../../src/core/trace.js";
import type { Reply, WharfRequest } from "../../src/core/types.js";
import { nodeFileSystem } from "../../src/fs/node.js";
import type { FileSystem } from "../../src/fs/types.js";
import { createHandler } from "../../src/handler/create.js";
import { MAX_EXPLAINING } from "../../src/handler/explain.js";
import { OptionError, type StaticOptions } from "../../src/handler/options.js";
import { explanationFormat } from "../../src/responders/explanation.js";
import { CASE_LOOK } from "../../src/responders/resolver.js";
import { parseResponses, rawExchange } from "../helpers/raw.js";
import { withServer } from "../helpers/server.js";

const base = mkdtempSync(join(tmpdir(), "wharf-explain-"));
const root = join(base, "site");
const files: Record<string, string> = {
  "images/Logo.png": "logo",
  "index.html": "<p>app</p>",
  ".env": "SECRET=1",
  "about.htm": "<p>about</p>",
  "docs/readme.txt": "docs",
  "a.txt": "a",
  "wharf.json": "{}",
};
for (const [name, content] of Object.entries(files)) {
  mkdirSync(join(root, name, ".."), { recursive: true });
  writeFileSync(join(root, name), content);
}
writeFileSync(join(base, "outside.txt"), "outside");
symlinkSync(join(base, "outside.txt"), join(root, "escape.txt"));
after(() => rmSync(base, { recursive: true, force: true }));

const BASE_OPTIONS: StaticOptions = { root, revalidateMs: 0, hiddenFiles: ["wharf.json"] };

function request(path: string, remoteAddress: string | undefined, accept?: string): WharfRequest {
  return {
    method: "GET",
    target: path,
    pathname: path,
    search: "",
    header: (name) => (name === "accept" ? accept : undefined),
    remoteAddress,
  };
}

function bodyOf(reply: Reply): Buffer {
  assert.equal(reply.body.kind, "chunks");
  return Buffer.concat((reply.body as { chunks: readonly Uint8Array[] }).chunks.map((c) => Buffer.from(c)));
}

const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex").slice(0, 16);

// What main (492f0ee) sends for these rows to a client that is not on loopback,
// measured with its dist/ on the same tree: the one 404 page and the one 400
// page, and the SPA's Vary on a request that does not accept HTML.
const MAIN_404 = { sha: "bcb3245cad67f8b5", length: "1017" };
const MAIN_400 = { sha: "8e8ddac51166ec85", length: "1023" };
const PLAIN = { "cache-control": "no-store", "content-type": "text/html; charset=utf-8", "x-content-type-options": "nosniff" };

interface Row {
  readonly name: string;
  readonly path: string;
  readonly options?: StaticOptions;
  readonly accept?: string;
  readonly status: 404 | 400;
  /** What the explanation says (text format). */
  readonly says: RegExp;
  /** The problem type's fragment. */
  readonly kind: string;
  readonly vary?: true;
}

const rows: readonly Row[] = [
  {
    name: "hidden dotfile",
    path: "/.env",
    status: 404,
    says: /\/\.env is a dotfile[\s\S]*Fix: Start wharf with --dotfiles/,
    kind: "dotfile",
  },
  {
    name: "symlink leaving the root",
    path: "/escape.txt",
    status: 404,
    says: /\/escape\.txt is a symbolic link to something outside[\s\S]*--follow-symlinks/,
    kind: "symlink-outside",
  },
  {
    name: "case mismatch",
    path: "/Images/logo.png",
    status: 404,
    says: /No \/Images\/logo\.png; did you mean \/images\/Logo\.png\?/,
    kind: "not-found",
  },
  {
    name: "directory without index, listings off",
    path: "/docs/",
    options: { listing: false },
    status: 404,
    says: /\/docs\/ is a folder without index\.html or index\.htm, and listings are off[\s\S]*without --no-listing/,
    kind: "no-index",
  },
  {
    name: ".htm that clean URLs do not map",
    path: "/about",
    options: { cleanUrls: true },
    status: 404,
    says: /--clean-urls serves \/about from \/about\.html only, and there is \/about\.htm\./,
    kind: "clean-urls-htm",
  },
  {
    name: "asset the SPA fallback does not cover",
    path: "/app.js",
    options: { single: true },
    accept: "text/plain",
    status: 404,
    says: /\/app\.js has a file extension, so the single-page-app fallback treats it as an asset/,
    kind: "not-found",
  },
  {
    name: "SPA fallback for a request that does not take HTML",
    path: "/deep/link",
    options: { single: true },
    accept: "*/*",
    status: 404,
    says: /answers page navigations only[\s\S]*-H 'Accept: text\/html'/,
    kind: "not-found",
    vary: true,
  },
  {
    name: "bad encoding",
    path: "/%ff",
    status: 400,
    says: /not correctly percent-encoded UTF-8 \(path is not valid UTF-8\)/,
    kind: "bad-encoding",
  },
  {
    name: "bad encoding under the SPA",
    path: "/%zz",
    options: { single: true },
    status: 400,
    says: /percent-encoded/,
    kind: "bad-encoding",
  },
  { name: "dot-dot above the root", path: "/a/..%2f..", status: 400, says: /climbs above the top of the site/, kind: "above-root" },
  {
    name: "file with a trailing slash",
    path: "/a.txt/",
    status: 404,
    says: /\/a\.txt\/ ends with a slash[\s\S]*Link to \/a\.txt,/,
    kind: "file-as-directory",
  },
  { name: "hidden configuration file", path: "/wharf.json", status: 404, says: /configuration or password file/, kind: "hidden-file" },
  { name: "nothing there", path: "/nope.txt", status: 404, says: /Nothing at \/nope\.txt\./, kind: "not-found" },
];

describe("explained to a loopback client, same status", () => {
  for (const row of rows) {
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
      test(`${row.name} (${address})`, async () => {
        const handler = createHandler({ ...BASE_OPTIONS, ...row.options }, () => {});
        const reply = await handler.handle(request(row.path, address, row.accept ?? "text/plain"));
        const text = bodyOf(reply).toString();
        assert.equal(reply.status, row.status, `${row.path}: got ${reply.status}, want ${row.status}`);
        assert.match(text, row.says, `${row.path}: got ${JSON.stringify(text)}`);
        assert.equal(reply.headers["content-type"], "text/plain; charset=utf-8");
        assert.equal(reply.headers["content-length"], String(bodyOf(reply).length));
        assert.equal(reply.headers["cache-control"], "no-store");
        assert.equal(reply.headers["vary"], "Accept");
        // URL paths only: neither the root nor the place the symlink leads to.
        assert.ok(!text.includes(base), `${row.path}: names a file-system path: ${text}`);
        assert.ok(!text.includes("outside.txt"), `${row.path}: names the symlink's target`);
        if (row.status === 404) assert.equal(reply.miss, true, "still a miss (Express fallthrough)");
      });
    }
  }
});

describe("byte for byte what main sends to any other client", () => {
  for (const row of rows) {
    for (const [label, options, address] of [
      ["auto, not loopback", {}, "192.0.2.7"],
      ["auto, IPv6 not loopback", {}, "2001:db8::1"],
      ["auto, no address (fetch)", {}, undefined],
      ["off, loopback", { explain: "off" }, "127.0.0.1"],
      ["false, loopback", { explain: false }, "::1"],
    ] as const) {
      test(`${row.name} (${label})`, async () => {
        const handler = createHandler({ ...BASE_OPTIONS, ...row.options, ...options }, () => {});
        const reply = await handler.handle(request(row.path, address, row.accept ?? "text/html"));
        const want = row.status === 404 ? MAIN_404 : MAIN_400;
        assert.equal(reply.status, row.status);
        assert.deepEqual(reply.headers, { ...PLAIN, "content-length": want.length, ...(row.vary ? { vary: "Accept" } : {}) });
        assert.equal(sha(bodyOf(reply)), want.sha, `${row.path}: the body is not main's`);
      });
    }
  }
});

describe("explain: auto goes by the client a trusted proxy names, not the peer", () => {
  // What the Node adapter sets with trustProxy: the client behind a proxy on this machine.
  const rows: [string, string | undefined, boolean][] = [
    ["a remote client behind a proxy on loopback", "203.0.113.9", false],
    ["a client on this machine behind that proxy", "127.0.0.1", true],
    ["no proxy trusted: the peer", undefined, true],
  ];
  for (const [name, client, explained] of rows) {
    test(name, async () => {
      const handler = createHandler(BASE_OPTIONS, () => {});
      const req = { ...request("/Images/logo.png", "127.0.0.1", "text/plain"), ...(client === undefined ? {} : { clientAddress: client }) };
      const reply = await handler.handle(req);
      assert.equal(reply.status, 404);
      assert.equal(/did you mean/.test(bodyOf(reply).toString()), explained);
    });
  }
});

describe("explain: auto does not tell a client behind an untrusted proxy on loopback", () => {
  // A reverse proxy on this machine (no --trust-proxy) connects from loopback and
  // writes the real client in a header: that client may be anywhere.
  const rows: [string, Record<string, string>, boolean][] = [
    ["X-Forwarded-For", { "x-forwarded-for": "203.0.113.9" }, false],
    ["X-Forwarded-For naming loopback (client-chosen)", { "x-forwarded-for": "127.0.0.1" }, false],
    ["Forwarded", { forwarded: "for=203.0.113.9;proto=https" }, false],
    ["X-Real-IP", { "x-real-ip": "203.0.113.9" }, false],
    ["X-Forwarded-Proto alone", { "x-forwarded-proto": "https" }, false],
    ["X-Forwarded-Host alone", { "x-forwarded-host": "example.com" }, false],
    ["Via", { via: "1.1 proxy" }, false],
    ["no forwarding header", {}, true],
  ];
  for (const [name, headers, explained] of rows) {
    for (const address of ["127.0.0.1", "::1"]) {
      test(`${name} from ${address}: ${explained ? "explained" : "plain"}`, async () => {
        const handler = createHandler(BASE_OPTIONS, () => {});
        const base = request("/Images/logo.png", address, "text/plain");
        const req: WharfRequest = { ...base, header: (n) => headers[n] ?? base.header(n) };
        const reply = await handler.handle(req);
        assert.equal(reply.status, 404);
        const got = bodyOf(reply).toString();
        assert.equal(/did you mean/.test(got), explained, `got ${JSON.stringify(got)}`);
        if (!explained) assert.equal(sha(bodyOf(reply)), MAIN_404.sha, "not main's plain 404");
      });
    }
  }
  test("on: told even so (the operator asked for everyone)", async () => {
    const handler = createHandler({ ...BASE_OPTIONS, explain: "on" }, () => {});
    const base = request("/Images/logo.png", "127.0.0.1", "text/plain");
    const reply = await handler.handle({ ...base, header: (n) => (n === "x-forwarded-for" ? "203.0.113.9" : base.header(n)) });
    assert.match(bodyOf(reply).toString(), /did you mean/);
  });
});

describe("explain: on tells everyone", () => {
  for (const address of ["192.0.2.7", undefined]) {
    test(`${address ?? "no address"}`, async () => {
      for (const explain of ["on", true] as const) {
        const handler = createHandler({ ...BASE_OPTIONS, explain }, () => {});
        const reply = await handler.handle(request("/Images/logo.png", address, "text/plain"));
        assert.equal(reply.status, 404);
        assert.match(bodyOf(reply).toString(), /did you mean \/images\/Logo\.png\?/);
      }
    });
  }
  test("a bad value is refused when the handler is built", () => {
    assert.throws(() => createHandler({ ...BASE_OPTIONS, explain: "loopback" as "on" }), OptionError);
  });
});

describe("the format by Accept", () => {
  const cases: ReadonlyArray<readonly [accept: string | undefined, format: string]> = [
    [undefined, "text"],
    ["*/*", "text"],
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"],
    ["application/json", "problem"],
    ["application/problem+json", "problem"],
    ["text/plain", "text"],
    ["text/*", "text"],
    ["application/json;q=0.5, text/html;q=0.9", "html"],
    ["text/html;q=0, */*", "text"],
    ["image/png", "text"],
  ];
  for (const [accept, format] of cases) {
    test(`${accept ?? "(none)"} -> ${format}`, () => assert.equal(explanationFormat(accept), format));
  }

  test("HTML: the error page's look, the suggestion a same-origin link, everything escaped", async () => {
    const handler = createHandler(BASE_OPTIONS, () => {});
    const reply = await handler.handle(request("/Images/logo.png", "127.0.0.1", "text/html"));
    const html = bodyOf(reply).toString();
    assert.equal(reply.headers["content-type"], "text/html; charset=utf-8");
    assert.match(html, /<h1>404 Not Found<\/h1>/);
    assert.match(html, /did you mean <a href="\/images\/Logo\.png">\/images\/Logo\.png<\/a>\?/);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-/);
    const tag = await handler.handle(request("/%3Cb%3E.txt", "127.0.0.1", "text/html"));
    const escaped = bodyOf(tag).toString();
    assert.ok(!escaped.includes("<b>"), escaped);
  });

  test("problem+json (RFC 9457): type, title, status, detail, instance, and the fix", async () => {
    const handler = createHandler({ ...BASE_OPTIONS, single: true }, () => {});
    const reply = await handler.handle(request("/app.js", "127.0.0.1", "application/problem+json"));
    assert.equal(reply.headers["content-type"], "application/problem+json");
    const problem = JSON.parse(bodyOf(reply).toString()) as Record<string, unknown>;
    assert.equal(problem["status"], 404);
    assert.equal(problem["instance"], "/app.js");
    assert.equal(problem["type"], "https://github.com/wharf-server/wharf/blob/main/docs/features.md#problem-not-found");
    assert.equal(problem["detail"], "Nothing at /app.js.");
    assert.equal(typeof problem["fix"], "string");
    const also = problem["also"] as Array<Record<string, unknown>>;
    assert.deepEqual(
      also.map((p) => p["type"]),
      ["https://github.com/wharf-server/wharf/blob/main/docs/features.md#problem-spa-asset"],
    );
  });
});

describe("what is explained, and what is not", () => {
  test("a 200 is untouched: the same cached reply as without explanations", async () => {
    const on = createHandler({ root, hiddenFiles: ["wharf.json"] }, () => {});
    const first = await on.handle(request("/a.txt", "127.0.0.1"));
    const second = await on.handle(request("/a.txt", "127.0.0.1"));
    assert.equal(first.status, 200);
    assert.equal(second, first, "the prebuilt 200, shared");
  });
  test("the site's own 404 page wins", async () => {
    writeFileSync(join(root, "404.html"), "<p>my 404</p>");
    try {
      const handler = createHandler({ ...BASE_OPTIONS, notFound: "404.html" }, () => {});
      const reply = await handler.handle(request("/nope.txt", "127.0.0.1", "text/plain"));
      assert.equal(reply.status, 404);
      assert.equal(bodyOf(reply).toString(), "<p>my 404</p>");
    } finally {
      rmSync(join(root, "404.html"));
    }
  });
  test("under a secret path, every miss is the plain 404, even on loopback", async () => {
    const secret = "S".repeat(22);
    const handler = createHandler({ ...BASE_OPTIONS, secretPath: secret }, () => {});
    for (const path of [`/${secret}/Images/logo.png`, `/${secret}/.env`, "/Images/logo.png", `/${secret}/%ff`]) {
      const reply = await handler.handle(request(path, "127.0.0.1", "text/plain"));
      assert.ok(reply.status === 404 || reply.status === 400, `${path}: ${reply.status}`);
      assert.equal(sha(bodyOf(reply)), reply.status === 404 ? MAIN_404.sha : MAIN_400.sha, `${path}: explained`);
    }
  });
  test("a 404 of the user's own middleware is left alone", async () => {
    const handler = createHandler(
      { ...BASE_OPTIONS, use: [(req, next) => (req.pathname === "/api" ? { status: 404, headers: {}, body: { kind: "empty" } } : next())] },
      () => {},
    );
    const reply = await handler.handle(request("/api", "127.0.0.1"));
    assert.equal(reply.status, 404);
    assert.equal(reply.body.kind, "empty");
  });
  test("a SPA fallback that serves the page is not explained (nor traced)", async () => {
    const handler = createHandler({ ...BASE_OPTIONS, single: true }, () => {});
    const reply = await handler.handle(request("/deep/link", "127.0.0.1", "text/html"));
    assert.equal(reply.status, 200);
    assert.equal(bodyOf(reply).toString(), "<p>app</p>");
  });
  test("a suggestion is never a name the client may not see", async () => {
    // `.ENV` is hidden by its own dot; `/Escape.txt` would be the link out of the root.
    const handler = createHandler(BASE_OPTIONS, () => {});
    const reply = await handler.handle(request("/Escape.txt", "127.0.0.1"));
    const text = bodyOf(reply).toString();
    assert.equal(reply.status, 404);
    assert.ok(!text.includes("did you mean"), text);
  });
});

describe("explanations at once are bounded", () => {
  test(`past ${MAX_EXPLAINING} under way, the plain page`, { timeout: 30_000 }, async () => {
    // The case look's directory read waits for the gate, so explanations pile up.
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let waiting = 0;
    let allWaiting: () => void = () => {};
    const full = new Promise<void>((resolve) => (allWaiting = resolve));
    const fs: FileSystem = {
      ...nodeFileSystem,
      scanNames: async (path, limits) => {
        if (++waiting === MAX_EXPLAINING) allWaiting();
        await gate;
        return nodeFileSystem.scanNames!(path, limits);
      },
    };
    const handler = createHandler({ ...BASE_OPTIONS, fs }, () => {});
    const pending = Array.from({ length: MAX_EXPLAINING }, () => handler.handle(request("/Images/logo.png", "127.0.0.1", "text/plain")));
    await full;
    const over = await handler.handle(request("/Images/logo.png", "127.0.0.1", "text/plain"));
    assert.equal(over.status, 404);
    assert.equal(sha(bodyOf(over)), MAIN_404.sha, "the plain page while the others are under way");
    open();
    for (const reply of await Promise.all(pending)) assert.match(bodyOf(reply).toString(), /did you mean/);
    const later = await handler.handle(request("/Images/logo.png", "127.0.0.1", "text/plain"));
    assert.match(bodyOf(later).toString(), /did you mean/, "explained again once they are done");
  });
});

describe("the case look is bounded", () => {
  test("scanNames stops at the entry and byte limits", async () => {
    const dir = join(base, "many");
    mkdirSync(dir);
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, `file-${String(i).padStart(2, "0")}.txt`), "");
    assert.equal((await nodeFileSystem.scanNames!(dir, { entries: 10, bytes: 1 << 20 })).length, 10);
    // Each name is 11 bytes: two fit in 25.
    assert.equal((await nodeFileSystem.scanNames!(dir, { entries: 1000, bytes: 25 })).length, 2);
    assert.equal((await nodeFileSystem.scanNames!(dir, { entries: 1000, bytes: 1 << 20 })).length, 50);
  });
  test("the limits the resolver uses", () => {
    assert.deepEqual(CASE_LOOK, { entries: 10_000, bytes: 1024 * 1024, depth: 32 });
  });
});

describe("isLocalClient: the socket's address, or later a proxy's client address", () => {
  const cases: ReadonlyArray<readonly [string | undefined, boolean]> = [
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["192.168.1.5", false],
    ["::ffff:192.168.1.5", false],
    ["10.127.0.1", false],
    ["127.0.0.1.example", false],
    ["fe80::1", false],
    ["2001:db8::1", false],
    [undefined, false],
    ["", false],
  ];
  for (const [address, want] of cases) {
    test(`${address ?? "undefined"} -> ${want}`, () => assert.equal(isLocalClient(address), want));
  }
});

describe("over a real socket on loopback", () => {
  test("by default, explained, framed by Content-Length (pipelined); --explain off: the plain page", async () => {
    const pipelined =
      "GET /Images/logo.png HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n" +
      "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n" +
      "GET /%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    await withServer({ root }, async (server) => {
      const [missing, ok, bad] = parseResponses(await rawExchange(server.port, pipelined));
      assert.equal(missing?.status, 404);
      assert.match(missing?.body.toString() ?? "", /did you mean \/images\/Logo\.png\?/);
      assert.equal(ok?.status, 200);
      assert.equal(ok?.body.toString(), "a");
      assert.equal(bad?.status, 400);
      assert.match(bad?.body.toString() ?? "", /percent-encoded/);
    });
    await withServer({ root, explain: "off" }, async (server) => {
      const [missing, ok, bad] = parseResponses(await rawExchange(server.port, pipelined));
      assert.equal(missing?.status, 404);
      assert.equal(sha(missing!.body), MAIN_404.sha);
      assert.equal(ok?.body.toString(), "a");
      assert.equal(bad?.status, 400);
      assert.equal(sha(bad!.body), MAIN_400.sha);
    });
  });
});

describe("a path no parser lets through still gets its status", () => {
  for (const path of ["/\ud800", "/é", "/\u{10000}", "/a b"]) {
    test(JSON.stringify(path), async () => {
      const handler = createHandler(BASE_OPTIONS, () => assert.fail("reported an internal error"));
      const reply = await handler.handle(request(path, "127.0.0.1", "text/plain"));
      assert.equal(reply.status, 400);
      assert.match(bodyOf(reply).toString(), /^400 Bad Request: \/[\x21-\x7e]*\n/);
    });
  }
});
