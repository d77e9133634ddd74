// The attacks whose connections stall the server's writes: the client asks for a
// lot and reads nothing. They stay open, silent, after the attack stops; the
// server must close them within one send timeout (issue 10, items 1, 2 and 5).
import { connect as h2Connect } from "node:http2";
import { destroy, head, limiter, loops, open, tally, track } from "./net.mjs";

/** More than the socket buffers of a loopback connection hold (about 4 MiB sent, 6 MiB received). */
const PROBE_BYTES = 16 * 1024 * 1024;

/**
 * A paused socket never learns that the server closed it: nothing is read, so
 * neither is the FIN nor the reset. So each is held, unread, for twice the send
 * timeout and a second (up to half again, at random), then read: if it ends, the
 * server had closed it (counted by track()); if a second passes with nothing to
 * read, or more arrives than the socket buffers could have held (the server is
 * still sending), it outlived the hold and we close it. Reading on while bytes
 * arrive: a server that closed long ago left megabytes in the buffers, which a
 * busy machine took more than a second to decrypt over TLS. Then the loop opens
 * the next. After the attack stops, held sockets are left alone.
 */
function holdThenProbe(ctx, t, socket) {
  const timer = setTimeout(
    () => {
      if (ctx.stopped) return;
      socket.probing = true; // reading now: no longer a stalled reader
      let read = 0;
      let quiet;
      const outlived = () => {
        clearTimeout(quiet);
        if (socket.destroyed) return;
        t.outlived++;
        destroy(socket);
      };
      const wait = () => {
        clearTimeout(quiet);
        quiet = setTimeout(outlived, 1000).unref();
      };
      socket.on("data", (chunk) => {
        read += chunk.length;
        if (read > PROBE_BYTES) outlived();
        else wait();
      });
      socket.once("close", () => clearTimeout(quiet));
      socket.resume();
      wait();
    },
    (2 * ctx.sendTimeoutMs + 1000) * (1 + Math.random() / 2),
  ); // spread, so that they do not all probe at once
  socket.once("close", () => clearTimeout(timer));
}

/**
 * When the attack stops, each held class replaces its connections with as many
 * fresh ones (some may have been cut already without our knowing, some were being
 * probed), so that the server has exactly that many newly stalled connections to
 * free within one send timeout. Resolves once each has sent its requests (or
 * after 5 s).
 */
function renew(t, count, round) {
  for (const socket of t.sockets) destroy(socket);
  const fresh = [];
  for (let i = 0; i < count; i++) {
    void round(i);
    fresh.push(new Promise((resolve) => t.waiters.push(resolve)));
  }
  return Promise.race([Promise.all(fresh), new Promise((r) => setTimeout(r, 5000))]);
}

/**
 * (1) Slow readers: a large file asked for, never read. A paused socket stops
 * reading, so the kernel's receive buffer fills and the server's writes stall,
 * which is what a 4 KiB receive buffer does, only sooner.
 */
export function slowReaders(ctx) {
  const t = tally("slow-readers", true);
  const count = ctx.count(50);
  const round = (i) => {
    const { socket, ready } = open(ctx);
    socket.once(ready, () => {
      socket.pause(); // after the TLS handshake, which needs reading
      socket.write(head(ctx, `/large${i % 3}.bin`));
      t.requests++;
      t.started(socket);
      holdThenProbe(ctx, t, socket);
    });
    return track(t, socket);
  };
  const run = loops(ctx, count, round, { gapMs: 1000, limit: limiter(50) });
  return { tally: t, run, renew: () => renew(t, count, round) };
}

/**
 * (2) HTTP/2 zero window (with --tls): SETTINGS_INITIAL_WINDOW_SIZE=0 and 100
 * streams for a large file, so that no stream may ever send a byte of DATA.
 */
export function h2ZeroWindow(ctx) {
  const t = tally("h2-zero-window", true);
  const count = ctx.count(3);
  const round = () => {
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
      t.started(session);
    });
    return closed;
  };
  const run = loops(ctx, count, round, { gapMs: 1000, limit: limiter(10) });
  return { tally: t, run, renew: () => renew(t, count, round) };
}

/**
 * (5) Pipelining without reading: 2,000 requests written at once on each
 * connection, for paths that take the asynchronous path (entries of the big
 * directory, distinct missing names, revalidations that do not match), then
 * nothing read.
 */
export function pipelining(ctx) {
  const t = tally("pipelining", true);
  const count = ctx.count(4);
  let n = 0;
  const round = (i) => {
    const { socket, ready } = open(ctx);
    socket.once(ready, () => {
      socket.pause();
      const batch = [];
      for (let k = 0; k < 2000; k++, n++) {
        batch.push(
          k % 10 === 9
            ? head(ctx, `/f${n % 40}.bin`, { headers: `If-None-Match: "stale-${n}"\r\n` })
            : k % 2 === 0
              ? head(ctx, `/d/e${n % 2000}.txt`)
              : head(ctx, `/missing/${i}-${n}.txt`),
        );
      }
      t.requests += batch.length;
      socket.write(batch.join(""));
      t.started(socket);
      holdThenProbe(ctx, t, socket);
    });
    return track(t, socket);
  };
  const run = loops(ctx, count, round, { gapMs: 1000, limit: limiter(10) });
  return { tally: t, run, renew: () => renew(t, count, round) };
}
