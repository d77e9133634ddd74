/**
 * Path resolution under generated hostile targets: whatever the bytes, the result
 * is a normalised list of segments that stays inside the root, or bad-request,
 * never an exception; and it agrees with an independent reference decoder.
 */
import assert from "node:assert/strict";
import { isAbsolute, relative, resolve as resolvePath, sep } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  encodePathname,
  isInside,
  MAX_PATH_LENGTH,
  type PathOutcome,
  relativeSegments,
  resolveRequestPath,
} from "../../src/path/resolve.js";
import { hostilePath } from "./arbitraries.js";
import { runs } from "./settings.js";

const ROOT = "/srv/public";

/** The checks every `ok` outcome must pass; returns what is wrong, or undefined. */
function malformed(outcome: PathOutcome): string | undefined {
  if (outcome.kind === "bad-request") return typeof outcome.reason === "string" && outcome.reason !== "" ? undefined : "no reason";
  for (const s of outcome.segments) {
    if (s === "" || s === "." || s === "..") return `segment ${JSON.stringify(s)}`;
    if (/[/\0]/.test(s) || (process.platform === "win32" && s.includes("\\"))) return `separator or NUL inside ${JSON.stringify(s)}`;
    if (process.platform === "win32" && /[\x00-\x1f\x7f]/.test(s)) return `control character inside ${JSON.stringify(s)}`;
  }
  return undefined;
}

/**
 * A reference written the obvious way, with the platform's decoder: the
 * hand-written decoder in resolve.ts must agree with `decodeURIComponent`
 * (which also rejects bad `%`, overlong forms, surrogates and code points past
 * U+10FFFF) on every input.
 */
function reference(path: string): PathOutcome {
  const bad: PathOutcome = { kind: "bad-request", reason: "reference", problem: "syntax" };
  if (path.length > MAX_PATH_LENGTH || !path.startsWith("/")) return bad;
  for (const ch of path) if (ch <= " " || ch >= "\x7f") return bad;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return bad;
  }
  if (decoded.includes("\0") || path.includes("\\")) return bad;
  if (process.platform === "win32" && /[\x00-\x1f\x7f\\]/.test(decoded)) return bad;
  const parts = decoded.split("/").slice(1);
  const segments: string[] = [];
  let trailingSlash = true;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === "" || part === ".") {
      if (last) trailingSlash = true;
    } else if (part === "..") {
      if (segments.length === 0) return bad;
      segments.pop();
      if (last) trailingSlash = true;
    } else {
      segments.push(part);
      if (last) trailingSlash = false;
    }
  }
  return { kind: "ok", segments, trailingSlash };
}

describe("resolveRequestPath over hostile targets", () => {
  test("never throws; every ok result is a normalised segment list", () => {
    fc.assert(
      fc.property(hostilePath, (path) => {
        const outcome = resolveRequestPath(path);
        const problem = malformed(outcome);
        assert.equal(problem, undefined, `${JSON.stringify(path)}: ${problem}`);
      }),
      runs(3000),
    );
  });

  test("every ok result names a path inside the root", () => {
    fc.assert(
      fc.property(hostilePath, (path) => {
        const outcome = resolveRequestPath(path);
        if (outcome.kind !== "ok") return;
        const full = resolvePath(ROOT, ...outcome.segments);
        assert.ok(isInside(ROOT, full), `${JSON.stringify(path)} -> ${full}: outside ${ROOT}`);
        // The containment logic maps it back to exactly these segments.
        assert.deepEqual(relativeSegments(ROOT, full), outcome.segments, JSON.stringify(path));
      }),
      runs(3000),
    );
  });

  test("agrees with a reference decoder built on decodeURIComponent", () => {
    fc.assert(
      fc.property(hostilePath, (path) => {
        const got = resolveRequestPath(path);
        const want = reference(path);
        if (want.kind === "bad-request") {
          assert.equal(got.kind, "bad-request", `${JSON.stringify(path)}: got ${JSON.stringify(got)}, want bad-request`);
        } else {
          assert.deepEqual(got, want, `${JSON.stringify(path)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        }
      }),
      runs(3000),
    );
  });

  test("encoding the result and resolving again gives the same result", () => {
    fc.assert(
      fc.property(hostilePath, (path) => {
        const outcome = resolveRequestPath(path);
        if (outcome.kind !== "ok") return;
        const encoded = encodePathname(outcome.segments, outcome.trailingSlash);
        assert.ok(!encoded.startsWith("//") && !encoded.includes("\\"), `${JSON.stringify(encoded)} could leave the origin`);
        if (encoded.length > MAX_PATH_LENGTH) return; // encoding can grow a path past the limit
        assert.deepEqual(
          resolveRequestPath(encoded),
          { ...outcome, trailingSlash: outcome.trailingSlash || outcome.segments.length === 0 },
          JSON.stringify(path),
        );
      }),
      runs(2000),
    );
  });
});

describe("isInside", () => {
  // Names chosen so that prefixes collide: sirv's startsWith(dir) let `/srv/a-old`
  // pass for `/srv/a`.
  const name = fc.constantFrom("a", "ab", "a-old", "a.b", "b", "a b");
  const dir = fc.array(name, { maxLength: 4 }).map((s) => (s.length === 0 ? sep : sep + s.join(sep)));

  test("agrees with path.relative on every pair of canonical paths", () => {
    fc.assert(
      // Both canonical, as realpath returns them: no trailing separator except the root `/`.
      fc.property(dir, dir, (r, candidate) => {
        const root = r;
        const rel = relative(root, candidate);
        const want = rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
        assert.equal(isInside(r, candidate), want, `isInside(${r}, ${candidate}): got ${!want}, want ${want}`);
        if (want) assert.deepEqual(relativeSegments(r, candidate), rel === "" ? [] : rel.split(sep));
      }),
      runs(2000),
    );
  });
});
