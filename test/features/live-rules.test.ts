/**
 * The pure decisions of `--live` (src/features/live): where the tag goes, the
 * nonce it takes, its ETag, what a batch of changes means, and the Host and
 * Origin checks. Tables, each row named; failures echo the input.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { eventFor } from "../../src/features/live/batch.js";
import { hostDecision, hostEntryProblem, hostList, originDecision, parseAuthority } from "../../src/features/live/hosts.js";
import { cspNonce, HEAD_WINDOW, inject, injectedTag, injectionPoint, scriptTag } from "../../src/features/live/inject.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

describe("live: where the tag goes", () => {
  const pad = "x".repeat(HEAD_WINDOW);
  const rows: { name: string; page: string; kind: string; at: number }[] = [
    { name: "before </head>", page: "<html><head><title>t</title></head><body></body></html>", kind: "head", at: 28 },
    { name: "</HEAD> in capitals", page: "<HEAD></HEAD><BODY></BODY>", kind: "head", at: 6 },
    {
      name: "</head> past 64 KiB: before the last </body>",
      page: `<head>${pad}</head><body></body><!-- </body> --></body>`,
      kind: "body",
      at: 6 + pad.length + 7 + 6 + 7 + 16,
    },
    { name: "no </head>: before the last </body>", page: "<p>a</body>b</body>", kind: "body", at: 12 },
    { name: "fragment: at the end", page: "<p>hello</p>", kind: "end", at: 12 },
    { name: "empty page: at the end", page: "", kind: "end", at: 0 },
    {
      name: "</head> starting at 64 KiB - 1 still counts",
      page: `${"y".repeat(HEAD_WINDOW - 1)}</head>`,
      kind: "head",
      at: HEAD_WINDOW - 1,
    },
    { name: "</head> starting at 64 KiB does not", page: `${"y".repeat(HEAD_WINDOW)}</head>`, kind: "end", at: HEAD_WINDOW + 7 },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = injectionPoint(bytes(row.page));
      assert.deepEqual(got, { kind: row.kind, index: row.at }, `page ${JSON.stringify(row.page.slice(0, 40))}...`);
      const out = str(inject(bytes(row.page), bytes("<T>")));
      assert.equal(out, `${row.page.slice(0, row.at)}<T>${row.page.slice(row.at)}`);
    });
  }
});

describe("live: the nonce from a CSP header", () => {
  const rows: { name: string; csp: string | undefined; want: string | undefined }[] = [
    { name: "none", csp: undefined, want: undefined },
    { name: "script-src nonce", csp: "script-src 'self' 'nonce-abc123=='", want: "abc123==" },
    { name: "default-src nonce", csp: "default-src 'nonce-Zm9v'", want: "Zm9v" },
    { name: "script-src wins over default-src", csp: "default-src 'nonce-a'; script-src 'nonce-b'", want: "b" },
    { name: "script-src-elem first", csp: "script-src 'nonce-b'; script-src-elem 'nonce-c'", want: "c" },
    { name: "'self' only", csp: "script-src 'self'", want: undefined },
    { name: "a nonce with a quote is not one", csp: "script-src 'nonce-a\"b'", want: undefined },
    { name: "second policy", csp: "img-src *, script-src 'nonce-q'", want: "q" },
  ];
  for (const row of rows) test(row.name, () => assert.equal(cspNonce(row.csp), row.want, `csp ${row.csp}`));
  test("the tag carries the nonce, and never an unsafe one", () => {
    assert.equal(scriptTag("/__wharf/live.js?v=abc", "n0"), '<script src="/__wharf/live.js?v=abc" defer nonce="n0"></script>');
    assert.equal(scriptTag("/__wharf/live.js", '"><x'), '<script src="/__wharf/live.js" defer></script>');
  });
});

describe("live: the ETag of an injected page", () => {
  test("a tag of its own, weakness kept, changes with the script tag", () => {
    const a = injectedTag('"abc"', "<script a>");
    assert.match(a!, /^"abc\.live-[A-Za-z0-9_-]{8}"$/);
    assert.notEqual(a, '"abc"');
    assert.notEqual(a, injectedTag('"abc"', "<script b>"));
    assert.match(injectedTag('W/"abc"', "t")!, /^W\/"abc\.live-/);
    assert.equal(injectedTag("garbage", "t"), undefined);
    assert.equal(injectedTag(undefined, "t"), undefined);
  });
});

describe("live: what a batch means", () => {
  const rows: { name: string; paths: string[]; overflow?: boolean; want: unknown }[] = [
    { name: "stylesheets only: css", paths: ["/b.css", "/a.CSS"], want: { kind: "css", paths: ["/a.CSS", "/b.css"] } },
    { name: "a stylesheet and a page: reload", paths: ["/a.css", "/index.html"], want: { kind: "reload" } },
    { name: "a directory: reload", paths: ["/css"], want: { kind: "reload" } },
    { name: "too many paths: reload", paths: ["/a.css"], overflow: true, want: { kind: "reload" } },
    {
      name: "stylesheets whose paths pass 16 KiB: reload",
      paths: Array.from({ length: 60 }, (_, i) => `/${"d".repeat(300)}/${i}.css`),
      want: { kind: "reload" },
    },
    { name: "one stylesheet path of 20,000 bytes: reload", paths: [`/${"é".repeat(10_000)}.css`], want: { kind: "reload" } },
  ];
  for (const row of rows) test(row.name, () => assert.deepEqual(eventFor(new Set(row.paths), row.overflow ?? false), row.want));
});

describe("live: Host allow-list", () => {
  const list = hostList(["dev.example", "*.preview.test", "myhost"]);
  const rows: { host: string | undefined; want: string }[] = [
    { host: "localhost:8000", want: "allowed" },
    { host: "LOCALHOST", want: "allowed" },
    { host: "app.localhost:3000", want: "allowed" },
    { host: "localhost.:8000", want: "allowed" },
    { host: "127.0.0.1:8000", want: "allowed" },
    { host: "[::1]:8000", want: "allowed" },
    { host: "192.168.1.20", want: "allowed" },
    { host: "dev.example", want: "allowed" },
    { host: "a.preview.test:443", want: "allowed" },
    { host: "myhost:8000", want: "allowed" },
    { host: undefined, want: "allowed" },
    { host: "evil.example:8000", want: "refused" },
    { host: "preview.test", want: "refused" },
    { host: "localhost.evil.example", want: "refused" },
    { host: "127.0.0.1.nip.io", want: "refused" },
    { host: "", want: "malformed" },
    { host: "a b", want: "malformed" },
    { host: "[::1", want: "malformed" },
    { host: "[::1]x", want: "malformed" },
    { host: "[zz]:80", want: "malformed" },
    { host: "host:port", want: "malformed" },
    { host: "host:123456", want: "malformed" },
    { host: "a..b", want: "malformed" },
    { host: "user@host", want: "malformed" },
    { host: "évil.example", want: "malformed" },
    { host: "x".repeat(300), want: "malformed" },
    // Odd forms a rebinding page or a raw client may send.
    { host: "[fe80::1%25eth0]:8000", want: "allowed" },
    { host: "[::ffff:127.0.0.1]", want: "allowed" },
    { host: "A.PREVIEW.TEST.:8000", want: "allowed" },
    { host: "127.0.0.1.", want: "refused" },
    { host: "2130706433", want: "refused" },
    { host: "0x7f.0.0.1", want: "refused" },
    { host: "xn--80ak6aa92e.com", want: "refused" },
    { host: "evil.example.", want: "refused" },
    { host: "localhost:", want: "malformed" },
    { host: "localhost:80:80", want: "malformed" },
    { host: "localhost%00", want: "malformed" },
    { host: "[]", want: "malformed" },
  ];
  for (const row of rows) {
    test(`${JSON.stringify(row.host)}: ${row.want}`, () => assert.equal(hostDecision(list, row.host).kind, row.want, `Host ${row.host}`));
  }
  test("all turns the check off", () => assert.equal(hostDecision(hostList(["all"]), "evil.example").kind, "allowed"));
  test("the refusal names the host", () =>
    assert.deepEqual(hostDecision(list, "Evil.Example:1"), { kind: "refused", name: "evil.example" }));
  test("operator entries are checked", () => {
    assert.equal(hostEntryProblem("*.example.com"), undefined);
    assert.equal(hostEntryProblem("all"), undefined);
    assert.match(hostEntryProblem("a b")!, /not a host name/);
    assert.equal(parseAuthority("[::1]:80")?.ip, true);
  });
});

describe("live: same-origin check of the live routes", () => {
  const rows: { name: string; origin?: string; host?: string; site?: string; want: string }[] = [
    { name: "no Origin (curl)", host: "localhost:8000", want: "same-origin" },
    { name: "same origin", origin: "http://localhost:8000", host: "localhost:8000", want: "same-origin" },
    { name: "same origin, default port", origin: "https://dev.example", host: "dev.example:443", want: "same-origin" },
    { name: "another port", origin: "http://localhost:9000", host: "localhost:8000", want: "cross-site" },
    { name: "another site", origin: "https://evil.example", host: "localhost:8000", want: "cross-site" },
    { name: "null origin", origin: "null", host: "localhost:8000", want: "cross-site" },
    { name: "Sec-Fetch-Site cross-site without Origin", host: "localhost:8000", site: "cross-site", want: "cross-site" },
    { name: "malformed: no scheme", origin: "localhost:8000", host: "localhost:8000", want: "malformed" },
    { name: "malformed: a path", origin: "http://localhost:8000/x", host: "localhost:8000", want: "malformed" },
    { name: "malformed: spaces", origin: "http://a b", host: "localhost:8000", want: "malformed" },
  ];
  for (const row of rows) test(row.name, () => assert.equal(originDecision(row.origin, row.host, row.site).kind, row.want));
});
