import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Encoding, type EncodingChoice, negotiateEncoding } from "../../src/http/negotiate.js";

const ALL: Encoding[] = ["br", "zstd", "gzip"];
const enc = (encoding: Encoding): EncodingChoice => ({ kind: "encoded", encoding });
const IDENTITY: EncodingChoice = { kind: "identity" };
const NONE: EncodingChoice = { kind: "none-acceptable" };

// RFC 9110 §12.5.3, one row per rule.
const rows: { name: string; header: string | undefined; offered?: Encoding[]; want: EncodingChoice }[] = [
  { name: "no header: identity", header: undefined, want: IDENTITY },
  { name: "empty header: identity", header: "", want: IDENTITY },
  { name: "a browser's header: br first", header: "gzip, deflate, br, zstd", want: enc("br") },
  { name: "server order breaks ties", header: "gzip, zstd", want: enc("zstd") },
  { name: "q decides", header: "br;q=0.5, gzip;q=0.8", want: enc("gzip") },
  { name: "q=0 refuses", header: "br;q=0, gzip", want: enc("gzip") },
  { name: "only what is offered", header: "br, gzip", offered: ["gzip"], want: enc("gzip") },
  { name: "nothing offered", header: "br", offered: [], want: IDENTITY },
  { name: "unknown codings only", header: "compress, deflate", want: IDENTITY },
  { name: "star picks the server's favourite", header: "*", want: enc("br") },
  { name: "star with an exclusion", header: "*, br;q=0", want: enc("zstd") },
  { name: "identity preferred over a lower coding", header: "gzip;q=0.5, identity", offered: ["gzip"], want: IDENTITY },
  { name: "a coding wins a tie with identity", header: "gzip, identity", offered: ["gzip"], want: enc("gzip") },
  { name: "identity;q=0 with a coding", header: "identity;q=0, gzip", offered: ["gzip"], want: enc("gzip") },
  { name: "identity;q=0 and nothing usable", header: "identity;q=0, deflate", offered: ["gzip"], want: NONE },
  { name: "*;q=0 refuses identity too", header: "*;q=0", want: NONE },
  { name: "*;q=0 but identity allowed", header: "*;q=0, identity", want: IDENTITY },
  { name: "case-insensitive codings", header: "GZIP", offered: ["gzip"], want: enc("gzip") },
  { name: "whitespace around parameters", header: " br ; q=1.0 , gzip ; q=0.1", want: enc("br") },
  { name: "invalid q: element ignored", header: "br;q=2, gzip", want: enc("gzip") },
  { name: "invalid q with four decimals", header: "br;q=0.0001, gzip;q=0.1", want: enc("gzip") },
  { name: "first weight of a repeated coding counts", header: "br;q=0, br", want: IDENTITY },
  { name: "empty elements tolerated", header: ",, gzip ,", offered: ["gzip"], want: enc("gzip") },
];

describe("negotiateEncoding", () => {
  for (const row of rows) {
    test(row.name, () => {
      const got = negotiateEncoding(row.header, row.offered ?? ALL);
      assert.deepEqual(
        got,
        row.want,
        `negotiateEncoding(${JSON.stringify(row.header)}, ${JSON.stringify(row.offered ?? ALL)}): got ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`,
      );
    });
  }
  test("a huge header is read only up to its first 32 elements", () => {
    const header = `${"x, ".repeat(10_000)}gzip`;
    assert.deepEqual(negotiateEncoding(header, ALL), IDENTITY);
  });
});
