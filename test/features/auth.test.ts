/**
 * Basic authentication: header parsing, htpasswd files as Apache's own htpasswd
 * writes them, and the middleware (challenge, success, caching rules).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseBasic, privateCacheControl } from "../../src/features/auth.js";
import { parseHtpasswd } from "../../src/features/htpasswd.js";
import { checkPassword } from "../../src/features/password-hash.js";
import { handlerFor, runRows } from "./support.js";

// Written by Apache's htpasswd 2.4.71: `-cbB -C 5 bee b-pass`, `-bm apr a:pass`,
// `-bs sha 'söme pass'`, `-bp plain x`, `-bd des x`.
const HTPASSWD = [
  "# made by htpasswd",
  "bee:$2y$05$Y8SwRTDGTeqIEw0CfcFWDeHTzp1qAVohffBfAS2hOoXFaa/D79fFm",
  "apr:$apr1$B98NqLBx$kNb/f9Q2HPsvYTwH0KAm.0",
  "sha:{SHA}lkdQfQhFgU2CdvHc5IY7mmK0fAI=",
  "",
].join("\n");
const PLAIN_LINE = "plain:x";
const DES_LINE = "des:cbHhTmZHwxlno";

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;

describe("parseBasic", () => {
  test("user:password", () => assert.deepEqual(parseBasic(basic("me", "pw")), { user: "me", password: "pw" }));
  test("the password may hold colons", () => assert.deepEqual(parseBasic(basic("me", "a:b:c")), { user: "me", password: "a:b:c" }));
  test("UTF-8", () => assert.deepEqual(parseBasic(basic("zoë", "pässwörd")), { user: "zoë", password: "pässwörd" }));
  test("the scheme is case-insensitive", () =>
    assert.deepEqual(parseBasic(`bAsIc ${Buffer.from("a:b").toString("base64")}`), { user: "a", password: "b" }));
  for (const bad of [
    undefined,
    "Bearer abc",
    "Basic",
    "Basic !!!",
    `Basic ${Buffer.from("nocolon").toString("base64")}`,
    `Basic ${Buffer.from([0x61, 0x3a, 0xff]).toString("base64")}`,
  ]) {
    test(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseBasic(bad), undefined));
  }
});

describe("htpasswd", () => {
  const parsed = parseHtpasswd(HTPASSWD);
  assert.equal(parsed.kind, "ok");
  const users = parsed.kind === "ok" ? parsed.users : new Map();
  const rows: [string, string, boolean][] = [
    ["bee", "b-pass", true],
    ["bee", "b-pasS", false],
    ["apr", "a:pass", true],
    ["apr", "a:pas", false],
    ["sha", "söme pass", true],
    ["sha", "some pass", false],
  ];
  for (const [user, password, want] of rows) {
    test(`${user} / ${JSON.stringify(password)} → ${want}`, () => assert.equal(checkPassword(password, users.get(user)!), want));
  }
  test("plain text is refused, with its line", () => {
    const r = parseHtpasswd(`${HTPASSWD}${PLAIN_LINE}\n`);
    assert.equal(r.kind, "error");
    assert.equal(r.kind === "error" && r.line, 5);
  });
  test("crypt(3) DES is refused", () => assert.equal(parseHtpasswd(DES_LINE).kind, "error"));
  test("a duplicate user is refused", () => assert.equal(parseHtpasswd(`${HTPASSWD}bee:{SHA}lkdQfQhFgU2CdvHc5IY7mmK0fAI=`).kind, "error"));
  test("an empty file is refused", () => assert.equal(parseHtpasswd("# nothing\n").kind, "error"));
});

describe("privateCacheControl", () => {
  test("public → private", () =>
    assert.equal(privateCacheControl("public, max-age=31536000, immutable"), "private, max-age=31536000, immutable"));
  test("no-cache unchanged", () => assert.equal(privateCacheControl("no-cache"), "no-cache"));
});

const dir = mkdtempSync(join(tmpdir(), "wharf-auth-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, ".htpasswd");
writeFileSync(file, HTPASSWD);

const tree = { "nums.txt": "123456789", "app.3f9a1c2b.js": "export {};" };
const CHALLENGE = 'Basic realm="wharf", charset="UTF-8"';

describe("auth: user:password", () => {
  runRows(handlerFor(tree, { auth: "me:s3cret:x" }), [
    {
      name: "no credentials: 401 with the challenge",
      path: "/nums.txt",
      status: 401,
      want: { "www-authenticate": CHALLENGE, "cache-control": "no-store" },
      body: /401 Unauthorized/,
    },
    { name: "right credentials", path: "/nums.txt", headers: { authorization: basic("me", "s3cret:x") }, status: 200, body: "123456789" },
    { name: "wrong password", path: "/nums.txt", headers: { authorization: basic("me", "s3cret") }, status: 401 },
    { name: "wrong user", path: "/nums.txt", headers: { authorization: basic("you", "s3cret:x") }, status: 401 },
    { name: "a missing file is 404 only once signed in", path: "/nope", headers: { authorization: basic("me", "s3cret:x") }, status: 404 },
    { name: "a missing file is 401 before", path: "/nope", status: 401 },
    {
      name: "fingerprinted assets become private",
      path: "/app.3f9a1c2b.js",
      headers: { authorization: basic("me", "s3cret:x") },
      status: 200,
      want: { "cache-control": "private, max-age=31536000, immutable" },
    },
  ]);
});

describe("auth: an htpasswd file, and a realm", () => {
  runRows(handlerFor(tree, { authFile: file, auth: { realm: "staging" } }), [
    { name: "bcrypt", path: "/nums.txt", headers: { authorization: basic("bee", "b-pass") }, status: 200 },
    { name: "apr1", path: "/nums.txt", headers: { authorization: basic("apr", "a:pass") }, status: 200 },
    { name: "SHA", path: "/nums.txt", headers: { authorization: basic("sha", "söme pass") }, status: 200 },
    {
      name: "a wrong bcrypt password",
      path: "/nums.txt",
      headers: { authorization: basic("bee", "nope") },
      status: 401,
      want: { "www-authenticate": 'Basic realm="staging", charset="UTF-8"' },
    },
    { name: "an unknown user", path: "/nums.txt", headers: { authorization: basic("nobody", "b-pass") }, status: 401 },
  ]);
});

describe("auth option checks", () => {
  const code = (want: string) => (e: Error & { code?: string }) => e.code === want;
  test("user:password needs a colon", () => assert.throws(() => handlerFor(tree, { auth: "nopassword" }), code("WHARF_INVALID_AUTH")));
  test("a missing file names itself", () =>
    assert.throws(
      () => handlerFor(tree, { authFile: join(dir, "missing") }),
      (e: Error & { code?: string }) => e.code === "WHARF_INVALID_AUTH_FILE" && e.message.includes("missing"),
    ));
  test("a bad line names the line", () => {
    const bad = join(dir, "bad");
    writeFileSync(bad, `ok:{SHA}lkdQfQhFgU2CdvHc5IY7mmK0fAI=\n${DES_LINE}\n`);
    assert.throws(
      () => handlerFor(tree, { authFile: bad }),
      (e: Error) => e.message.includes(`${bad}:2:`),
    );
  });
  test("a realm with a quote", () =>
    assert.throws(() => handlerFor(tree, { auth: { users: ["a:b"], realm: 'x"y' } }), code("WHARF_INVALID_AUTH")));
});
