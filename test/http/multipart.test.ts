import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MultipartPlan } from "../../src/http/multipart.js";
import { newBoundary, planByteranges } from "../../src/http/multipart.js";
import type { ByteRange } from "../../src/http/range.js";

/** 26 bytes whose offsets are obvious: byte i is the i-th letter. */
const FILE = new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz");
const decoder = new TextDecoder();

/** The body a sender would write for `plan`, reading ranges from `file`. */
function assemble(plan: MultipartPlan, file: Uint8Array): string {
  let body = "";
  for (const part of plan.parts) {
    body += decoder.decode(part.head) + decoder.decode(file.subarray(part.range.start, part.range.end));
  }
  return body + decoder.decode(plan.tail);
}

describe("planByteranges", () => {
  const rows: { name: string; ranges: ByteRange[]; type: string; boundary: string; want: string }[] = [
    {
      name: "two parts",
      ranges: [
        { start: 0, end: 5 },
        { start: 10, end: 15 },
      ],
      type: "text/plain",
      boundary: "B",
      want:
        "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/26\r\n\r\nabcde" +
        "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-14/26\r\n\r\nklmno" +
        "\r\n--B--\r\n",
    },
    {
      name: "one-byte parts and the last byte",
      ranges: [
        { start: 0, end: 1 },
        { start: 25, end: 26 },
      ],
      type: "text/plain; charset=utf-8",
      boundary: "3d6b6a416f9b5",
      want:
        "--3d6b6a416f9b5\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-0/26\r\n\r\na" +
        "\r\n--3d6b6a416f9b5\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 25-25/26\r\n\r\nz" +
        "\r\n--3d6b6a416f9b5--\r\n",
    },
    {
      name: "no Content-Type line when the type is empty",
      ranges: [
        { start: 1, end: 3 },
        { start: 20, end: 22 },
      ],
      type: "",
      boundary: "x",
      want: "--x\r\nContent-Range: bytes 1-2/26\r\n\r\nbc\r\n--x\r\nContent-Range: bytes 20-21/26\r\n\r\nuv\r\n--x--\r\n",
    },
    {
      name: "a single part is still well-formed",
      ranges: [{ start: 0, end: 26 }],
      type: "text/plain",
      boundary: "B",
      want: "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-25/26\r\n\r\nabcdefghijklmnopqrstuvwxyz\r\n--B--\r\n",
    },
    {
      name: "non-ASCII in the type is counted in bytes",
      ranges: [
        { start: 0, end: 2 },
        { start: 24, end: 26 },
      ],
      type: "text/x-caf\u00e9",
      boundary: "B",
      want:
        "--B\r\nContent-Type: text/x-caf\u00e9\r\nContent-Range: bytes 0-1/26\r\n\r\nab" +
        "\r\n--B\r\nContent-Type: text/x-caf\u00e9\r\nContent-Range: bytes 24-25/26\r\n\r\nyz\r\n--B--\r\n",
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const plan = planByteranges(row.ranges, FILE.length, row.type, row.boundary);
      const input = `planByteranges(${JSON.stringify(row.ranges)}, ${FILE.length}, ${JSON.stringify(row.type)}, ${row.boundary})`;
      const body = assemble(plan, FILE);
      assert.equal(body, row.want, `${input}: got body ${JSON.stringify(body)}, want ${JSON.stringify(row.want)}`);
      const bytes = new TextEncoder().encode(row.want).byteLength;
      assert.equal(plan.length, bytes, `${input}: got length ${plan.length}, want ${bytes}`);
      const wantType = `multipart/byteranges; boundary=${row.boundary}`;
      assert.equal(plan.contentType, wantType, `${input}: got contentType ${plan.contentType}, want ${wantType}`);
      assert.deepEqual(
        plan.parts.map((p) => p.range),
        row.ranges,
        `${input}: ranges changed`,
      );
    });
  }

  test("RFC 9110 §14.6 example layout", () => {
    const plan = planByteranges(
      [
        { start: 500, end: 1000 },
        { start: 7000, end: 8000 },
      ],
      8000,
      "application/pdf",
      "THIS_STRING_SEPARATES",
    );
    const heads = plan.parts.map((p) => decoder.decode(p.head));
    const want = [
      "--THIS_STRING_SEPARATES\r\nContent-Type: application/pdf\r\nContent-Range: bytes 500-999/8000\r\n\r\n",
      "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: application/pdf\r\nContent-Range: bytes 7000-7999/8000\r\n\r\n",
    ];
    assert.deepEqual(heads, want, `got heads ${JSON.stringify(heads)}, want ${JSON.stringify(want)}`);
    const tail = decoder.decode(plan.tail);
    assert.equal(tail, "\r\n--THIS_STRING_SEPARATES--\r\n", `got tail ${JSON.stringify(tail)}`);
    const wantLength = (want[0]?.length ?? 0) + 500 + (want[1]?.length ?? 0) + 1000 + tail.length;
    assert.equal(plan.length, wantLength, `got length ${plan.length}, want ${wantLength}`);
  });

  const bad: { name: string; ranges: ByteRange[]; boundary: string }[] = [
    { name: "empty boundary", ranges: [{ start: 0, end: 1 }], boundary: "" },
    { name: "boundary with a space", ranges: [{ start: 0, end: 1 }], boundary: "a b" },
    { name: "boundary with CRLF", ranges: [{ start: 0, end: 1 }], boundary: "a\r\nX-Injected: 1" },
    { name: "boundary needing quotes", ranges: [{ start: 0, end: 1 }], boundary: "a:b" },
    { name: "boundary of 71 characters", ranges: [{ start: 0, end: 1 }], boundary: "a".repeat(71) },
    { name: "no ranges", ranges: [], boundary: "B" },
  ];
  for (const row of bad) {
    test(`throws: ${row.name}`, () => {
      assert.throws(
        () => planByteranges(row.ranges, 26, "text/plain", row.boundary),
        RangeError,
        `planByteranges(${JSON.stringify(row.ranges)}, boundary ${JSON.stringify(row.boundary)}) should throw`,
      );
    });
  }

  test("a boundary of 70 characters is allowed", () => {
    const plan = planByteranges([{ start: 0, end: 1 }], 26, "text/plain", "a".repeat(70));
    assert.equal(plan.parts.length, 1, `got ${plan.parts.length} parts, want 1`);
  });
});

describe("newBoundary", () => {
  test("32 lower-case hex characters, usable by planByteranges", () => {
    const b = newBoundary();
    assert.match(b, /^[0-9a-f]{32}$/, `got ${b}`);
    assert.doesNotThrow(() => planByteranges([{ start: 0, end: 1 }], 1, "text/plain", b), `boundary ${b}`);
  });

  test("differs every time", () => {
    const seen = new Set(Array.from({ length: 100 }, () => newBoundary()));
    assert.equal(seen.size, 100, `got ${seen.size} distinct boundaries out of 100`);
  });
});
