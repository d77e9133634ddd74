/** The chain the features build: nothing when none is on, and a fixed order when they are. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildFeatures } from "../../src/features/index.js";
import { type Middleware, text } from "../../src/index.js";
import { handlerFor } from "./support.js";

describe("with no feature on", () => {
  test("the chain is exactly the static handler (and use)", () => {
    const features = buildFeatures({});
    assert.deepEqual([features.outer.length, features.inner.length, features.active], [0, 0, []]);
  });
  test("false and empty values turn nothing on", () => {
    const features = buildFeatures({
      single: false,
      cleanUrls: false,
      cors: false,
      headers: [],
      redirects: [],
      rewrites: [],
      notFound: false,
      coopCoep: false,
    });
    assert.deepEqual([features.outer.length, features.inner.length], [0, 0]);
  });
});

describe("order", () => {
  const seen: string[] = [];
  const spy: Middleware = (req, next) => {
    seen.push(req.pathname);
    return req.pathname === "/route" ? text(200, "route") : next();
  };
  const handler = handlerFor(
    { "index.html": "<p>app</p>", "404.html": "404 page" },
    {
      auth: "me:pw",
      cors: true,
      single: true,
      notFound: "404.html",
      redirects: [{ source: "/old", destination: "/new" }],
      use: [spy],
    },
  );
  const auth = { authorization: `Basic ${Buffer.from("me:pw").toString("base64")}` };
  const get = async (path: string, headers: Record<string, string> = {}) => {
    seen.length = 0;
    const res = await handler.fetch(new Request(`http://localhost${path}`, { headers }));
    return { status: res.status, body: await res.text(), acao: res.headers.get("access-control-allow-origin"), seen: [...seen] };
  };
  test("CORS wraps auth: a 401 carries CORS headers, and use never ran", async () => {
    assert.deepEqual(await get("/route", { origin: "https://a.example" }), {
      status: 401,
      body: (await get("/route", { origin: "https://a.example" })).body,
      acao: "*",
      seen: [],
    });
  });
  test("redirects come before use", async () => assert.deepEqual((await get("/old", auth)).seen, []));
  test("use comes before the SPA, which only acts on the static handler's misses", async () => {
    assert.equal((await get("/route", { ...auth, accept: "text/html" })).body, "route");
    assert.equal((await get("/deep", { ...auth, accept: "text/html" })).body, "<p>app</p>");
  });
  test("the 404 page wraps use: its request passes through use too", async () => {
    const r = await get("/missing.js", auth);
    assert.deepEqual([r.status, r.body, r.seen], [404, "404 page", ["/missing.js", "/404.html"]]);
  });
});
