/**
 * The shared option checks (issue 12 item 7d): one wording for one kind of value,
 * whether createHandler, serve() or a feature asks.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../src/core/errors.js";
import { booleanOption, listOption, wholeOption } from "../../src/core/validate.js";
import { createHandler, memoryFileSystem, serve } from "../../src/index.js";

describe("option checks", () => {
  const rows: { name: string; run: () => unknown; want: unknown }[] = [
    { name: "boolean: default", run: () => booleanOption("x", undefined, true), want: true },
    { name: "boolean: given", run: () => booleanOption("x", false, true), want: false },
    { name: "boolean: a string", run: () => booleanOption("x", "yes", true), want: "x: must be true or false" },
    { name: "whole: default", run: () => wholeOption("n", undefined, 7), want: 7 },
    { name: "whole: 0", run: () => wholeOption("n", 0, 7), want: 0 },
    { name: "whole: below min", run: () => wholeOption("n", 0, 7, 1), want: "n: must be a whole number of at least 1" },
    {
      name: "whole: above max",
      run: () => wholeOption("port", 65536, 8000, 0, 65535),
      want: "port: must be a whole number from 0 to 65535",
    },
    { name: "whole: a fraction", run: () => wholeOption("n", 1.5, 7), want: "n: must be a whole number of at least 0" },
    { name: "whole: a numeric string", run: () => wholeOption("n", "5", 7), want: "n: must be a whole number of at least 0" },
    { name: "list: default", run: () => listOption("l", undefined), want: [] },
    { name: "list: not a list", run: () => listOption("l", "a"), want: "l: must be a list" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      let got: unknown;
      try {
        got = row.run();
      } catch (error) {
        assert.ok(error instanceof OptionError, `threw ${String(error)}`);
        const m = /^wharf: option "([^"]+)" (.*)$/.exec(error.message);
        got = m === null ? error.message : `${m[1]}: ${m[2]}`;
      }
      assert.deepEqual(got, row.want, `got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`);
    });
  }

  test("createHandler, a feature and serve() word a bad boolean alike", async () => {
    const fs = memoryFileSystem("/m", { "a.txt": "a" });
    const messages: string[] = [];
    for (const make of [
      () => createHandler({ fs, root: "/m", compression: "no" as unknown as boolean }),
      () => createHandler({ fs, root: "/m", coopCoep: "no" as unknown as boolean }),
    ])
      assert.throws(make, (e: unknown) => (messages.push((e as Error).message), e instanceof OptionError));
    await assert.rejects(
      serve({ fs, root: "/m", port: 0, host: "127.0.0.1", keepAlive: "no" as unknown as boolean }),
      (e: unknown) => (messages.push((e as Error).message), e instanceof OptionError),
    );
    assert.deepEqual(
      messages.map((m) => m.replace(/^.*?(must)/, "$1")),
      ["must be true or false", "must be true or false", "must be true or false"],
    );
  });
});
