/**
 * Issue 16 items 1, 3 and 4: `--qr` in the terminal, `--expire`, and `wharf
 * share` — the preset, the flags that override it, and a banner that says who
 * can reach what. The terminal's QR code is drawn into an image as a dark
 * terminal draws it and read back with zbarimg.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseCommandLine } from "../../src/cli/flags.js";
import { expiryLines, humanDuration, localTime, SHARE_PRESET, shareArgs, shareLines, uploadAudience } from "../../src/cli/share.js";
import { duration } from "../../src/config/registry.js";
import { qrMatrix, qrText } from "../../src/core/qr.js";
import { isPrivateAddress, lanAddress } from "../../src/server/lan.js";
import { serve } from "../../src/server/serve.js";
import { runCli, startCli } from "../helpers/cli.js";
import { decodeQr, halfBlocksToPgm, skipWithoutZbar } from "../helpers/qr.js";
import { within } from "../helpers/wait.js";

/**
 * The banner's expiry line: the time, and the date before it when the expiry
 * falls on another day (a run at 23:00 stops at tomorrow's 00:30).
 */
const STOPS_AT = (within: string): RegExp =>
  new RegExp(`\\n {2}stops at (?:\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d \\(in ${within}\\)\\n`);

const dir = mkdtempSync(join(tmpdir(), "wharf-share-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "photo.txt"), "123456789");

describe("--expire DURATION", () => {
  const rows: [string, number | string][] = [
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["1d2h3m4s", 93_784_000],
    ["24d", 2_073_600_000],
    ["10", "must be a duration like 90s, 30m, 1h or 1h30m (d, h, m, s), or never"],
    ["", "must be a duration like 90s, 30m, 1h or 1h30m (d, h, m, s), or never"],
    ["1m1h", "must be a duration like 90s, 30m, 1h or 1h30m (d, h, m, s), or never"],
    ["-1h", "must be a duration like 90s, 30m, 1h or 1h30m (d, h, m, s), or never"],
    ["1.5h", "must be a duration like 90s, 30m, 1h or 1h30m (d, h, m, s), or never"],
    ["0s", "must be at least 1s"],
    ["25d", "must be at most 24d"],
  ];
  for (const [text, want] of rows) {
    test(`${JSON.stringify(text)}`, () => {
      const got = duration(text);
      assert.deepEqual(got, typeof want === "number" ? { value: want } : { problem: want });
    });
  }

  test("a bad duration is one line naming the flag, exit 2", () => {
    const r = runCli(["--expire", "10", "-p", "0", dir]);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr.split("\n")[0],
      "wharf: invalid --expire '10': must be a duration like 90s, 30m, 1h or 1h30m (d, h, m, s), or never",
    );
  });

  test("humanDuration and localTime", () => {
    const rows: [number, string][] = [
      [0, "0s"],
      [999, "1s"],
      [45_000, "45s"],
      [90_000, "1m30s"],
      [3_599_600, "1h"],
      [5_400_000, "1h30m"],
      [3_600_000 + 5_000, "1h"],
      [93_784_000, "1d2h"],
    ];
    for (const [ms, want] of rows) assert.equal(humanDuration(ms), want, `${ms} ms`);
    const now = new Date(2026, 10, 30, 15, 4, 5);
    assert.equal(localTime(new Date(2026, 10, 30, 16, 4, 5), now), "16:04:05");
    assert.equal(localTime(new Date(2026, 11, 1, 9, 0, 0), now), "2026-12-01 09:00:00");
    assert.deepEqual(expiryLines(new Date(2026, 10, 30, 16, 4, 5), now), ["  stops at 16:04:05 (in 1h)"]);
    assert.deepEqual(expiryLines(undefined, now), []);
  });

  test("serve({ expire }) stops by itself: closed settles, expiresAt says when, the port is free", async () => {
    const before = Date.now();
    const server = await serve({ root: dir, port: 0, host: "127.0.0.1", log: false, expire: 300 });
    assert.ok(server.expiresAt !== undefined && server.expiresAt.getTime() >= before + 300);
    assert.equal((await fetch(`${server.urls[0]}photo.txt`)).status, 200);
    assert.equal(
      await within(
        server.closed.then(() => "closed"),
        "still open",
        { deadline: 20_000 },
      ),
      "closed",
    );
    await assert.rejects(fetch(`${server.urls[0]}photo.txt`));
  });

  test("the command line stops at the expiry, saying so, with exit 0", async () => {
    const cli = await startCli(["--expire", "1s", "-p", "0", "-b", "127.0.0.1", dir]);
    assert.match(cli.stdout(), STOPS_AT("1s"));
    const exit = await within(cli.exited, "running", { deadline: 20_000 });
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(cli.stderr(), /wharf: expired \(--expire\); stopped\n$/);
  });
});

describe("the LAN address of --qr", () => {
  test("private addresses: RFC 1918 and IPv6 unique local", () => {
    const rows: [string, boolean][] = [
      ["10.0.0.1", true],
      ["172.16.0.1", true],
      ["172.31.255.255", true],
      ["172.32.0.1", false],
      ["192.168.1.20", true],
      ["192.169.1.20", false],
      ["127.0.0.1", false],
      ["169.254.1.1", false],
      ["100.64.0.1", false],
      ["192.0.2.2", false],
      ["8.8.8.8", false],
      ["fd00::2", true],
      ["fc12::1", true],
      ["fe80::1", false],
      ["::1", false],
      ["2001:db8::1", false],
      ["localhost", false],
    ];
    for (const [address, want] of rows) assert.equal(isPrivateAddress(address), want, address);
  });

  const nic = (address: string, family: "IPv4" | "IPv6", internal = false) => ({ address, family, internal });
  const interfaces = {
    lo: [nic("127.0.0.1", "IPv4", true), nic("::1", "IPv6", true)],
    eth0: [nic("203.0.113.9", "IPv4"), nic("fd00::5", "IPv6"), nic("fe80::5", "IPv6")],
    wlan0: [nic("192.168.1.20", "IPv4")],
  };
  const rows: { name: string; bound: { address: string; family: "IPv4" | "IPv6" }[]; want: string | undefined }[] = [
    { name: "every interface: the first private IPv4", bound: [{ address: "::", family: "IPv6" }], want: "192.168.1.20" },
    { name: "0.0.0.0: IPv4 only", bound: [{ address: "0.0.0.0", family: "IPv4" }], want: "192.168.1.20" },
    {
      name: "loopback only: none",
      bound: [
        { address: "127.0.0.1", family: "IPv4" },
        { address: "::1", family: "IPv6" },
      ],
      want: undefined,
    },
    { name: "a public address: none", bound: [{ address: "203.0.113.9", family: "IPv4" }], want: undefined },
    { name: "a private address bound: that one", bound: [{ address: "fd00::5", family: "IPv6" }], want: "fd00::5" },
  ];
  for (const row of rows) {
    test(row.name, () =>
      assert.equal(
        lanAddress(
          row.bound.map((b) => ({ ...b, port: 1 })),
          interfaces,
        ),
        row.want,
      ),
    );
  }
  test("every interface, no private IPv4: the unique local IPv6 address; on 0.0.0.0 none", () => {
    const v6 = { eth0: [nic("203.0.113.9", "IPv4"), nic("fd00::5", "IPv6")] };
    assert.equal(lanAddress([{ address: "::", family: "IPv6", port: 1 }], v6), "fd00::5");
    assert.equal(lanAddress([{ address: "0.0.0.0", family: "IPv4", port: 1 }], v6), undefined);
  });
});

describe("the terminal's QR code", () => {
  const URLS = ["http://192.168.1.20:8000/", "http://[fd00::2]:46831/CLJ4Vcm1Fi3HZFGVhrtYSQ/", `http://10.0.0.7:65535/${"x".repeat(120)}/`];
  for (const url of URLS) {
    test(`zbarimg reads ${url.slice(0, 60)}`, { skip: skipWithoutZbar }, () => {
      const lines = qrText(qrMatrix(url));
      // Square: two module rows per line, and the quiet zone on every side.
      const n = qrMatrix(url).length + 8;
      assert.equal(lines.length, Math.ceil(n / 2));
      for (const line of lines) assert.equal([...line].length, n);
      assert.match(lines[0]!, /^█+$/);
      assert.deepEqual(decodeQr(halfBlocksToPgm(lines), "pgm"), [url]);
      // The decoder is really reading it: the halves swapped, it finds nothing.
      const swapped = lines.map((l) => l.replace(/[▀▄]/g, (c) => (c === "▀" ? "▄" : "▀")));
      assert.notDeepEqual(decodeQr(halfBlocksToPgm(swapped), "pgm"), [url]);
    });
  }
});

describe("wharf share", () => {
  test("the preset is a table of flags before the person's own, which win", () => {
    assert.deepEqual(shareArgs(["dist"]), [...SHARE_PRESET.flat(), "dist"]);
    const preset = parseCommandLine(shareArgs(["dist"]));
    assert.ok(preset.kind === "run");
    assert.deepEqual(preset.options, { qr: true, secretPath: true, expire: 3_600_000, root: "dist" });
    const overridden = parseCommandLine(shareArgs(["--expire", "2h", "--no-qr", "--no-secret-path", "-b", "127.0.0.1", "dist"]));
    assert.ok(overridden.kind === "run");
    assert.deepEqual(overridden.options, { qr: false, secretPath: false, expire: 7_200_000, host: "127.0.0.1", root: "dist" });
    const never = parseCommandLine(shareArgs(["--expire", "never"]));
    assert.ok(never.kind === "run" && !("expire" in never.options));
  });

  test("who can reach what, by case", () => {
    const base = { root: "/srv/x", host: undefined, secretPath: true, auth: false, upload: "off", expiresAt: new Date() } as const;
    assert.deepEqual(shareLines(base), [
      "  who: anyone on a network this machine is on (every interface), who has the link (no password: the link is the key)",
      "  what: /srv/x, read-only (nothing can be uploaded, changed or deleted)",
    ]);
    assert.deepEqual(shareLines({ ...base, host: "localhost", secretPath: false, expiresAt: undefined }), [
      "  who: only this machine, with no password and no secret link, until stopped (no --expire)",
      "  what: /srv/x, read-only (nothing can be uploaded, changed or deleted)",
    ]);
    assert.deepEqual(shareLines({ ...base, host: "192.168.1.20", auth: true, upload: "account" }), [
      "  who: anyone who can reach 192.168.1.20, with a password and the link",
      "  what: /srv/x, read, and upload with an account",
    ]);
    assert.deepEqual(
      shareLines({ ...base, upload: "this machine" }).at(-1),
      "  what: /srv/x, read-only from other machines; uploads from this machine only (add --upload-auth USER:PASS, or --upload-anonymous)",
    );
    assert.deepEqual(
      shareLines({ ...base, upload: "anyone" }).at(-1),
      "  what: /srv/x, read and upload, by anyone who can reach it (--upload-anonymous)",
    );
  });

  test("who may upload, from the options", () => {
    const rows: [Parameters<typeof uploadAudience>[0], ReturnType<typeof uploadAudience>][] = [
      [{}, "off"],
      [{ upload: false }, "off"],
      [{ upload: true }, "this machine"],
      [{ upload: ["/in"] }, "this machine"],
      [{ upload: true, uploadAuth: "u:p" }, "account"],
      [{ upload: true, auth: "u:p" }, "account"],
      [{ upload: true, authFile: ".htpasswd" }, "account"],
      [{ upload: true, uploadAnonymous: true }, "anyone"],
      [{ upload: true, uploadAnonymous: true, uploadAuth: "u:p" }, "account"],
    ];
    for (const [options, want] of rows) assert.equal(uploadAudience(options), want, JSON.stringify(options));
  });

  test("on loopback: a secret link, read-only, an expiry in 1h, and one line instead of a QR code", async () => {
    const cli = await startCli(["share", dir, "-p", "0", "-b", "127.0.0.1"]);
    const out = cli.stdout();
    assert.match(cli.url, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{22}\/$/);
    assert.match(out, /\n {2}who: only this machine, who has the link \(no password: the link is the key\)\n/);
    assert.ok(out.includes(`\n  what: ${dir}, read-only (nothing can be uploaded, changed or deleted)\n`), out);
    assert.match(out, STOPS_AT("1h"));
    assert.ok(out.includes("\n  no QR code: no private LAN address to reach this server at (bound to 127.0.0.1)\n"), out);
    assert.ok(!out.includes("█"), "no code drawn");
    assert.equal(await (await fetch(`${cli.url}photo.txt`)).text(), "123456789");
    assert.equal((await fetch(`http://127.0.0.1:${cli.port}/photo.txt`)).status, 404);
    const stderr = await within(
      cli.err.until(/photo\.txt/).then(() => cli.stderr()),
      "",
    );
    assert.ok(!stderr.includes(new URL(cli.url).pathname.slice(1, 23)), `the log names the secret: ${stderr}`);
  });

  test("on every interface: the QR code in the terminal reads as the LAN URL it names", { skip: skipWithoutZbar }, async () => {
    const cli = await startCli(["share", dir, "-p", "0", "--expire", "90m"]);
    const out = cli.stdout();
    const secret = new URL(cli.url).pathname;
    assert.match(out, STOPS_AT("1h30m"));
    const expected = lanAddress([{ address: "::", family: "IPv6", port: cli.port }], networkInterfaces());
    if (expected === undefined) {
      assert.match(out, /\n {2}no QR code: no private LAN address to reach this server at \(bound to ::\)\n/);
      return;
    }
    const named = /\n {2}scan to open (\S+)\n/.exec(out)?.[1];
    assert.ok(named !== undefined, out);
    assert.ok(named.endsWith(`:${cli.port}${secret}`) && named.includes(expected), named);
    assert.ok(out.includes(`also at ${named}`), "the URL is among the printed ones");
    const block = out.split("\n").filter((l) => /^[█▀▄ ]+$/.test(l) && l.includes("█"));
    assert.deepEqual(decodeQr(halfBlocksToPgm(block), "pgm"), [named]);
  });

  test("--secret-path with --workers is refused in one line", () => {
    const r = runCli(["share", dir, "-p", "0", "--workers", "2"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "wharf: --secret-path works with one process: drop --workers\n");
  });
});
