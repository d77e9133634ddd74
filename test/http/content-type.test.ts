import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { contentTypeFor, DEFAULT_TYPE, isTextType } from "../../src/http/content-type.js";

const UTF8 = "; charset=utf-8";

describe("contentTypeFor", () => {
  const rows: ReadonlyArray<readonly [name: string, want: string]> = [
    ["index.html", `text/html${UTF8}`],
    ["INDEX.HTM", `text/html${UTF8}`],
    ["style.css", `text/css${UTF8}`],
    ["notes.txt", `text/plain${UTF8}`],
    ["data.csv", `text/csv${UTF8}`],
    ["app.js", `text/javascript${UTF8}`],
    ["module.mjs", `text/javascript${UTF8}`],
    ["legacy.cjs", `text/javascript${UTF8}`],
    ["app.js.map", `application/json${UTF8}`],
    ["data.json", `application/json${UTF8}`],
    ["site.webmanifest", `application/manifest+json${UTF8}`],
    ["linked.jsonld", `application/ld+json${UTF8}`],
    ["map.geojson", `application/geo+json${UTF8}`],
    ["feed.xml", `application/xml${UTF8}`],
    ["page.xhtml", `application/xhtml+xml${UTF8}`],
    ["feed.atom", `application/atom+xml${UTF8}`],
    ["logo.svg", `image/svg+xml${UTF8}`],
    ["README.md", `text/markdown${UTF8}`],
    ["Guide.MARKDOWN", `text/markdown${UTF8}`],
    ["module.wasm", "application/wasm"],
    ["archive.gz", "application/gzip"],
    ["archive.tar.gz", "application/gzip"],
    ["app.js.gz", "application/gzip"],
    ["photo.png", "image/png"],
    ["photo.JPG", "image/jpeg"],
    ["clip.mp4", "video/mp4"],
    ["font.woff2", "font/woff2"],
    ["doc.pdf", "application/pdf"],
    ["bundle.zip", "application/zip"],
    ["Makefile", DEFAULT_TYPE],
    [".bashrc", DEFAULT_TYPE],
    [".env.json", `application/json${UTF8}`],
    ["trailing-dot.", DEFAULT_TYPE],
    ["", DEFAULT_TYPE],
    ["weird.unknownext", DEFAULT_TYPE],
    ["proto.constructor", DEFAULT_TYPE],
    ["proto.__proto__", DEFAULT_TYPE],
    ["a b #?%.txt", `text/plain${UTF8}`],
    ["<script>.html", `text/html${UTF8}`],
    ["café.HTML", `text/html${UTF8}`],
  ];
  for (const [name, want] of rows) {
    test(JSON.stringify(name), () => {
      const got = contentTypeFor(name);
      assert.equal(got, want, `contentTypeFor(${JSON.stringify(name)}): got ${got}, want ${want}`);
      // Memoised answers must equal fresh ones.
      const again = contentTypeFor(name);
      assert.equal(again, want, `contentTypeFor(${JSON.stringify(name)}) second call: got ${again}, want ${want}`);
    });
  }

  test("memo stays correct past its bound", () => {
    for (let i = 0; i < 2500; i++) contentTypeFor(`f.x${i}`);
    const got = contentTypeFor("index.html");
    assert.equal(got, `text/html${UTF8}`, `after 2500 distinct extensions: got ${got}`);
  });
});

describe("isTextType", () => {
  const rows: ReadonlyArray<readonly [type: string, want: boolean]> = [
    ["text/plain", true],
    ["TEXT/HTML", true],
    ["text/html; charset=utf-8", true],
    ["text/x-anything", true],
    ["application/json", true],
    ["application/javascript", true],
    ["application/xml", true],
    ["application/xhtml+xml", true],
    ["application/manifest+json", true],
    ["application/problem+json", true],
    ["application/rss+xml", true],
    ["image/svg+xml", true],
    ["application/octet-stream", false],
    ["application/gzip", false],
    ["application/wasm", false],
    ["image/png", false],
    ["video/mp4", false],
    ["application/jsonx", false],
    ["", false],
  ];
  for (const [type, want] of rows) {
    test(JSON.stringify(type), () => {
      const got = isTextType(type);
      assert.equal(got, want, `isTextType(${JSON.stringify(type)}): got ${got}, want ${want}`);
    });
  }
});
