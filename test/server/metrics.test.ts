// `metrics` / `--metrics`: Prometheus text on a listener of its own, with labels
// no request can multiply; checked by promtool and scraped by a real Prometheus.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:http2";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OptionError, ServeError } from "../../src/core/errors.js";
import { methodLabel, metricsAddress, requestKind } from "../../src/server/metrics.js";
import { canListen } from "../helpers/net.js";
import { rawExchange } from "../helpers/raw.js";
import { withServer } from "../helpers/server.js";
import { opensslCertificate } from "../helpers/tls.js";
import { waitFor, within } from "../helpers/wait.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wharf-metrics-"));
  mkdirSync(join(dir, "site", "sub"), { recursive: true });
  writeFileSync(join(dir, "site", "nums.txt"), "123456789");
  // Compressible and above the 1 KiB floor: sent as br, zstd or gzip on request.
  writeFileSync(join(dir, "site", "big.txt"), "0123456789abcdef".repeat(512));
});
after(() => rmSync(dir, { recursive: true, force: true }));
const root = (): string => join(dir, "site");

/** Whether `command` runs here. */
const has = (command: string): boolean => spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
const PROMTOOL = has("promtool");
const PROMETHEUS = has("prometheus");
const NO_PROMETHEUS = "Debian's prometheus package is not installed (.ci/run installs it)";

/** One series of an exposition: its name and labels, as written. */
type Series = Map<string, number>;

/** Reads Prometheus text: `name{a="b",...} value` per series; comments and blank lines skipped. */
function parseExposition(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(m !== null, `not a sample line: ${JSON.stringify(line)}`);
    // Labels sorted by name, so that one series is one key whatever their order.
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}=${JSON.stringify(v)}`)
      .sort();
    series.set(`${m[1]}{${labels.join(",")}}`, Number(m[3]));
  }
  return series;
}

async function scrape(url: string): Promise<{ text: string; series: Series; res: Response }> {
  const res = await fetch(url);
  const text = await res.text();
  return { text, series: parseExposition(text), res };
}

const value = (series: Series, key: string): number | undefined => series.get(key);

describe("metricsAddress: [ADDR:]PORT", () => {
  const rows: { input: unknown; want: { host: string | undefined; port: number } | "error" }[] = [
    { input: 9100, want: { host: undefined, port: 9100 } },
    { input: "9100", want: { host: undefined, port: 9100 } },
    { input: "0", want: { host: undefined, port: 0 } },
    { input: "0.0.0.0:9100", want: { host: "0.0.0.0", port: 9100 } },
    { input: "127.0.0.1:9100", want: { host: "127.0.0.1", port: 9100 } },
    { input: "[::1]:9100", want: { host: "::1", port: 9100 } },
    { input: "localhost:9100", want: { host: "localhost", port: 9100 } },
    { input: "65536", want: "error" },
    { input: "::1:9100", want: "error" },
    { input: "host:", want: "error" },
    { input: ":9100", want: "error" },
    { input: "", want: "error" },
    { input: -1, want: "error" },
    { input: 1.5, want: "error" },
    { input: true, want: "error" },
  ];
  for (const { input, want } of rows) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => {
      if (want === "error") assert.throws(() => metricsAddress(input), OptionError);
      else assert.deepEqual(metricsAddress(input), want);
    });
  }
});

describe("labels from fixed sets", () => {
  test("kind from the status, and the reply for a listing", () => {
    const rows: [number, boolean, string][] = [
      [200, false, "file"],
      [206, false, "file"],
      [304, false, "file"],
      [200, true, "listing"],
      [304, true, "listing"],
      [301, false, "redirect"],
      [308, false, "redirect"],
      [404, false, "not_found"],
      [410, false, "not_found"],
      [400, false, "error"],
      [405, false, "error"],
      [416, false, "error"],
      [499, false, "error"],
      [500, false, "error"],
      [503, true, "error"],
    ];
    for (const [status, listing, want] of rows) assert.equal(requestKind(status, listing), want, `status ${status}, listing ${listing}`);
  });
  test("methods outside RFC 9110's and PATCH are OTHER", () => {
    for (const m of ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]) assert.equal(methodLabel(m), m);
    for (const m of ["get", "PROPFIND", "BREW", "-", "X".repeat(1000), 'G"ET']) assert.equal(methodLabel(m), "OTHER", m);
  });
});

describe("serve({ metrics })", () => {
  test("without the option: no listener and no metricsUrl", async () => {
    await withServer({ root: root() }, async (server) => {
      assert.equal(server.metricsUrl, undefined);
    });
  });

  test("a bad value is an OptionError", async () => {
    await assert.rejects(
      withServer({ root: root(), metrics: "nowhere" }, async () => undefined),
      OptionError,
    );
  });

  test("a busy metrics port: a ServeError that says so, and the files' port is let go", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const busy = (blocker.address() as { port: number }).port;
    const port = await freePort();
    try {
      await assert.rejects(
        withServer({ root: root(), port, metrics: `127.0.0.1:${busy}` }, async () => undefined),
        (e: unknown) => {
          assert.ok(e instanceof ServeError);
          assert.equal(e.code, "EADDRINUSE");
          assert.equal(e.message, `metrics: port ${busy} is already in use on 127.0.0.1`);
          return true;
        },
      );
      // Nothing left listening on the files' port.
      await withServer({ root: root(), port }, async (server) => assert.equal(server.port, port));
    } finally {
      blocker.close();
    }
  });

  test("counts requests by method, code and kind; bytes by coding; the caches; the build", async () => {
    await withServer({ root: root(), metrics: 0 }, async (server) => {
      const url = server.metricsUrl!;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      assert.notEqual(new URL(url).port, String(server.port), "a port of its own");
      const base = server.urls[0]!;
      const get = async (path: string, init?: RequestInit): Promise<number> => {
        const res = await fetch(base + path, { redirect: "manual", ...init });
        await res.arrayBuffer();
        return res.status;
      };
      assert.equal(await get("nums.txt"), 200);
      assert.equal(await get("nums.txt"), 200);
      assert.equal(await get("nums.txt", { method: "HEAD" }), 200);
      assert.equal(await get("sub/"), 200);
      assert.equal(await get("sub"), 301);
      assert.equal(await get("missing"), 404);
      assert.equal(await get("nums.txt", { method: "POST" }), 405);
      assert.equal(await get("big.txt", { headers: { "accept-encoding": "gzip" } }), 200);

      const { res, series, text } = await scrape(url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const want: [string, number][] = [
        ['wharf_http_requests_total{code="200",kind="file",method="GET"}', 3],
        ['wharf_http_requests_total{code="200",kind="file",method="HEAD"}', 1],
        ['wharf_http_requests_total{code="200",kind="listing",method="GET"}', 1],
        ['wharf_http_requests_total{code="301",kind="redirect",method="GET"}', 1],
        ['wharf_http_requests_total{code="404",kind="not_found",method="GET"}', 1],
        ['wharf_http_requests_total{code="405",kind="error",method="POST"}', 1],
        ['wharf_http_request_duration_seconds_count{kind="file"}', 4],
        ["wharf_http_requests_in_flight{}", 0],
        ['wharf_cache_misses_total{cache="files"}', 2],
      ];
      for (const [key, n] of want) assert.equal(value(series, key), n, `${key}: got ${value(series, key)}, want ${n}\n${text}`);
      const gzip = value(series, 'wharf_http_response_bytes_total{coding="gzip"}') ?? 0;
      assert.ok(gzip > 0 && gzip < 8192, `gzip bytes ${gzip}: the compressed body, not the file's 8192`);
      assert.ok((value(series, 'wharf_http_response_bytes_total{coding="identity"}') ?? 0) >= 2 * 9, "identity bytes");
      // The second GET of nums.txt was answered from the resolved-URL cache.
      assert.ok((value(series, 'wharf_cache_hits_total{cache="urls"}') ?? 0) >= 1, text);
      assert.ok((value(series, 'wharf_cache_bytes{cache="urls"}') ?? 0) > 0, text);
      assert.ok((value(series, 'wharf_cache_bytes{cache="bodies"}') ?? 0) >= 9, text);
      const build = [...series.keys()].find((k) => k.startsWith("wharf_build_info{"));
      assert.match(build ?? "", new RegExp(`node="${process.versions.node.replace(/\./g, "\\.")}",version="\\d+\\.\\d+\\.\\d+`));

      // Both loopbacks, where this machine has IPv6.
      if (await canListen("::1")) {
        const v6 = await fetch(url.replace("127.0.0.1", "[::1]"));
        assert.equal(v6.status, 200);
        assert.match(await v6.text(), /^wharf_build_info/m);
      }
      // Only /metrics, only GET and HEAD.
      assert.equal((await fetch(url.replace(/metrics$/, ""))).status, 404);
      assert.equal((await fetch(url, { method: "POST" })).status, 405);
      const head = await fetch(url, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
      // And /metrics on the files' port is a file path like any other.
      assert.equal(await get("metrics"), 404);
    });
  });

  test("hostile methods, hosts and paths add no series", async () => {
    await withServer({ root: root(), metrics: 0 }, async (server) => {
      let n = 0;
      const hostile = async (): Promise<void> => {
        n++;
        const token = `X${n}${Math.random().toString(36).slice(2)}`;
        const requests = [
          `${token} /${token} HTTP/1.1\r\nHost: ${token}.example\r\nConnection: close\r\n\r\n`,
          `GET /${token}/${encodeURIComponent("<é>")}?${token}=1 HTTP/1.1\r\nHost: ${token}\r\nConnection: close\r\n\r\n`,
          `GET /%2e%2e/${token} HTTP/1.1\r\nHost: evil-${token}:1\r\nConnection: close\r\n\r\n`,
          `PROPFIND /nums.txt HTTP/1.1\r\nHost: ${token}\r\nConnection: close\r\n\r\n`,
          `GET http://${token}.example/nums.txt HTTP/1.1\r\nHost: ${token}.example\r\nConnection: close\r\n\r\n`,
          `HEAD /sub/?${token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        ];
        for (const bytes of requests) await rawExchange(server.port, bytes);
      };
      for (let i = 0; i < 5; i++) await hostile();
      const first = (await scrape(server.metricsUrl!)).series;
      for (let i = 0; i < 20; i++) await hostile();
      const { series, text } = await scrape(server.metricsUrl!);
      assert.deepEqual([...series.keys()].sort(), [...first.keys()].sort(), "the same series after 20 more rounds");
      assert.doesNotMatch(text, /X\d+[a-z0-9]{4}|example|evil|PROPFIND/, "no request's text in any label");
      const total = [...series].filter(([k]) => k.startsWith("wharf_http_requests_total")).reduce((sum, [, v]) => sum + v, 0);
      assert.equal(total, 25 * 6, "every request counted");
    });
  });

  test("connections by protocol: HTTP/2 over TLS", async () => {
    const cert = opensslCertificate(dir, "metrics");
    await withServer({ root: root(), metrics: 0, tls: { cert: cert.cert, key: cert.key } }, async (server) => {
      const session = connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
      try {
        await new Promise<void>((resolve, reject) => {
          const req = session.request({ ":path": "/nums.txt" });
          req.on("error", reject);
          req.resume();
          req.on("end", resolve);
        });
        const { series, text } = await scrape(server.metricsUrl!);
        assert.equal(value(series, 'wharf_open_connections{protocol="h2"}'), 1, text);
        assert.equal(value(series, 'wharf_http_requests_total{code="200",kind="file",method="GET"}'), 1, text);
      } finally {
        session.close();
      }
      const closed = await waitFor(
        async () => value((await scrape(server.metricsUrl!)).series, 'wharf_open_connections{protocol="h2"}') === 0,
      );
      assert.ok(closed, "the h2 connection is no longer counted once closed");
    });
  });

  test("promtool check metrics accepts the exposition", { skip: !PROMTOOL && NO_PROMETHEUS }, async () => {
    await withServer({ root: root(), metrics: 0 }, async (server) => {
      for (const path of ["nums.txt", "sub/", "sub", "missing"])
        await (await fetch(server.urls[0] + path, { redirect: "manual" })).arrayBuffer();
      const { text } = await scrape(server.metricsUrl!);
      const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
      // promtool prints lint problems (and exits 1) on stderr/stdout; nothing means clean.
      assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}\n${text}`);
      assert.equal(`${check.stdout}${check.stderr}`.trim(), "", "no lint warnings");
    });
  });
});

/** A free TCP port on 127.0.0.1 (closed again; the caller binds it at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe("a real Prometheus scrapes wharf", { skip: !PROMETHEUS && NO_PROMETHEUS }, () => {
  test("and answers a query about the requests served", async () => {
    await withServer({ root: root(), metrics: 0 }, async (server) => {
      for (let i = 0; i < 3; i++) await (await fetch(`${server.urls[0]}nums.txt`)).arrayBuffer();
      const target = new URL(server.metricsUrl!).host;
      const work = mkdtempSync(join(dir, "prometheus-"));
      const config = join(work, "prometheus.yml");
      writeFileSync(
        config,
        `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: wharf\n    static_configs:\n      - targets: ["${target}"]\n`,
      );
      const web = `127.0.0.1:${await freePort()}`;
      let prometheus: ChildProcess | undefined;
      let log = "";
      try {
        prometheus = spawn(
          "prometheus",
          [`--config.file=${config}`, `--storage.tsdb.path=${join(work, "data")}`, `--web.listen-address=${web}`, "--log.level=warn"],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        prometheus.stdout?.on("data", (d: Buffer) => (log += d));
        prometheus.stderr?.on("data", (d: Buffer) => (log += d));
        const query = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
          try {
            const res = await fetch(`http://${web}/api/v1/query?query=${encodeURIComponent(promql)}`);
            const body = (await res.json()) as {
              status: string;
              data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
            };
            return body.status === "success" ? (body.data?.result ?? []) : [];
          } catch {
            return []; // not listening yet
          }
        };
        const files = 'wharf_http_requests_total{job="wharf",method="GET",code="200",kind="file"}';
        let got: string | undefined;
        const scraped = await waitFor(
          async () => {
            got = (await query(files))[0]?.value[1];
            return got !== undefined;
          },
          { deadline: 60_000, interval: 250 },
        );
        assert.ok(scraped, `Prometheus never had the series (last answer ${got}); its log:\n${log}`);
        assert.equal(got, "3", "the three GETs of nums.txt");
        const [up] = await query('up{job="wharf"}');
        assert.equal(up?.value[1], "1", "the target is up");
        const [build] = await query("wharf_build_info");
        assert.equal(build?.metric["node"], process.versions.node);
      } finally {
        if (prometheus !== undefined && prometheus.exitCode === null) {
          const exited = new Promise((r) => prometheus!.once("exit", r));
          prometheus.kill("SIGTERM");
          if (
            (await within(
              exited.then(() => true),
              false,
              { deadline: 10_000 },
            )) !== true
          )
            prometheus.kill("SIGKILL");
        }
      }
    });
  });
});
