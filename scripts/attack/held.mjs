// The attacks whose connections stall the server's writes: the client asks for a
// lot and reads nothing. They stay open, silent, after the attack stops; the
// server must close them within one send timeout (issue 10, items 1, 2 and 5).
import { connect as h2Connect } from "node:http2";
import { head, limiter, loops, open, tally, track } from "./net.mjs";

/**
 * (1) Slow readers: a large file asked for, never read. A paused socket stops
 * reading, so the kernel's receive buffer fills and the server's writes stall,
 * which is what a 4 KiB receive buffer does, only sooner.
 */
export function slowReaders(ctx) {
  const t = tally("slow-readers", true);
  const run = loops(ctx, ctx.count(50), (i) => {
    const { socket, ready } = open(ctx);
    socket.once(ready, () => {
      socket.pause(); // after the TLS handshake, which needs reading
      socket.write(head(ctx, `/large${i % 3}.bin`));
      t.requests++;
    });
    return track(t, socket);
  }, { gapMs: 1000, limit: limiter(50) });
  return { tally: t, run };
}

/**
 * (2) HTTP/2 zero window (with --tls): SETTINGS_INITIAL_WINDOW_SIZE=0 and 100
 * streams for a large file, so that no stream may ever send a byte of DATA.
 */
export function h2ZeroWindow(ctx) {
  const t = tally("h2-zero-window", true);
  const run = loops(ctx, ctx.count(3), () => {
    const session = h2Connect(`https://${ctx.authority}`, { rejectUnauthorized: false, settings: { initialWindowSize: 0 } });
    session.on("error", () => {});
    const closed = track(t, session);
    session.once("connect", () => {
      for (let k = 0; k < 100 && !session.destroyed && !session.closed; k++) {
        try {
          const stream = session.request({ ":path": `/large${k % 3}.bin`, authorization: ctx.auth });
          t.requests++;
          stream.on("response", (headers) => t.status(headers[":status"]));
          stream.on("error", () => {});
        } catch {
          break; // the session went away under us
        }
      }
    });
    return closed;
  }, { gapMs: 1000, limit: limiter(10) });
  return { tally: t, run };
}

/**
 * (5) Pipelining without reading: 2,000 requests written at once on each
 * connection, for paths that take the asynchronous path (entries of the big
 * directory, distinct missing names, revalidations that do not match), then
 * nothing read.
 */
export function pipelining(ctx) {
  const t = tally("pipelining", true);
  let n = 0;
  const run = loops(ctx, ctx.count(4), (i) => {
    const { socket, ready } = open(ctx);
    socket.once(ready, () => {
      socket.pause();
      const batch = [];
      for (let k = 0; k < 2000; k++, n++) {
        batch.push(k % 10 === 9 ? head(ctx, `/f${n % 40}.bin`, { headers: `If-None-Match: "stale-${n}"\r\n` })
          : k % 2 === 0 ? head(ctx, `/d/e${n % 2000}.txt`)
          : head(ctx, `/missing/${i}-${n}.txt`));
      }
      t.requests += batch.length;
      socket.write(batch.join(""));
    });
    return track(t, socket);
  }, { gapMs: 1000, limit: limiter(10) });
  return { tally: t, run };
}
