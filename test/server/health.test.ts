/**
 * `health`, `logHealth` and `shutdownDelay` on serve() (issue 15 item 1): the two
 * probes, exact bytes, answered before auth and the SPA fallback, out of the log,
 * ordinary paths when off; drain() turning readiness 503 while serving goes on;
 * and the client behind a trusted proxy in the access log (item 3).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { text } from "../../src/core/reply.js";
import { clientAddress } from "../../src/core/request.js";
import { nodeFileSystem } from "../../src/fs/node.js";
import type { FileSystem } from "../../src/fs/types.js";
import { LIVEZ, READYZ } from "../../src/server/health.js";
import { parseResponses, rawExchange, rawRequest } from "../helpers/raw.js";
import { startServer, withServer } from "../helpers/server.js";
import { within } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "wharf-health-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "index.html"), "<p>home</p>");
// A site that has its own files under the probe paths: served as such without `health`.
mkdirSync(join(dir, "__wharf"));
writeFileSync(join(dir, "__wharf", "livez"), "site's own livez");

const PROBE_HEADERS = (length: number) => ({
  "content-type": "text/plain; charset=utf-8",
  "cache-control": "no-store",
  "content-length": String(length),
  "x-content-type-options": "nosniff",
});

/** The headers a probe answer must have, exactly (Date and Connection are Node's). */
function probeHeaders(headers: Record<string, string>): Record<string, string> {
  const { date: _d, connection: _c, "keep-alive": _k, ...rest } = headers;
  return rest;
}

describe("health: the probes", () => {
  const rows: { name: string; method: string; path: string; status: number; body: string; allow?: string }[] = [
    { name: "livez GET", method: "GET", path: LIVEZ, status: 200, body: "ok\n" },
    { name: "livez HEAD", method: "HEAD", path: LIVEZ, status: 200, body: "" },
    { name: "readyz GET", method: "GET", path: READYZ, status: 200, body: "ok\n" },
    { name: "readyz HEAD", method: "HEAD", path: READYZ, status: 200, body: "" },
    { name: "readyz with a query", method: "GET", path: `${READYZ}?verbose=1`, status: 200, body: "ok\n" },
    { name: "POST: 405 with Allow", method: "POST", path: LIVEZ, status: 405, body: "method not allowed\n", allow: "GET, HEAD" },
    { name: "DELETE readyz: 405", method: "DELETE", path: READYZ, status: 405, body: "method not allowed\n", allow: "GET, HEAD" },
  ];
  for (const r of rows) {
    test(r.name, () =>
      withServer({ root: dir, health: true }, async (server) => {
        const res = await rawRequest(server.port, r.method, r.path, r.method === "POST" ? "Content-Length: 0\r\n" : "");
        assert.equal(res.status, r.status, `${r.method} ${r.path}`);
        const length = r.method === "HEAD" ? 3 : Buffer.byteLength(r.body);
        assert.deepEqual(probeHeaders(res.headers), { ...PROBE_HEADERS(length), ...(r.allow === undefined ? {} : { allow: r.allow }) });
        assert.equal(res.body.toString(), r.body);
      }),
    );
  }

  test("after the checks of the request head: no Host is still 400", () =>
    withServer({ root: dir, health: true }, async (server) => {
      const [res] = parseResponses(await rawExchange(server.port, `GET ${LIVEZ} HTTP/1.1\r\nConnection: close\r\n\r\n`));
      assert.equal(res?.status, 400);
    }));

  test("other /__wharf/ paths go to the handler", () =>
    withServer({ root: dir, health: true }, async (server) => {
      assert.equal((await rawRequest(server.port, "GET", "/__wharf/healthz")).status, 404);
      assert.equal((await rawRequest(server.port, "GET", "/__wharf/livez/")).status, 404);
    }));

  test("without health the paths are ordinary paths", () =>
    withServer({ root: dir }, async (server) => {
      const own = await rawRequest(server.port, "GET", LIVEZ);
      assert.equal(own.status, 200);
      assert.equal(own.body.toString(), "site's own livez");
      assert.equal((await rawRequest(server.port, "GET", READYZ)).status, 404);
    }));

  test("with health the probe wins over the site's file of that name", () =>
    withServer({ root: dir, health: true }, async (server) => {
      assert.equal((await rawRequest(server.port, "GET", LIVEZ)).body.toString(), "ok\n");
    }));

  test("answered before auth: no credentials needed, the site still asks", () =>
    withServer({ root: dir, health: true, auth: ["user:pass"] }, async (server) => {
      assert.equal((await rawRequest(server.port, "GET", READYZ)).status, 200);
      assert.equal((await rawRequest(server.port, "GET", LIVEZ)).status, 200);
      assert.equal((await rawRequest(server.port, "GET", "/")).status, 401);
    }));

  test("answered before the SPA fallback and rewrites", () =>
    withServer(
      { root: dir, health: true, single: true, rewrites: [{ source: "/__wharf/**", destination: "/index.html" }] },
      async (server) => {
        const res = await rawRequest(server.port, "GET", READYZ, "Accept: text/html\r\n");
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), "ok\n");
      },
    ));

  test("not in the access log; with logHealth, logged", async () => {
    for (const logHealth of [false, true]) {
      const lines: string[] = [];
      await withServer({ root: dir, health: true, logHealth, log: (line) => lines.push(line) }, async (server) => {
        await rawRequest(server.port, "GET", LIVEZ);
        await rawRequest(server.port, "HEAD", READYZ);
        await rawRequest(server.port, "GET", "/");
      });
      const probes = lines.filter((l) => l.includes("/__wharf/"));
      assert.equal(probes.length, logHealth ? 2 : 0, `logHealth ${logHealth}: ${JSON.stringify(lines)}`);
      assert.equal(lines.filter((l) => l.includes('"GET / HTTP/1.1" 200')).length, 1, JSON.stringify(lines));
    }
  });

  test("readiness: 503 while the root cannot be read, 200 again once it can", async () => {
    const root = mkdtempSync(join(tmpdir(), "wharf-health-root-"));
    const away = `${root}-away`;
    after(() => rmSync(away, { recursive: true, force: true }));
    after(() => rmSync(root, { recursive: true, force: true }));
    await withServer({ root, health: true }, async (server) => {
      assert.equal((await rawRequest(server.port, "GET", READYZ)).status, 200);
      renameSync(root, away);
      const gone = await rawRequest(server.port, "GET", READYZ);
      assert.equal(gone.status, 503);
      assert.equal(gone.body.toString(), "root not readable\n");
      // Liveness says nothing about the root: the process still answers.
      assert.equal((await rawRequest(server.port, "GET", LIVEZ)).status, 200);
      renameSync(away, root);
      assert.equal((await rawRequest(server.port, "GET", READYZ)).status, 200);
    });
  });
});

describe("readiness on a root that hangs (a network mount gone)", () => {
  test("20 probes at once: each 503 at the deadline, and one stat of the root waits, not 20", { timeout: 30_000 }, async () => {
    let hang = false;
    let waiting = 0;
    const fs: FileSystem = {
      ...nodeFileSystem,
      stat: (path) => {
        if (!hang || path !== dir) return nodeFileSystem.stat(path);
        waiting++;
        return new Promise<never>(() => {});
      },
    };
    await withServer({ root: dir, health: true, fs }, async (server) => {
      assert.equal((await rawRequest(server.port, "GET", READYZ)).status, 200);
      hang = true;
      const answers = await Promise.all(Array.from({ length: 20 }, () => rawRequest(server.port, "GET", READYZ)));
      for (const res of answers) {
        assert.equal(res.status, 503);
        assert.equal(res.body.toString(), "root not readable\n");
      }
      assert.equal(waiting, 1, `${waiting} stats of the root left waiting`);
      assert.equal((await rawRequest(server.port, "GET", LIVEZ)).status, 200);
    });
  });
});

describe("drain: readiness 503, serving goes on for shutdownDelay", () => {
  test("readyz 503, livez and files 200 with Connection: close; close() ends the delay at once", async () => {
    // A minute's delay: the test ends long before it unless close() cuts it short.
    const server = await startServer({ root: dir, health: true, shutdownDelay: 60_000 });
    try {
      const keptAlive = parseResponses(
        await rawExchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      );
      assert.deepEqual(
        keptAlive.map((r) => r.headers["connection"]),
        ["keep-alive", "close"],
        "before the drain, connections are kept",
      );
      const drained = server.drain();
      assert.equal(server.drain(), drained, "drain() again is the same promise");
      const ready = await rawRequest(server.port, "GET", READYZ);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.toString(), "draining\n");
      assert.equal(ready.headers["cache-control"], "no-store");
      assert.equal((await rawRequest(server.port, "GET", LIVEZ)).status, 200);
      // A keep-alive request is answered, and told that its connection ends with it:
      // rawExchange only returns once the server has closed the connection.
      const [page] = parseResponses(await rawExchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.1", 4000));
      assert.equal(page?.status, 200);
      assert.equal(page?.headers["connection"], "close");
      assert.equal(page?.body.toString(), "<p>home</p>");
      const closed = server.close();
      assert.equal(
        await within(
          drained.then(() => "closed"),
          "still waiting",
          { deadline: 10_000 },
        ),
        "closed",
      );
      await closed;
    } finally {
      await server.close();
    }
  });

  test("after the delay the server closes by itself", async () => {
    const server = await startServer({ root: dir, health: true, shutdownDelay: 50 });
    try {
      assert.equal(
        await within(
          server.drain().then(() => "closed"),
          "still open",
          { deadline: 10_000 },
        ),
        "closed",
      );
      await assert.rejects(rawRequest(server.port, "GET", LIVEZ), /ECONNREFUSED/);
    } finally {
      await server.close();
    }
  });
});

describe("trusted proxies in serve(): the log has client and peer, middleware sees the client", () => {
  const rows: {
    name: string;
    trustProxy?: string[];
    format: "default" | "json" | "common";
    headers: string;
    want: RegExp;
    seen: string;
  }[] = [
    {
      name: "default format: client via peer",
      trustProxy: ["loopback"],
      format: "default",
      headers: "X-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n",
      want: / 203\.0\.113\.9 via 127\.0\.0\.1 "GET \/ HTTP\/1\.1" 200 /,
      seen: "203.0.113.9",
    },
    {
      name: "json: remote is the peer, client the client",
      trustProxy: ["127.0.0.1"],
      format: "json",
      headers: 'Forwarded: for="[2001:db8::9]:443"\r\n',
      want: /"remote":"127\.0\.0\.1","client":"2001:db8::9"/,
      seen: "2001:db8::9",
    },
    {
      name: "common: %h is the client",
      trustProxy: ["loopback"],
      format: "common",
      headers: "X-Forwarded-For: 203.0.113.9\r\n",
      want: /^203\.0\.113\.9 - - \[/,
      seen: "203.0.113.9",
    },
    {
      name: "peer not trusted: the header is ignored",
      trustProxy: ["10.0.0.0/8"],
      format: "default",
      headers: "X-Forwarded-For: 203.0.113.9\r\n",
      want: / 127\.0\.0\.1 "GET \/ HTTP\/1\.1" 200 /,
      seen: "127.0.0.1",
    },
    {
      name: "no trustProxy: the header is ignored",
      format: "json",
      headers: "X-Forwarded-For: 203.0.113.9\r\n",
      want: /"remote":"127\.0\.0\.1","method"/,
      seen: "127.0.0.1",
    },
    {
      name: "malformed from a trusted proxy: the peer",
      trustProxy: ["loopback"],
      format: "default",
      headers: "X-Forwarded-For: 203.0.113.9, nonsense\r\n",
      want: / 127\.0\.0\.1 "GET \/ HTTP\/1\.1" 200 /,
      seen: "127.0.0.1",
    },
  ];
  for (const r of rows) {
    test(r.name, async () => {
      const lines: string[] = [];
      let seen: string | undefined;
      await withServer(
        {
          root: dir,
          logFormat: r.format,
          log: (line) => lines.push(line),
          ...(r.trustProxy === undefined ? {} : { trustProxy: r.trustProxy }),
          use: [
            (req, next) => {
              seen = clientAddress(req);
              return req.pathname === "/who" ? text(200, seen ?? "-") : next();
            },
          ],
        },
        async (server) => {
          assert.equal((await rawRequest(server.port, "GET", "/", r.headers)).status, 200);
        },
      );
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, r.want, lines[0]);
      assert.equal(seen?.replace(/^::ffff:/, ""), r.seen);
    });
  }

  test("a request refused before the handler still logs client via peer (worked out from its headers)", async () => {
    const lines: string[] = [];
    let handled = 0;
    await withServer(
      {
        root: dir,
        log: (line) => lines.push(line),
        trustProxy: ["loopback"],
        maxUrlLength: 50,
        use: [
          (_req, next) => {
            handled++;
            return next();
          },
        ],
      },
      async (server) => {
        const res = await rawRequest(server.port, "GET", `/${"a".repeat(60)}`, "X-Forwarded-For: 203.0.113.9\r\n");
        assert.equal(res.status, 414);
      },
    );
    assert.equal(handled, 0, "the handler never saw it");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, / 203\.0\.113\.9 via 127\.0\.0\.1 "GET \/a+ HTTP\/1\.1" 414 /, lines[0]);
  });
});
