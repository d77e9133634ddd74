/**
 * `--live` on a real server: event streams are connections like any other,
 * bounded by `--max-connections` (200 clients against a limit of 50), and none
 * delays shutdown (each gets a last event and is closed, long before the grace
 * period); the Host and Origin checks on raw bytes (a client would tidy them);
 * the banner says live reload is on and how many directories are watched; and
 * `--live` refuses `--workers`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { serve } from "../../src/index.js";
import { runCli, startCli } from "../helpers/cli.js";
import { parseResponses, rawExchange } from "../helpers/raw.js";
import { waitFor, within } from "../helpers/wait.js";

const root = mkdtempSync(join(tmpdir(), "wharf-live-server-"));
mkdirSync(join(root, "a", "b"), { recursive: true });
writeFileSync(join(root, "index.html"), "<html><head></head><body>hi</body></html>");
after(() => rmSync(root, { recursive: true, force: true }));

/** An event-stream client on a raw socket: what it received, and whether the server closed it. */
interface Client {
  readonly socket: Socket;
  data: string;
  closed: boolean;
}

function openStream(port: number): Client {
  const socket = connect({ port, host: "127.0.0.1" });
  const c: Client = { socket, data: "", closed: false };
  socket.on("data", (d: Buffer) => (c.data += d.toString("latin1")));
  socket.on("error", () => undefined);
  socket.on("close", () => (c.closed = true));
  socket.write("GET /__wharf/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
  return c;
}

test("200 event-stream clients against --max-connections 50: at most 50 streams; close() ends each with a last event, promptly", {
  timeout: 60_000,
}, async () => {
  const server = await serve({ root, port: 0, host: "127.0.0.1", live: true, maxConnections: 50, shutdownTimeout: 60_000, log: false });
  const clients = Array.from({ length: 200 }, () => openStream(server.port));
  // Every client either got its hello or was turned away by the connection limit.
  assert.ok(
    await waitFor(() => clients.every((c) => c.closed || c.data.includes("event: hello")), { deadline: 30_000 }),
    "each client answered or refused",
  );
  const streaming = clients.filter((c) => !c.closed);
  console.log(`# ${streaming.length} of 200 event-stream clients connected under --max-connections 50`);
  assert.equal(streaming.length, 50);
  assert.ok(streaming.every((c) => /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: text\/event-stream/i.test(c.data)));
  // The grace period is 60 s; a close that waited for the streams would not settle within 15.
  const closed = await within(
    server.close().then(() => "closed"),
    "still open",
    { deadline: 15_000 },
  );
  assert.equal(closed, "closed");
  assert.ok(await waitFor(() => streaming.every((c) => c.closed), { deadline: 10_000 }), "every stream closed");
  for (const c of streaming) assert.match(c.data, /event: bye\ndata: \{\}\n\n/);
  for (const c of clients) c.socket.destroy();
});

test("raw Host and Origin: rebinding 403, malformed 400, never a crash", { timeout: 30_000 }, async () => {
  const server = await serve({ root, port: 0, host: "127.0.0.1", live: true, log: false });
  try {
    const rows: { name: string; target: string; head: string; status: number }[] = [
      { name: "allowed", target: "/", head: "Host: localhost\r\n", status: 200 },
      { name: "IP literal", target: "/", head: "Host: 127.0.0.1:1\r\n", status: 200 },
      { name: "rebinding name", target: "/", head: "Host: attacker.example\r\n", status: 403 },
      { name: "malformed: unclosed bracket", target: "/", head: "Host: [::1\r\n", status: 400 },
      { name: "malformed: bad port", target: "/", head: "Host: localhost:http\r\n", status: 400 },
      { name: "malformed: control bytes", target: "/", head: "Host: local\x01host\r\n", status: 400 },
      { name: "malformed Origin", target: "/__wharf/events", head: "Host: localhost\r\nOrigin: ::::\r\n", status: 400 },
      {
        name: "cross-site Origin",
        target: "/__wharf/live.js",
        head: "Host: localhost\r\nOrigin: http://attacker.example\r\n",
        status: 403,
      },
    ];
    for (const row of rows) {
      const data = await rawExchange(server.port, `GET ${row.target} HTTP/1.1\r\n${row.head}Connection: close\r\n\r\n`);
      const [res] = parseResponses(data);
      assert.ok(res !== undefined, `${row.name}: no response`);
      assert.equal(res.status, row.status, `${row.name}: got ${res.status}, want ${row.status}: ${res.body.toString()}`);
      assert.equal(res.headers["access-control-allow-origin"], undefined);
    }
  } finally {
    await server.close();
  }
});

test("the banner says live reload is on and how many directories are watched", { timeout: 30_000 }, async () => {
  const cli = await startCli(["0", "-b", "127.0.0.1", "-q", "--live", "-d", root]);
  assert.match(cli.stdout(), /\n {2}live reload: on, watching 3 directories\n/);
  assert.match(cli.stdout(), /features: .*live reload/);
  await cli.stop("SIGTERM");
  const polled = await startCli(["0", "-b", "127.0.0.1", "-q", "--live", "--live-poll", "250", "-d", root]);
  assert.match(polled.stdout(), /\n {2}live reload: on, polling 3 directories every 250 ms\n/);
  await polled.stop("SIGTERM");
  const plain = await startCli(["0", "-b", "127.0.0.1", "-q", "-d", root]);
  assert.doesNotMatch(plain.stdout(), /live reload/);
  await plain.stop("SIGTERM");
});

test("--live with --workers is refused with one line", () => {
  const r = runCli(["0", "--live", "--workers", "2", "-d", root]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "wharf: --live runs in one process: drop --workers\n");
});

test("with --tls, the certificate's names are allowed hosts", { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "wharf-live-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=wharf-cert.test",
        "-addext",
        "subjectAltName=DNS:wharf-cert.test,DNS:*.wild.test",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    const tls = { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
    const server = await serve({ root, port: 0, host: "127.0.0.1", live: true, log: false, tls });
    try {
      const status = (host: string): Promise<number> =>
        new Promise((resolve, reject) => {
          const req = httpsRequest(
            { host: "127.0.0.1", port: server.port, path: "/", headers: { host }, rejectUnauthorized: false, agent: false },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on("error", reject);
          req.end();
        });
      assert.equal(await status("wharf-cert.test"), 200);
      assert.equal(await status("a.wild.test"), 200);
      assert.equal(await status("other.test"), 403);
      // HTTP/2 names the host in :authority alone: the same list applies.
      const session = http2Connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
      try {
        const h2 = (authority: string, path = "/", extra: Record<string, string> = {}): Promise<number> =>
          new Promise((resolve, reject) => {
            const stream = session.request({ ":path": path, ":authority": authority, ...extra });
            stream.on("response", (headers) => {
              resolve(Number(headers[":status"]));
              stream.close();
            });
            stream.on("error", reject);
            stream.end();
          });
        assert.equal(await h2("wharf-cert.test"), 200);
        assert.equal(await h2("other.test"), 403, "an HTTP/2 request to another name got past the allow-list");
        assert.equal(await h2("wharf-cert.test:1"), 200);
        assert.equal(await h2("wharf-cert.test", "/__wharf/events", { origin: "https://wharf-cert.test" }), 200);
        assert.equal(await h2("wharf-cert.test", "/__wharf/events", { origin: "https://other.test" }), 403);
      } finally {
        session.close();
      }
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
