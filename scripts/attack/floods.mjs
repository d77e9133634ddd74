// The attacks that send many well-read requests: each is cheap to send and
// meant to be expensive (or revealing) to answer. Rate-limited, a few
// connections each; closed when the attack stops.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { basic, SECRETS } from "./fixture.mjs";
import { destroy, limiter, open, statusCodes, tally, track } from "./net.mjs";

/** `workers` loops calling `one(k)` (k counts across them) at most `perSecond` in all. */
function flood(ctx, workers, perSecond, one) {
  const limit = limiter(perSecond);
  let k = 0;
  return Promise.all(
    Array.from({ length: workers }, async () => {
      while (await limit.take(ctx)) await one(k++);
    }),
  );
}

/** A keep-alive agent for `t`'s requests, its connections tracked; destroyed when the class stops. */
function agentFor(ctx, t, sockets) {
  const agent = ctx.tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: sockets, rejectUnauthorized: false })
    : new HttpAgent({ keepAlive: true, maxSockets: sockets });
  const seen = new WeakSet();
  agent.track = (socket) => {
    if (seen.has(socket)) return;
    seen.add(socket);
    void track(t, socket);
  };
  t.onStop.push(() => agent.destroy());
  return agent;
}

/** One request through `agent`, the body read and dropped; resolves with the status, or "error". */
function exchange(ctx, agent, t, { method = "GET", path, headers = {}, busyOk = false }) {
  t.requests++;
  return new Promise((resolve) => {
    const req = (ctx.tls ? httpsRequest : httpRequest)({ host: ctx.host, port: ctx.port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on("end", () => {
        t.status(res.statusCode);
        // A 503 with Retry-After is the auth queue's documented answer when full (busyOk).
        const busy = busyOk && res.statusCode === 503 && res.headers["retry-after"] !== undefined;
        if (res.statusCode >= 500 && !busy) t.finding(`${res.statusCode} for ${method} ${path.slice(0, 60)}`);
        resolve(res.statusCode);
      });
      res.on("error", () => resolve("error"));
    });
    req.once("socket", (socket) => agent.track(socket));
    req.on("error", (e) => {
      // Requests cut by our own stop are not counted.
      if (!ctx.stopped) t.status(`error ${e.code ?? e.message}`);
      resolve("error");
    });
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/**
 * A new spelling for the k-th request: of one of 40 files, of the 2,000-entry
 * directory, or a distinct 12 KB Accept-Encoding on compressible text. Each
 * resolves to something already served; only the spelling is new.
 */
export function spelling(k) {
  const m = Math.floor(k / 8);
  const file = `f${k % 40}.bin`;
  switch (k % 8) {
    case 0:
      return { path: `/x${m}/../${file}` };
    case 1:
      return { path: `/${"./".repeat(1 + (m % 200))}${file}` };
    case 2:
      return { path: `/${"/".repeat(1 + (m % 200))}${file}` };
    case 3:
      return { path: `/${file}?v=${m}` };
    case 4:
      return { path: `/${"./".repeat(m % 50)}%66${file.slice(1)}` };
    case 5:
      return { path: [`/d/`, `/d//`, `/d/./`, `/x${m}/../d/`, `/d/?${m}`, `/d${"/".repeat(2 + (m % 200))}`][m % 6] };
    case 6:
      return { path: `/t${m % 20}.txt`, headers: { "accept-encoding": `gzip;q=0.${m % 10}, br;q=0.5, x-${m}-${"a".repeat(12_000)}` } };
    default:
      return { path: `/t${m % 20}.txt`, headers: { "accept-encoding": `br, gzip, x-${m}-${"b".repeat(12_000)}, identity;q=0.${m % 10}` } };
  }
}

/** (4) Cache spraying: distinct spellings and Accept-Encoding values, HEAD and GET. */
export function spray(ctx) {
  const t = tally("spray");
  const workers = ctx.count(4);
  const agent = agentFor(ctx, t, workers);
  const run = flood(ctx, workers, 100 * ctx.scale, (k) => {
    const { path, headers = {} } = spelling(k);
    return exchange(ctx, agent, t, { method: (k >> 3) % 2 === 0 ? "GET" : "HEAD", path, headers: { ...headers, authorization: ctx.auth } });
  });
  return { tally: t, run };
}

/**
 * (6) Basic-auth password guessing: wrong passwords for the two bcrypt users and
 * for users that do not exist, as fast as the server answers.
 */
export function guessing(ctx) {
  const t = tally("auth-guessing");
  const workers = ctx.count(8);
  const agent = agentFor(ctx, t, workers);
  const run = flood(ctx, workers, 200 * ctx.scale, async (k) => {
    const user = ["alice", "bob", `nobody${k}`][k % 3];
    const status = await exchange(ctx, agent, t, {
      path: "/small/s1.txt",
      headers: { authorization: basic(user, `guess-${k}`) },
      busyOk: true,
    });
    // 401, or 503 while the bounded queue of password checks is full (docs/reliability.md).
    if (status !== 401 && status !== 503 && status !== "error") t.finding(`a wrong password for ${user} got ${status}`);
  });
  return { tally: t, run };
}

/** (7) Hostile targets and framing, as raw bytes, with the attackers' credentials: [name, bytes]. */
export function hostileRequests(ctx) {
  const h = `Host: ${ctx.authority}\r\nAuthorization: ${ctx.auth}\r\n`;
  const get = (target, extra = "") => `GET ${target} HTTP/1.1\r\n${h}${extra}Connection: close\r\n\r\n`;
  return [
    ["te-xchunked", `POST /small/s1.txt HTTP/1.1\r\n${h}Transfer-Encoding: xchunked\r\n\r\n`],
    ["te-identity", get("/small/s1.txt", "Transfer-Encoding: identity\r\n")],
    ["bad-chunk-size", `POST /small/s1.txt HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n`],
    ["nul-in-trailer", `POST /small/s1.txt HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\0b\r\n\r\n`],
    ["cl-and-te", `POST /small/s1.txt HTTP/1.1\r\n${h}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ["method-FOO", `FOO /small/s1.txt HTTP/1.1\r\n${h}Connection: close\r\n\r\n`],
    ["method-GETs", `GETs /small/s1.txt HTTP/1.1\r\n${h}Connection: close\r\n\r\n`],
    ["huge-range", get("/f1.bin", "Range: bytes=99999999999999999999-\r\n")],
    ["http-9.9", `GET /small/s1.txt HTTP/9.9\r\n${h}Connection: close\r\n\r\n`],
    ["http-2.0", `GET /small/s1.txt HTTP/2.0\r\n${h}Connection: close\r\n\r\n`],
    ["no-version", `GET /small/s1.txt\r\n${h}\r\n`],
    ["duplicate-host", get("/small/s1.txt", "Host: other.example\r\n")],
    ["huge-header", get("/small/s1.txt", `X-Big: ${"x".repeat(20_000)}\r\n`)],
    ["long-url", get(`/small/s1.txt?${"q".repeat(10_000)}`)],
    ["dot-dot-encoded", get("/%2e%2e/%2e%2e/etc/passwd")],
    ["nul-in-path", get("/small/%00s1.txt")],
    ["rewrite-to-config", get("/files/wharf.json")],
    ["rewrite-to-htpasswd", get("/files/htpasswd")],
    ["config", get("/wharf.json")],
    ["htpasswd-upper", get("/HTPASSWD")],
    ["config-br", get("/wharf.json.br", "Accept-Encoding: br\r\n")],
    ["dotenv", get("/.env")],
    ["link-into-git", get("/link-git")],
    ["link-outside", get("/link-out.txt")],
    ["link-outside-dir", get("/link-out-dir/secret.txt")],
    ["listing-root", get("/")],
    ["clean-url-dotdot", get("/..html")],
    ["clean-url-encoded-dot", get("/%2e.html")],
    ["absolute-form", `GET http://evil.example/small/s1.txt HTTP/1.1\r\n${h}Connection: close\r\n\r\n`],
    ["asterisk", `OPTIONS * HTTP/1.1\r\n${h}Connection: close\r\n\r\n`],
  ];
}

/** The 5xx answers the RFCs call for: an unknown method (RFC 9110 §9.1), an HTTP version not spoken (§15.6.6). */
const EXPECTED_5XX = { "method-FOO": 501, "method-GETs": 501, "http-9.9": 505, "http-2.0": 505 };

/**
 * (7) Hostile targets and framing: each request on a connection of its own, read
 * to the end (or 3 s). Counts statuses; a 5xx or a hidden file's bytes in any
 * answer is a finding.
 */
export function hostile(ctx) {
  const t = tally("hostile");
  /** What each request got back: its status codes, or "none" in 3 s. */
  t.answers = {};
  const requests = hostileRequests(ctx);
  // At least 10 a second, so that a short run goes through the list a few times.
  const run = flood(ctx, ctx.count(2), Math.max(10, 20 * ctx.scale), (k) => {
    const [name, bytes] = requests[k % requests.length];
    const { socket, ready } = open(ctx);
    let data = "";
    socket.once(ready, () => socket.write(bytes));
    socket.on("data", (c) => {
      if (data.length < 65_536) data += c.toString("latin1");
    });
    const timer = setTimeout(() => destroy(socket), 3000);
    t.requests++;
    return track(t, socket).then(() => {
      clearTimeout(timer);
      if (ctx.stopped && socket.ours) return; // cut by the end of the attack: no verdict
      const codes = statusCodes(data);
      if (codes.length === 0) t.status("none");
      const answers = (t.answers[name] ??= new Set());
      answers.add(codes.length === 0 ? "none" : codes.join("+"));
      for (const code of codes) {
        t.status(code);
        if (code >= 500 && EXPECTED_5XX[name] !== code) t.finding(`${name}: ${code}`);
      }
      for (const secret of SECRETS) if (data.includes(secret)) t.finding(`${name}: answer holds "${secret}"`);
    });
  });
  return { tally: t, run };
}
