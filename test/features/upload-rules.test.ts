/**
 * Uploads, the pure decisions (src/features/upload/rules.ts): names, targets,
 * conflict names, the cross-origin check, options. No file system, no socket.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  crossOriginCheck,
  declaredLength,
  inUploadArea,
  isLoopback,
  nameProblem,
  renamed,
  type UploadSettings,
  uploadSettings,
  writeTarget,
} from "../../src/features/upload/rules.js";
import { isUploadTemp } from "../../src/path/visibility.js";

describe("nameProblem: one segment, never a path", () => {
  const ROWS: [string, boolean, boolean][] = [
    // [name, dotfiles allowed, acceptable]
    ["a.txt", false, true],
    ["été (1).txt", false, true],
    ["a b#?%.txt", false, true],
    ["", false, false],
    [".", true, false],
    ["..", true, false],
    ["a/b", false, false],
    ["a\\b", false, false],
    ["a\u0000b", false, false],
    ["a\nb", false, false],
    ["a\u007fb", false, false],
    ["a\u0085b", false, false], // C1: NEL
    ["a\u009bb", false, false], // C1: CSI
    ["a\u2028b", false, false], // line separator
    ["photo\u202egnp.exe", false, false], // right-to-left override
    ["a\u2066b", false, false], // left-to-right isolate
    ["a\u00a0b", false, true], // a no-break space is a character
    ["\u05e9\u05dc\u05d5\u05dd.txt", false, true], // Hebrew needs no override
    [".env", false, false],
    [".env", true, true],
    [".wharf-upload-abc", true, false],
    ["x".repeat(255), false, true],
    ["x".repeat(256), false, false],
    ["é".repeat(128), false, false], // 256 bytes
  ];
  for (const [name, dotfiles, ok] of ROWS) {
    test(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)} dotfiles=${dotfiles}`, () => {
      const got = nameProblem(name, dotfiles);
      assert.equal(got === undefined, ok, `got ${got}, want ${ok ? "acceptable" : "a problem"}`);
    });
  }
});

const settings = (o: Partial<UploadSettings> = {}): UploadSettings => ({
  areas: [[]],
  mkdir: false,
  delete: false,
  onConflict: "error",
  maxSize: 100,
  accounts: [],
  anonymous: false,
  ...o,
});

describe("writeTarget", () => {
  const ROWS: { name: string; path: string; method: string; s?: Partial<UploadSettings>; dotfiles?: boolean; want: unknown }[] = [
    { name: "PUT a file", path: "/dir/a.txt", method: "PUT", want: { kind: "file", parent: ["dir"], name: "a.txt" } },
    { name: "PUT an encoded name", path: "/a%20b%23.txt", method: "PUT", want: { kind: "file", parent: [], name: "a b#.txt" } },
    { name: "POST to a directory", path: "/dir/", method: "POST", want: { kind: "directory", segments: ["dir"] } },
    { name: "POST to the root", path: "/", method: "POST", want: { kind: "directory", segments: [] } },
    {
      name: "POST without the slash",
      path: "/dir",
      method: "POST",
      want: { kind: "refused", status: 400, reason: "POST to a directory, with its slash" },
    },
    {
      name: "PUT to a directory URL",
      path: "/dir/",
      method: "PUT",
      want: { kind: "refused", status: 400, reason: "PUT needs a file name" },
    },
    {
      name: "traversal above the root",
      path: "/../etc/passwd",
      method: "PUT",
      want: { kind: "refused", status: 400, reason: "a malformed path" },
    },
    { name: "encoded traversal", path: "/%2e%2e/x", method: "PUT", want: { kind: "refused", status: 400, reason: "a malformed path" } },
    { name: "a NUL", path: "/a%00b", method: "PUT", want: { kind: "refused", status: 400, reason: "a malformed path" } },
    {
      name: "a control character",
      path: "/a%0Ab",
      method: "PUT",
      want: { kind: "refused", status: 400, reason: "a separator or control character in the name" },
    },
    {
      name: "an encoded backslash",
      path: "/a%5Cb",
      method: "PUT",
      want: { kind: "refused", status: 400, reason: "a separator or control character in the name" },
    },
    {
      name: "a dotfile",
      path: "/.env",
      method: "PUT",
      want: { kind: "refused", status: 400, reason: "a dotfile (--dotfiles allows them)" },
    },
    {
      name: "into a dot-directory",
      path: "/.git/config",
      method: "PUT",
      want: { kind: "refused", status: 403, reason: "a dot-directory" },
    },
    { name: "a dotfile with --dotfiles", path: "/.env", method: "PUT", dotfiles: true, want: { kind: "file", parent: [], name: ".env" } },
    {
      name: "outside the areas",
      path: "/public/a",
      method: "PUT",
      s: { areas: [["inbox"]] },
      want: { kind: "refused", status: 403, reason: "not an upload directory" },
    },
    {
      name: "a sibling with the area's prefix",
      path: "/inbox-old/a",
      method: "PUT",
      s: { areas: [["inbox"]] },
      want: { kind: "refused", status: 403, reason: "not an upload directory" },
    },
    {
      name: "below an area",
      path: "/inbox/x/a",
      method: "PUT",
      s: { areas: [["inbox"]] },
      want: { kind: "file", parent: ["inbox", "x"], name: "a" },
    },
  ];
  for (const row of ROWS) {
    test(row.name, () => assert.deepEqual(writeTarget(row.path, row.method, settings(row.s), row.dotfiles ?? false), row.want));
  }
});

describe("renamed", () => {
  const ROWS: [string, number, string][] = [
    ["photo.jpg", 1, "photo (1).jpg"],
    ["archive.tar.gz", 2, "archive.tar (2).gz"],
    ["README", 1, "README (1)"],
    [".env", 1, ".env (1)"],
  ];
  for (const [name, n, want] of ROWS) test(`${name} #${n}`, () => assert.equal(renamed(name, n), want));
});

describe("crossOriginCheck (CSRF)", () => {
  const ROWS: [string, string | undefined, string | undefined, string | undefined, "same-origin" | "cross-origin"][] = [
    ["curl: neither header", undefined, undefined, "h:1", "same-origin"],
    ["Sec-Fetch-Site same-origin", "same-origin", "http://h:1", "h:1", "same-origin"],
    ["Sec-Fetch-Site none (typed in)", "none", undefined, "h:1", "same-origin"],
    ["Sec-Fetch-Site cross-site", "cross-site", "http://evil.example", "h:1", "cross-origin"],
    ["Sec-Fetch-Site same-site", "same-site", "http://a.h", "b.h", "cross-origin"],
    ["Sec-Fetch-Site wins over a matching Origin", "cross-site", "http://h:1", "h:1", "cross-origin"],
    ["Origin equal to the served origin", undefined, "http://h:1", "h:1", "same-origin"],
    ["Origin over https", undefined, "https://h:1", "h:1", "same-origin"],
    ["Origin of another port", undefined, "http://h:2", "h:1", "cross-origin"],
    ["Origin null (sandboxed frame, file:)", undefined, "null", "h:1", "cross-origin"],
    ["Origin without Host", undefined, "http://h:1", undefined, "cross-origin"],
  ];
  for (const [name, site, origin, host, want] of ROWS) {
    test(name, () => assert.equal(crossOriginCheck(site, origin, host).kind, want));
  }
});

describe("uploadSettings", () => {
  test("off by default: undefined", () => assert.equal(uploadSettings({}), undefined));
  test("true: the whole tree, every default", () =>
    assert.deepEqual(uploadSettings({ upload: true }), {
      areas: [[]],
      mkdir: false,
      delete: false,
      onConflict: "error",
      maxSize: 1024 ** 3,
      accounts: [],
      anonymous: false,
    }));
  test("paths become segments; 0 lifts the limit", () => {
    const s = uploadSettings({ upload: ["/in box/", "/b/c"], uploadMaxSize: 0 })!;
    assert.deepEqual(s.areas, [["in box"], ["b", "c"]]);
    assert.equal(s.maxSize, Number.POSITIVE_INFINITY);
  });
  const BAD: [string, object, RegExp][] = [
    ["mkdir without upload", { mkdir: true }, /needs upload/],
    ["uploadAuth without upload", { uploadAuth: "a:b" }, /needs upload/],
    ["a relative path", { upload: "inbox" }, /URL path/],
    ["an empty list", { upload: [] }, /must be/],
    ["a bad mode", { upload: true, onConflict: "replace" }, /must be one of error, rename, overwrite/],
    ["a negative size", { upload: true, uploadMaxSize: -1 }, /whole number/],
    ["an account without a colon", { upload: true, uploadAuth: "admin" }, /user:password/],
  ];
  for (const [name, o, message] of BAD) test(`refused: ${name}`, () => assert.throws(() => uploadSettings(o), message));
  test("a colon in the password is kept", () =>
    assert.deepEqual(uploadSettings({ upload: true, uploadAuth: "me:a:b:c" })!.accounts, ["me:a:b:c"]));
});

describe("the rest", () => {
  test("inUploadArea is segment by segment", () => {
    assert.equal(inUploadArea([["up"]], ["upload"]), false);
    assert.equal(inUploadArea([["up"]], ["up", "x"]), true);
    assert.equal(inUploadArea([[]], []), true);
  });
  test("declaredLength", () => {
    assert.deepEqual(declaredLength("101", 100), { kind: "too-large", length: 101 });
    assert.deepEqual(declaredLength("100", 100), { kind: "ok", length: 100 });
    assert.deepEqual(declaredLength(undefined, 100), { kind: "ok", length: undefined });
  });
  test("isLoopback", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) assert.equal(isLoopback(a), true, a);
    for (const a of ["10.0.0.1", "::ffff:192.168.1.2", "fe80::1", undefined]) assert.equal(isLoopback(a), false, String(a));
  });
  test("isUploadTemp: only a last segment with the prefix", () => {
    assert.equal(isUploadTemp("/srv/.wharf-upload-abc"), true);
    assert.equal(isUploadTemp("C:\\srv\\.wharf-upload-abc"), true);
    assert.equal(isUploadTemp("/srv/.wharf-upload-abc/x"), false);
    assert.equal(isUploadTemp("/srv/a.wharf-upload-abc"), false);
    assert.equal(isUploadTemp("/srv/file"), false);
  });
});
