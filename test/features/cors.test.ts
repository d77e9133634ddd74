/** CORS: the policy as a table (corsDecision), then the middleware over the handler. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { corsDecision, corsPolicy } from "../../src/features/cors.js";
import { handlerFor, runRows } from "./support.js";

const APP = "https://app.example";
const ANY = corsPolicy(true);
const LISTED = corsPolicy([APP, "http://localhost:5173"]);

describe("corsDecision", () => {
  const rows: {
    name: string;
    policy: ReturnType<typeof corsPolicy>;
    origin?: string;
    method?: string;
    acrm?: string;
    acrh?: string;
    pna?: string;
    kind: string;
    headers: Record<string, string | undefined>;
  }[] = [
    {
      name: "any: a simple request",
      policy: ANY,
      origin: APP,
      kind: "response",
      headers: {
        "access-control-allow-origin": "*",
        "access-control-allow-credentials": undefined,
        vary: undefined,
        "access-control-expose-headers": "Accept-Ranges, Content-Encoding, Content-Length, Content-Range, ETag",
      },
    },
    { name: "any: no Origin still gets *", policy: ANY, kind: "response", headers: { "access-control-allow-origin": "*" } },
    {
      name: "any: a preflight",
      policy: ANY,
      origin: APP,
      method: "OPTIONS",
      acrm: "GET",
      acrh: "range, if-none-match",
      kind: "preflight",
      headers: {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, HEAD, OPTIONS",
        "access-control-allow-headers": "range, if-none-match",
        "access-control-max-age": "600",
        "access-control-allow-credentials": undefined,
      },
    },
    {
      name: "listed: echoed with credentials and Vary",
      policy: LISTED,
      origin: APP,
      kind: "response",
      headers: { "access-control-allow-origin": APP, "access-control-allow-credentials": "true", vary: "Origin" },
    },
    {
      name: "listed: case and default port do not matter",
      policy: LISTED,
      origin: "HTTPS://APP.EXAMPLE:443",
      kind: "response",
      headers: { "access-control-allow-origin": "HTTPS://APP.EXAMPLE:443" },
    },
    {
      name: "listed: another origin gets only Vary",
      policy: LISTED,
      origin: "https://evil.example",
      kind: "response",
      headers: { "access-control-allow-origin": undefined, vary: "Origin" },
    },
    {
      name: "listed: no Origin gets only Vary",
      policy: LISTED,
      kind: "response",
      headers: { "access-control-allow-origin": undefined, vary: "Origin" },
    },
    {
      name: "listed: a preflight",
      policy: LISTED,
      origin: "http://localhost:5173",
      method: "OPTIONS",
      acrm: "GET",
      acrh: "authorization",
      kind: "preflight",
      headers: {
        "access-control-allow-origin": "http://localhost:5173",
        "access-control-allow-credentials": "true",
        "access-control-allow-headers": "authorization",
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      },
    },
    {
      name: "listed: a preflight from elsewhere",
      policy: LISTED,
      origin: "https://evil.example",
      method: "OPTIONS",
      acrm: "GET",
      kind: "preflight-refused",
      headers: { "access-control-allow-origin": undefined },
    },
    {
      name: "an OPTIONS without Access-Control-Request-Method is no preflight",
      policy: ANY,
      origin: APP,
      method: "OPTIONS",
      kind: "response",
      headers: {},
    },
    {
      name: "bad header names are not echoed",
      policy: ANY,
      origin: APP,
      method: "OPTIONS",
      acrm: "GET",
      acrh: "range, bad name, x-ok",
      kind: "preflight",
      headers: { "access-control-allow-headers": "range, x-ok" },
    },
    {
      name: "Private Network Access",
      policy: ANY,
      origin: APP,
      method: "OPTIONS",
      acrm: "GET",
      pna: "true",
      kind: "preflight",
      headers: { "access-control-allow-private-network": "true" },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const d = corsDecision(row.policy, row.origin, row.method ?? "GET", row.acrm, row.acrh, row.pna);
      assert.equal(d.kind, row.kind, `got ${JSON.stringify(d)}`);
      for (const [k, v] of Object.entries(row.headers))
        assert.equal(d.headers[k], v, `${k}: got ${JSON.stringify(d.headers[k])}, want ${JSON.stringify(v)}`);
    });
  }
});

describe("corsPolicy checks", () => {
  const bad: [string, unknown][] = [
    ["* with credentials", { origins: "*", credentials: true }],
    ["an origin with a path", ["https://a.example/app"]],
    ["a trailing slash", ["https://a.example/"]],
    ["not an origin", ["a.example"]],
    ["* inside a list", ["*", APP]],
    ["an empty list", []],
    ["a negative maxAge", { maxAge: -1 }],
  ];
  for (const [name, value] of bad) {
    test(name, () =>
      assert.throws(
        () => corsPolicy(value as true),
        (e: Error & { code?: string }) => e.code === "WHARF_INVALID_CORS",
      ),
    );
  }
  test("credentials can be turned off for a list", () =>
    assert.equal(corsPolicy({ origins: [APP], credentials: false }).credentials, false));
  test("a single origin string", () => assert.deepEqual([...(corsPolicy(APP).origins as Set<string>)], [APP]));
});

const tree = { "nums.txt": "123456789", "index.html": "<p>home</p>" };
describe("cors: true over the handler", () => {
  runRows(handlerFor(tree, { cors: true }), [
    { name: "a file", path: "/nums.txt", headers: { origin: APP }, status: 200, want: { "access-control-allow-origin": "*" } },
    {
      name: "a 404 too, so the page can read it",
      path: "/nope",
      headers: { origin: APP },
      status: 404,
      want: { "access-control-allow-origin": "*" },
    },
    {
      name: "a range",
      path: "/nums.txt",
      headers: { origin: APP, range: "bytes=0-1" },
      status: 206,
      want: { "access-control-expose-headers": "Accept-Ranges, Content-Encoding, Content-Length, Content-Range, ETag" },
    },
    {
      name: "a preflight is 204",
      path: "/nums.txt",
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "GET", "access-control-request-headers": "range" },
      status: 204,
      want: { "access-control-allow-headers": "range", "access-control-allow-methods": "GET, HEAD, OPTIONS", "content-length": null },
      body: "",
    },
    {
      name: "a plain OPTIONS is the static handler's",
      path: "/nums.txt",
      method: "OPTIONS",
      status: 204,
      want: { allow: "GET, HEAD, OPTIONS" },
    },
  ]);
});

describe("cors: a list, with auth", () => {
  const basic = `Basic ${Buffer.from("me:pw").toString("base64")}`;
  runRows(handlerFor(tree, { cors: [APP], auth: "me:pw" }), [
    {
      name: "a preflight needs no credentials",
      path: "/nums.txt",
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      status: 204,
      want: { "access-control-allow-origin": APP, "access-control-allow-credentials": "true" },
    },
    {
      name: "the 401 carries CORS headers",
      path: "/nums.txt",
      headers: { origin: APP },
      status: 401,
      want: { "access-control-allow-origin": APP, vary: "Origin" },
    },
    {
      name: "with credentials",
      path: "/nums.txt",
      headers: { origin: APP, authorization: basic },
      status: 200,
      body: "123456789",
      want: { "access-control-allow-origin": APP, "access-control-allow-credentials": "true", vary: "Origin" },
    },
    {
      name: "another origin gets no permission",
      path: "/nums.txt",
      headers: { origin: "https://evil.example", authorization: basic },
      status: 200,
      want: { "access-control-allow-origin": null, vary: "Origin" },
    },
  ]);
});
