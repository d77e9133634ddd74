/**
 * compose() adds no promise of its own (issue 12 item 4): when every step answers
 * synchronously the chain returns the reply itself; one step that returns a
 * promise makes the result a promise.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compose } from "../../src/core/compose.js";
import { text, withHeader } from "../../src/core/reply.js";
import { withPath } from "../../src/core/request.js";
import type { Middleware, WharfRequest } from "../../src/core/types.js";

const req = (pathname: string): WharfRequest => ({
  method: "GET",
  target: pathname,
  pathname,
  search: "",
  header: () => undefined,
  remoteAddress: undefined,
});
const last: Middleware = (r) => text(200, r.pathname);
const lastAsync: Middleware = async (r) => text(200, r.pathname);
const pass: Middleware = (_r, next) => next();
const tag: Middleware = (_r, next) => withHeader(next(), "x-tag", "1");
const awaiting: Middleware = async (_r, next) => await next();
const rewrite: Middleware = (r, next) => (r.pathname === "/old" ? next(withPath(r, "/new")) : next());

describe("compose", () => {
  const rows: { name: string; middleware: Middleware[]; last: Middleware; sync: boolean }[] = [
    { name: "no middleware", middleware: [], last, sync: true },
    { name: "pass, tag, rewrite", middleware: [pass, tag, rewrite], last, sync: true },
    { name: "an awaiting middleware", middleware: [pass, awaiting, tag], last, sync: false },
    { name: "an async last handler", middleware: [pass, tag], last: lastAsync, sync: false },
  ];
  for (const row of rows) {
    test(`${row.name}: ${row.sync ? "a reply" : "a promise"}`, async () => {
      const got = compose(row.middleware, row.last)(req("/old"));
      assert.equal(got instanceof Promise, !row.sync, `got ${got instanceof Promise ? "a promise" : "a reply"}`);
      const reply = await got;
      const body = reply.body.kind === "chunks" ? Buffer.from(reply.body.chunks[0] as Uint8Array).toString() : "";
      assert.equal(body, row.middleware.includes(rewrite) ? "/new" : "/old");
      if (row.middleware.includes(tag)) assert.equal(reply.headers["x-tag"], "1");
    });
  }

  test("next() twice from one middleware throws", () => {
    const twice: Middleware = (_r, next) => {
      next();
      return next();
    };
    assert.throws(() => compose([twice], last)(req("/a")), /next\(\) called twice/);
  });

  test("next(request) may be called again", () => {
    const both: Middleware = (r, next) => {
      next(withPath(r, "/x"));
      return next(withPath(r, "/y"));
    };
    const reply = compose([both], last)(req("/a"));
    assert.ok(!(reply instanceof Promise));
  });
});
