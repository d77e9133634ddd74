/**
 * Accept-Encoding negotiation under generated input: never throws, and only
 * ever picks something the server offered.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type Encoding, negotiateEncoding } from "../../src/http/negotiate.js";
import { anyAcceptEncoding } from "./arbitraries.js";
import { runs } from "./settings.js";

const offered = fc.subarray<Encoding>(["br", "zstd", "gzip"]);

describe("Accept-Encoding", () => {
  test("never throws; an encoded answer is one of the offered codings", () => {
    fc.assert(
      fc.property(fc.option(anyAcceptEncoding, { nil: undefined }), offered, (header, codings) => {
        const choice = negotiateEncoding(header, codings);
        const where = `${JSON.stringify(header?.slice(0, 80))} offered ${codings.join(",")}`;
        assert.ok(["encoded", "identity", "none-acceptable"].includes(choice.kind), where);
        if (choice.kind === "encoded") assert.ok(codings.includes(choice.encoding), `${where}: ${choice.encoding}`);
        if (header === undefined) assert.equal(choice.kind, "identity", where);
      }),
      runs(3000),
    );
  });

  test("a coding listed without q=0 is chosen when it is the only one offered", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Encoding>("br", "zstd", "gzip"),
        fc.constantFrom("", ";q=1", ";q=0.5", ";Q=0.001"),
        fc.constantFrom("", "identity;q=0.001, ", "deflate, "),
        (coding, q, before) => {
          const header = `${before}${coding}${q}`;
          assert.deepEqual(negotiateEncoding(header, [coding]), { kind: "encoded", encoding: coding }, header);
        },
      ),
      runs(200),
    );
  });
});
