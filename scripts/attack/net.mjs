// What every attack class shares: a loopback connection (TCP, or TLS speaking
// HTTP/1.1), a rate limiter, loops bounded in count and time, and a tally.
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The attack's shared state: where the server is, its credentials for the
 * attackers, how many of each, and whether to go on.
 */
export function context({ host, port, tls, auth, scale, deadline, sendTimeoutMs }) {
  const ctx = {
    host,
    port,
    tls,
    auth,
    scale,
    sendTimeoutMs,
    stopped: false,
    /** `n` scaled, at least 1. */
    count: (n) => Math.max(1, Math.round(n * scale)),
    /** Whether loops should go on: not stopped, and the hard deadline not passed. */
    active: () => !ctx.stopped && performance.now() < deadline,
    authority: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
  };
  return ctx;
}

/** A connection to the server; TLS (ALPN http/1.1) when the server runs with --tls, unless `plain`. */
export function open(ctx, plain = false) {
  const socket =
    ctx.tls && !plain
      ? tlsConnect({ host: ctx.host, port: ctx.port, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] })
      : netConnect({ host: ctx.host, port: ctx.port });
  socket.on("error", () => {}); // resets and timeouts are what attackers get
  return { socket, ready: ctx.tls && !plain ? "secureConnect" : "connect" };
}

/** A GET (or other method) as bytes, with the attackers' credentials. */
export function head(ctx, path, { method = "GET", headers = "", close = false } = {}) {
  return `${method} ${path} HTTP/1.1\r\nHost: ${ctx.authority}\r\nAuthorization: ${ctx.auth}\r\n${headers}${close ? "Connection: close\r\n" : ""}\r\n`;
}

/**
 * At most `perSecond` takes per second, spread evenly. `take(ctx)` resolves
 * false, promptly, once the attack stops.
 */
export function limiter(perSecond) {
  const gap = 1000 / perSecond;
  let next = performance.now();
  return {
    async take(ctx) {
      const at = Math.max(performance.now(), next);
      next = at + gap;
      while (ctx.active() && performance.now() < at) await sleep(Math.min(200, at - performance.now()));
      return ctx.active();
    },
  };
}

/**
 * What a class did. `held`: its connections stay open, silent, after the attack
 * stops (their bound is the send timeout); the others are closed when it stops.
 */
export function tally(name, held = false) {
  // `sockets` holds net/tls sockets and HTTP/2 sessions alike: each has destroy() and "close".
  return {
    name,
    held,
    sockets: new Set(),
    opened: 0,
    closedByServer: 0,
    /** The longest a connection lasted before it was seen closed by the server, in ms. */
    longestMs: 0,
    /** Held connections still open when we came to check (held.mjs), closed by us. */
    outlived: 0,
    /** Called once per connection that has sent its requests (held classes' top-up waits on it). */
    waiters: [],
    started() {
      this.waiters.shift()?.();
    },
    requests: 0,
    statuses: {},
    findings: [],
    /** Run when the class stops (or, held, when it is released): agents, sessions. */
    onStop: [],
    status(code) {
      this.statuses[code] = (this.statuses[code] ?? 0) + 1;
    },
    finding(text) {
      if (!this.findings.includes(text) && this.findings.length < 20) this.findings.push(text);
    },
  };
}

/**
 * Tracks `socket` in `t`: counted when opened; when it closes, whether the server
 * did it and how long it had lasted. `destroy` (ours) marks it first.
 */
export function track(t, socket) {
  const began = performance.now();
  t.opened++;
  t.sockets.add(socket);
  return new Promise((resolve) => {
    socket.once("close", () => {
      t.sockets.delete(socket);
      if (!socket.ours) {
        t.closedByServer++;
        t.longestMs = Math.max(t.longestMs, performance.now() - began);
      }
      resolve();
    });
  });
}

/** Closes a socket or session from our side (not counted as closed by the server). */
export function destroy(socket) {
  socket.ours = true;
  socket.destroy();
}

/**
 * Runs `count` loops of `round` (one connection each, resolving when it ends)
 * while `ctx.active()`; a loop waits `gapMs` from the start of one round to the
 * next, and every new round first takes from `limit`. Bounded in count (the
 * loops) and in time (the deadline).
 */
export function loops(ctx, count, round, { gapMs = 1000, limit }) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      for (let n = 0; ctx.active(); n++) {
        if (!(await limit.take(ctx))) break;
        const began = performance.now();
        await round(i, n);
        const left = gapMs - (performance.now() - began);
        if (left > 0 && ctx.active()) await sleep(left);
      }
    }),
  );
}

/**
 * Reads HTTP/1.1 status codes from a byte stream; enough for counting answers
 * (a status line at the start of a chunk or after a blank line), not a parser.
 */
export function statusCodes(data) {
  const out = [];
  const re = /HTTP\/1\.[01] (\d{3}) /g;
  for (let m; (m = re.exec(data)) !== null; ) out.push(Number(m[1]));
  return out;
}
