/**
 * Hostile targets against every feature flag (issue 10 item 16): for each
 * configuration, no request target gets a 5xx and none makes the handler report
 * an internal error. Clean URLs once answered `/..html` with 500: a name that
 * strips to a dot segment. Each configuration is its own property so a failure
 * names the flags that caused it.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { WharfRequest } from "../../src/core/types.js";
import { createHandler, type WharfHandler } from "../../src/handler/create.js";
import type { StaticOptions } from "../../src/handler/options.js";
import type { RunningServer } from "../../src/server/serve.js";
import { createFixture, type Fixture } from "../helpers/fixture.js";
import { rawExchange } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";
import { hostilePath, wirePath } from "./arbitraries.js";
import { runs } from "./settings.js";

const USER = "user:pass";
const GOOD_AUTH = `Basic ${Buffer.from(USER).toString("base64")}`;

/** Pages the features fall back to or rewrite onto, and a file named like a dot segment plus `.html`. */
const PAGES: Record<string, string> = {
  "index.html": "<p>home</p>",
  "404.html": "<p>not found</p>",
  "about.html": "<p>about</p>",
  "..html": "<p>dot dot html</p>",
  ".html": "<p>dot html</p>",
  "docs/index.html": "<p>docs</p>",
  "docs/guide.html": "<p>guide</p>",
  "app/index.html": "<p>app</p>",
  "big.txt": "x".repeat(4096),
};

const redirects: StaticOptions["redirects"] = [
  { source: "/old/:id", destination: "/docs/:id" },
  { source: "/away/:x", destination: "https://example.com/:x", type: 302 as const },
];
const rewrites = [
  { source: "/files/:name", destination: "/:name" },
  { source: "/app/**", destination: "/app/index.html" },
  { source: "/:name.htm", destination: "/:name.html" },
  { source: "/dots/:name", destination: "/:name.html" },
];
const headers = [
  { source: "**/*.txt", headers: { "X-Test": "1", "Cache-Control": null } },
  { source: "**", headers: { "X-All": "yes" } },
];

/** Every feature flag, alone where it can be, and all of them together. */
const CONFIGS: Record<string, StaticOptions> = {
  defaults: {},
  spa: { single: true },
  cleanUrls: { cleanUrls: true },
  "cleanUrls as globs": { cleanUrls: ["/docs/**", "/*.html"] },
  "trailingSlash always": { trailingSlash: "always" },
  "trailingSlash never": { trailingSlash: "never" },
  "cleanUrls + trailingSlash always": { cleanUrls: true, trailingSlash: "always" },
  "cleanUrls + trailingSlash never": { cleanUrls: true, trailingSlash: "never" },
  "cors any origin": { cors: true },
  "cors listed origins": { cors: ["https://a.example", "https://b.example"] },
  headers: { headers, coopCoep: true },
  "redirects and rewrites": { redirects, rewrites },
  "notFound page": { notFound: "404.html" },
  auth: { auth: USER },
  "listing off": { listing: false },
  "dotfiles allow": { dotfiles: "allow" },
  "dotfiles deny": { dotfiles: "deny" },
  "symlinks follow": { symlinks: "follow" },
  "compression off": { compression: false },
  everything: {
    single: true,
    cleanUrls: true,
    trailingSlash: "never",
    cors: true,
    headers,
    redirects,
    rewrites,
    notFound: "404.html",
    auth: USER,
    dotfiles: "deny",
    symlinks: "follow",
    listing: false,
  },
};

let fixture: Fixture;
let server: RunningServer;

before(async () => {
  fixture = createFixture();
  for (const [name, content] of Object.entries(PAGES)) {
    mkdirSync(join(fixture.root, name, ".."), { recursive: true });
    writeFileSync(join(fixture.root, name), content);
  }
  server = await startServer({ ...CONFIGS["everything"], root: fixture.root });
});
after(async () => {
  await server.close();
  fixture.remove();
});

function request(method: string, target: string, headers: Record<string, string | undefined>): WharfRequest {
  const q = target.indexOf("?");
  return {
    method,
    target,
    pathname: q < 0 ? target : target.slice(0, q),
    search: q < 0 ? "" : target.slice(q),
    header: (name) => headers[name],
    remoteAddress: "127.0.0.1",
  };
}

const method = fc.constantFrom("GET", "GET", "HEAD", "OPTIONS", "POST");
const requestHeaders = fc.record(
  {
    authorization: fc.constantFrom(undefined, GOOD_AUTH, GOOD_AUTH, "Basic Zm9vOmJhcg==", "Basic", "Bearer x"),
    accept: fc.constantFrom(undefined, "text/html", "application/json", "*/*"),
    "accept-encoding": fc.constantFrom(undefined, "gzip, br", "br;q=0, gzip", "identity;q=0", "zstd"),
    origin: fc.constantFrom(undefined, "https://a.example", "null", "https://evil.example"),
    range: fc.constantFrom(undefined, "bytes=0-3", "bytes=99999999999999999999-", "bytes=-2,0-0"),
    "access-control-request-method": fc.constantFrom(undefined, "GET", "PUT"),
  },
  { requiredKeys: [] },
);

describe("every feature flag under hostile targets: never a 5xx", () => {
  for (const [name, options] of Object.entries(CONFIGS)) {
    test(`${name}: no target gets a 5xx or an internal error`, async () => {
      const errors: string[] = [];
      const handler: WharfHandler = createHandler({ ...options, root: fixture.root, revalidateMs: 0 }, (error, req) => {
        errors.push(`${req.method} ${req.target}: ${error instanceof Error ? error.message : String(error)}`);
      });
      await fc.assert(
        fc.asyncProperty(
          hostilePath,
          fc.option(fc.constantFrom("?a=1", "?", "?x=%2e%2e"), { nil: "" }),
          method,
          requestHeaders,
          async (path, query, verb, headers) => {
            const reply = await handler.handle(request(verb, path + query, headers));
            const where = `[${name}] ${verb} ${JSON.stringify(path + query)} ${JSON.stringify(headers)}`;
            assert.ok(reply.status < 500, `${where}: got ${reply.status}`);
            assert.deepEqual(errors, [], `${where}: internal error reported`);
          },
        ),
        runs(300),
      );
    });
  }
});

describe("a real server with every feature on, over raw sockets", () => {
  test("every answer to a hostile target is a well-formed 1xx-4xx", async () => {
    await fc.assert(
      fc.asyncProperty(wirePath, fc.constantFrom("GET", "HEAD"), fc.boolean(), async (path, verb, authorised) => {
        const auth = authorised ? `Authorization: ${GOOD_AUTH}\r\n` : "";
        const data = await rawExchange(server.port, `${verb} ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Connection: close\r\n\r\n`);
        const text = data.toString("latin1");
        assert.match(text, /^HTTP\/1\.1 [1-4]\d\d /, `${verb} ${path}: ${text.slice(0, 40)}`);
      }),
      runs(100),
    );
  });
});
