// The attacks that hold a slot by sending little or nothing: their bounds are the
// head and idle timeouts. Closed by the harness when the attack stops.
import { head, limiter, loops, open, statusCodes, tally, track } from "./net.mjs";

/**
 * Sends `prefix` at once, then `text` one byte every `everyMs`, on a fresh
 * connection (plain TCP when `plain`), counting the status lines that come back;
 * resolves when it closes.
 */
function trickler(ctx, t, { prefix = "", text, everyMs, plain = false }) {
  const { socket, ready } = open(ctx, plain);
  let sent = 0;
  let timer;
  let data = "";
  socket.once(ready, () => {
    t.requests++; // one request, never finished
    if (prefix !== "") socket.write(prefix);
    const next = () => {
      // After the text, header lines for ever: a head that never ends.
      const byte = sent < text.length ? text[sent] : "X-Trickle: 1\r\n"[(sent - text.length) % 14];
      sent++;
      socket.write(byte);
    };
    next();
    timer = setInterval(next, everyMs);
  });
  socket.on("data", (c) => {
    data = (data + c.toString("latin1")).slice(-4096);
  });
  socket.once("close", () => {
    clearInterval(timer);
    for (const code of statusCodes(data)) t.status(code);
  });
  return track(t, socket);
}

/**
 * (3) Plain HTTP on the --tls port, one byte every 2 s: under an idle timeout
 * that every byte resets, it would never end.
 */
export function plainOnTls(ctx) {
  const t = tally("plain-on-tls");
  const text = `GET /small/s0.txt HTTP/1.1\r\nHost: ${ctx.authority}\r\n`;
  const run = loops(ctx, ctx.count(5), () => trickler(ctx, t, { text, everyMs: 2000, plain: true }), { gapMs: 1000, limit: limiter(10) });
  return { tally: t, run };
}

/** (8) Slowloris: a request head trickled a byte a second, never finished. */
export function slowloris(ctx) {
  const t = tally("slowloris");
  // The request line and the first headers at once, then header bytes, one a second.
  const prefix = `GET /small/s0.txt HTTP/1.1\r\nHost: ${ctx.authority}\r\nAuthorization: ${ctx.auth}\r\n`;
  const run = loops(ctx, ctx.count(20), () => trickler(ctx, t, { prefix, text: "", everyMs: 1000 }), { gapMs: 1000, limit: limiter(20) });
  return { tally: t, run };
}

/** (9) Idle keep-alive connections: one request each, answered, then nothing. */
export function idle(ctx) {
  const t = tally("idle");
  const run = loops(
    ctx,
    ctx.count(1000),
    (i) => {
      const { socket, ready } = open(ctx);
      let first = "";
      socket.once(ready, () => {
        socket.write(head(ctx, `/small/s${i % 50}.txt`));
        t.requests++;
      });
      // Read everything (a well-read connection, only idle); count the one status line.
      socket.on("data", (c) => {
        if (first.length >= 16) return;
        first += c.toString("latin1");
        if (first.length >= 16) for (const code of statusCodes(first)) t.status(code);
      });
      return track(t, socket);
    },
    { gapMs: 1000, limit: limiter(100) },
  );
  return { tally: t, run };
}
