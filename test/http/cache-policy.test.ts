import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cachePolicy, IMMUTABLE, isFingerprinted, parseCacheRule } from "../../src/http/cache-policy.js";
import { isCompressible } from "../../src/http/compressible.js";

describe("isFingerprinted", () => {
  const rows: [string, boolean][] = [
    ["app.3f9a1c2b.js", true], // webpack
    ["chunk-5FJ2KQ.css", true], // esbuild
    ["index-BnTyl0vD.js", true], // vite
    ["main.3f9a1c2b3f9a1c2b3f9a.css", true],
    ["styles.css", false],
    ["index.html", false],
    ["photo-20240101.jpg", false], // a date, not a hash
    ["jquery-3.7.1.min.js", false],
    ["react-dom.production.min.js", false],
    ["font-awesome-4.7.0.css", false],
    ["report-final.pdf", false],
    ["a1b2c.js", false], // too short
  ];
  for (const [name, want] of rows) {
    test(name, () => assert.equal(isFingerprinted(name), want, `isFingerprinted(${name}): got ${!want}, want ${want}`));
  }
});

describe("cachePolicy", () => {
  const policy = cachePolicy(
    [
      { glob: "*.png", value: 3600 },
      { glob: "assets/**", value: "no-store" },
    ],
    "no-cache",
  );
  const rows: [string, string][] = [
    ["index.html", "no-cache"],
    ["img/logo.png", "public, max-age=3600"],
    ["logo.png", "public, max-age=3600"],
    ["assets/app.3f9a1c2b.js", "no-store"], // rules come first
    ["js/app.3f9a1c2b.js", IMMUTABLE],
    ["js/app.js", "no-cache"],
  ];
  for (const [path, want] of rows) {
    test(path, () => assert.equal(policy(path), want, `policy(${path})`));
  }
  test("invalid values are refused when compiled", () => {
    assert.throws(() => cachePolicy([{ glob: "*", value: "a\r\nb" }], "no-cache"), RangeError);
    assert.throws(() => cachePolicy([{ glob: "*", value: -1 }], "no-cache"), RangeError);
  });
  test("parseCacheRule", () => {
    assert.deepEqual(parseCacheRule("*.png=3600"), { glob: "*.png", value: 3600 });
    assert.deepEqual(parseCacheRule("*.html=max-age=60, must-revalidate"), { glob: "*.html", value: "max-age=60, must-revalidate" });
    assert.equal(parseCacheRule("=3600"), undefined);
    assert.equal(parseCacheRule("*.png="), undefined);
    assert.equal(parseCacheRule("nothing"), undefined);
  });
});

describe("isCompressible", () => {
  const rows: [string, boolean][] = [
    ["text/html; charset=utf-8", true],
    ["text/javascript; charset=utf-8", true],
    ["application/json; charset=utf-8", true],
    ["image/svg+xml; charset=utf-8", true],
    ["application/wasm", true],
    ["font/ttf", true],
    ["application/vnd.custom+json", true],
    ["font/woff2", false],
    ["image/png", false],
    ["image/jpeg", false],
    ["video/mp4", false],
    ["application/gzip", false],
    ["application/zip", false],
    ["application/octet-stream", false],
  ];
  for (const [type, want] of rows) {
    test(type, () => assert.equal(isCompressible(type), want, `isCompressible(${type})`));
  }
});
