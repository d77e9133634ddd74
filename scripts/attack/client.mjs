// The well-behaved client, in a process of its own so that the attackers' work in
// the harness does not count against its latency. Keep-alive HTTP/1.1 GETs of
// small and medium files at a steady rate (open loop: a request is started every
// 1/rate s whatever happened to the previous ones, so a stalled server shows as
// latency instead of as fewer requests), each timed from start to last byte and
// checked (status 200, exact length).
//
//   node client.mjs '{"host":..., "port":..., "tls":false, "auth":"Basic ...", "rate":20, "targets":[{path,size}]}'
//
// IPC: {type:"reset"} → forgets the latencies so far (the warm-up), keeps the errors;
//      {type:"interval"} → {type:"interval", requests, errors, p99} since the last one;
//      {type:"stop"} → waits for requests in flight, replies {type:"stop", requests, errors, p50, p99, max, samples};
//      the harness then disconnects, and this process exits.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

const cfg = JSON.parse(process.argv[2]);
const TIMEOUT_MS = 10_000;
const MAX_IN_FLIGHT = 64;
const request = cfg.tls ? httpsRequest : httpRequest;
const agent = cfg.tls
  ? new HttpsAgent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false })
  : new HttpAgent({ keepAlive: true, maxSockets: 4 });

const all = [];
let recent = [];
let errors = 0;
let recentErrors = 0;
/** Errors by kind (the problem, without the path), with a count and the first path: at most 10 kinds. */
const kinds = new Map();
let inFlight = 0;
let sent = 0;
/** Requests sent again after their reused connection was found closed (see once). */
let retried = 0;

function fail(problem, path = "") {
  errors++;
  recentErrors++;
  const kind = kinds.get(problem);
  if (kind !== undefined) kind.count++;
  else if (kinds.size < 10) kinds.set(problem, { count: 1, path });
}

function once(target) {
  return new Promise((resolve) => {
    const began = performance.now();
    inFlight++;
    let settled = false;
    const done = (problem) => {
      if (settled) return;
      settled = true;
      inFlight--;
      const ms = performance.now() - began;
      all.push(ms);
      recent.push(ms);
      if (problem !== undefined) fail(problem, target.path);
      unanswered.delete(done);
      resolve();
    };
    unanswered.add(done);
    const attempt = (first) => {
      let answered = false;
      const req = request({ host: cfg.host, port: cfg.port, path: target.path, agent, headers: { authorization: cfg.auth } }, (res) => {
        answered = true;
        let length = 0;
        res.on("data", (c) => (length += c.length));
        res.on("end", () =>
          done(
            res.statusCode !== 200
              ? `status ${res.statusCode}`
              : length !== target.size
                ? `${length} bytes, want ${target.size}`
                : undefined,
          ),
        );
        res.on("error", (e) => done(e.message));
      });
      req.on("error", (e) => {
        // A kept-alive connection the server closed as idle (past its idle cap, or
        // its keep-alive timeout) just as this request went out on it: a browser
        // sends such a GET again on a new connection (RFC 9112 §9.3.1), and so does
        // this client, once, as Node's documentation advises (`reusedSocket`). Counted.
        if (first && !answered && req.reusedSocket && (e.code === "ECONNRESET" || e.code === "EPIPE")) {
          retried++;
          attempt(false);
        } else done(e.message);
      });
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000} s`)));
      req.end();
    };
    attempt(true);
  });
}

const pending = new Set();
/** Requests not answered yet, by their completion callback. */
const unanswered = new Set();
function fire() {
  // A bound on the client too: past 64 requests in flight the server is stalled
  // for seconds; count it as an error rather than pile up sockets.
  if (inFlight >= MAX_IN_FLIGHT) return fail(`${MAX_IN_FLIGHT} requests already in flight`);
  const p = once(cfg.targets[sent++ % cfg.targets.length]);
  pending.add(p);
  void p.then(() => pending.delete(p));
}

const pct = (sorted, p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]);
const timer = setInterval(fire, 1000 / cfg.rate);

process.on("message", async (m) => {
  if (m.type === "reset") {
    // The warm-up's requests (the first pays for the bcrypt check) are not measured; its errors are.
    all.length = 0;
    recent = [];
    process.send({ type: "reset" });
  } else if (m.type === "interval") {
    const sorted = recent.splice(0).sort((a, b) => a - b);
    process.send({ type: "interval", requests: sorted.length, errors: recentErrors, p99: pct(sorted, 0.99) });
    recentErrors = 0;
  } else if (m.type === "stop") {
    clearInterval(timer);
    // Requests still waiting after their own timeout could have run are errors;
    // the wait is bounded (a request queued behind others has no socket timer yet).
    await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, TIMEOUT_MS + 1000))]);
    for (const done of [...unanswered]) done("no answer by the end of the run");
    agent.destroy();
    const sorted = all.sort((a, b) => a - b);
    process.send({
      type: "stop",
      requests: sorted.length,
      errors,
      retried,
      samples: [...kinds].map(([problem, { count, path }]) => `${count}× ${problem}${path === "" ? "" : ` (first: ${path})`}`),
      p50: pct(sorted, 0.5),
      p99: pct(sorted, 0.99),
      max: sorted.at(-1) ?? 0,
    });
    // The harness disconnects once it has this; then we exit (below).
  }
});
process.on("disconnect", () => process.exit(0));
process.send({ type: "ready" });
