/**
 * The features over real servers: every row over HTTP/1.1, HTTPS/1.1 and HTTP/2
 * (one serve() with every feature on, plain and with TLS), GET and HEAD alike.
 * The in-memory tables in this folder cover the rules; this shows the transports
 * carry them (no connection-specific headers on h2, 204 without a length, ...).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningServer, type ServeOptions, serve } from "../../src/server/serve.js";
import { rawRequest } from "../helpers/raw.js";
import { closeClients, PROTOCOLS, type Protocol, request, type Target } from "../helpers/request.js";
import { opensslCertificate } from "../helpers/tls.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-features-matrix-"));
const root = join(dir, "site");
const FILES: Record<string, string> = {
  "index.html": "<p>app</p>",
  "404.html": "<p>custom 404</p>",
  "about.html": "<p>about</p>",
  "nums.txt": "123456789",
  "edit-project-7.html": "edit 7",
};
for (const [name, content] of Object.entries(FILES)) {
  mkdirSync(dirname(join(root, name)), { recursive: true });
  writeFileSync(join(root, name), content);
}
const OPTIONS: ServeOptions = {
  root,
  port: 0,
  host: "127.0.0.1",
  log: false,
  single: true,
  cleanUrls: true,
  cors: ["https://app.example"],
  notFound: "404.html",
  coopCoep: true,
  headers: [{ source: "*.txt", headers: { "X-Text": "yes" } }],
  redirects: [{ source: "/old/:id", destination: "/new/:id", type: 308 }],
  rewrites: [{ source: "/projects/:id/edit", destination: "/edit-project-:id.html" }],
  auth: "me:pw",
};
const AUTH = { authorization: `Basic ${Buffer.from("me:pw").toString("base64")}` };
const NAV = { ...AUTH, accept: "text/html,*/*;q=0.8" };

let plain: RunningServer;
let secure: RunningServer;
const targets = new Map<Protocol, Target>();
before(async () => {
  const cert = opensslCertificate(dir, "features");
  plain = await serve(OPTIONS);
  secure = await serve({ ...OPTIONS, tls: { cert: cert.cert, key: cert.key } });
  targets.set("http/1.1", { protocol: "http/1.1", port: plain.port });
  targets.set("https/1.1", { protocol: "https/1.1", port: secure.port, ca: cert.cert });
  targets.set("h2", { protocol: "h2", port: secure.port, ca: cert.cert });
});
after(async () => {
  closeClients();
  await Promise.all([plain.close(), secure.close()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  readonly name: string;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly body?: string;
  readonly want?: Record<string, string | null>;
}

const rows: Row[] = [
  {
    name: "no credentials: 401 and the challenge",
    path: "/nums.txt",
    status: 401,
    want: { "www-authenticate": 'Basic realm="wharf", charset="UTF-8"' },
  },
  {
    name: "a file, with a header rule and COOP/COEP",
    path: "/nums.txt",
    headers: AUTH,
    status: 200,
    body: "123456789",
    want: { "x-text": "yes", "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" },
  },
  { name: "an SPA deep link", path: "/users/42", headers: NAV, status: 200, body: "<p>app</p>", want: { vary: "Accept, Origin" } },
  {
    name: "a missing asset: the 404 page",
    path: "/missing.js",
    headers: AUTH,
    status: 404,
    body: "<p>custom 404</p>",
    want: { etag: null },
  },
  { name: "a clean URL", path: "/about", headers: AUTH, status: 200, body: "<p>about</p>" },
  { name: "the .html redirect keeps the query", path: "/about.html?x=1", headers: AUTH, status: 301, want: { location: "/about?x=1" } },
  { name: "a redirect rule", path: "/old/5", headers: AUTH, status: 308, want: { location: "/new/5" } },
  { name: "a rewrite rule", path: "/projects/7/edit", headers: AUTH, status: 200, body: "edit 7" },
  {
    name: "a CORS response",
    path: "/nums.txt",
    headers: { ...AUTH, origin: "https://app.example" },
    status: 200,
    want: { "access-control-allow-origin": "https://app.example", "access-control-allow-credentials": "true", vary: "Origin" },
  },
  {
    name: "a preflight, before auth",
    path: "/nums.txt",
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization, range",
    },
    status: 204,
    want: { "access-control-allow-headers": "authorization, range", "content-length": null },
  },
];

for (const protocol of PROTOCOLS) {
  describe(protocol, () => {
    for (const row of rows) {
      for (const method of row.method === undefined ? ["GET", "HEAD"] : [row.method]) {
        test(`${row.name} (${method})`, async () => {
          const answer = await request(targets.get(protocol)!, method, row.path, row.headers ?? {});
          const echo = `${protocol} ${method} ${row.path}`;
          assert.equal(answer.status, row.status, `${echo}: got ${answer.status}, want ${row.status}`);
          for (const [name, want] of Object.entries(row.want ?? {})) {
            assert.equal(answer.headers[name] ?? null, want, `${echo}: ${name}: got ${answer.headers[name]}, want ${want}`);
          }
          if (method === "HEAD") assert.equal(answer.body.length, 0);
          else if (row.body !== undefined) assert.equal(answer.body.toString(), row.body, `${echo}: body`);
        });
      }
    }
  });
}

describe("raw bytes over HTTP/1.1", () => {
  test("traversal is still 400 with every feature on", async () => {
    const res = await rawRequest(
      plain.port,
      "GET",
      "/a/%2e%2e/%2e%2e/etc/passwd",
      `Authorization: ${AUTH.authorization}\r\nAccept: text/html\r\n`,
    );
    assert.equal(res.status, 400);
  });
  test("a rewrite cannot climb either", async () => {
    const res = await rawRequest(plain.port, "GET", "/projects/..%2f..%2fetc/edit", `Authorization: ${AUTH.authorization}\r\n`);
    assert.notEqual(res.status, 200);
  });
});
