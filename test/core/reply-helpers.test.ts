/**
 * The reply helpers (issue 12 item 4): a Reply is read-only, and withHeader,
 * withReplyHeaders, withStatus and mapReply make a new one, in the shape they were
 * given (a reply for a reply, a promise for a promise), so that middleware mapping
 * `next()` keeps the synchronous path.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mapReply, text, withHeader, withReplyHeaders, withStatus } from "../../src/core/reply.js";
import type { Reply } from "../../src/core/types.js";

const base = (): Reply => text(200, "hi", { "x-a": "1", "x-b": "2" });

describe("reply helpers", () => {
  const rows: { name: string; change: (r: Reply) => Reply; status: number; headers: Record<string, string | undefined> }[] = [
    { name: "withHeader sets", change: (r) => withHeader(r, "x-c", "3"), status: 200, headers: { "x-a": "1", "x-b": "2", "x-c": "3" } },
    { name: "withHeader replaces", change: (r) => withHeader(r, "x-a", "9"), status: 200, headers: { "x-a": "9", "x-b": "2" } },
    {
      name: "withHeader lower-cases the name",
      change: (r) => withHeader(r, "X-Frame-Options", "DENY"),
      status: 200,
      headers: { "x-frame-options": "DENY", "X-Frame-Options": undefined },
    },
    { name: "withHeader null removes", change: (r) => withHeader(r, "x-a", null), status: 200, headers: { "x-a": undefined, "x-b": "2" } },
    {
      name: "withReplyHeaders sets and removes",
      change: (r) => withReplyHeaders(r, { "x-a": null, "X-C": "3" }),
      status: 200,
      headers: { "x-a": undefined, "x-b": "2", "x-c": "3" },
    },
    { name: "withStatus", change: (r) => withStatus(r, 203), status: 203, headers: { "x-a": "1", "x-b": "2" } },
  ];
  for (const row of rows) {
    test(`${row.name}: a new reply, the given one unchanged`, () => {
      const given = base();
      const before = JSON.stringify(given);
      const got = row.change(given);
      assert.notEqual(got, given);
      assert.equal(got.status, row.status, `got ${got.status}, want ${row.status}`);
      for (const [name, value] of Object.entries(row.headers))
        assert.equal(got.headers[name], value, `${name}: got ${got.headers[name]}, want ${value}`);
      assert.equal(got.body, given.body, "the body is shared, not copied");
      assert.equal(got.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(JSON.stringify(given), before, "the given reply was changed");
    });
  }

  test("a reply in, a reply out (no promise); a promise in, a promise out", async () => {
    const sync = withHeader(base(), "x-c", "3");
    assert.ok(!(sync instanceof Promise));
    const later = withHeader(Promise.resolve(base()), "x-c", "3");
    assert.ok(later instanceof Promise);
    assert.equal((await later).headers["x-c"], "3");
    const mapped = mapReply(base() as Reply | Promise<Reply>, (r) => withStatus(r, 201));
    assert.ok(!(mapped instanceof Promise));
    assert.equal((await mapped).status, 201);
  });

  test("a rejected promise stays rejected", async () => {
    await assert.rejects(withStatus(Promise.reject(new Error("no")), 200), /no/);
  });
});
