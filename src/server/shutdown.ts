/**
 * Graceful shutdown: stop taking connections, let the responses already under way
 * finish (for a while), and on Ctrl+C / SIGTERM do that once and exit; a second
 * signal means "now".
 */
import { constants } from "node:os";
import type { NodeResponse } from "../adapters/node.js";

/**
 * What closing needs of a server: `http.Server` has it, and so does the TLS
 * transport (src/server/secure.ts), which also closes its HTTP/2 sessions.
 */
export interface Closable {
  close(callback: (err?: Error) => void): void;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

/** Counts the responses of some servers so that they can be closed without cutting them off. */
export interface GracefulCloser {
  /** Call for every response as it starts. */
  track(res: NodeResponse): void;
  /** Responses started and not yet finished or aborted. */
  readonly inFlight: number;
  /**
   * From now on, every response ends its HTTP/1.1 connection (`Connection: close`):
   * during a shutdown delay, a client or proxy then opens its next connection,
   * to another replica once the load balancer has taken this one out, instead of
   * keeping one that close() would cut under it.
   */
  drain(): void;
  /**
   * Stops accepting, closes idle keep-alive connections, waits up to `timeoutMs`
   * for in-flight responses, then destroys whatever connections remain.
   * Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** Marks a response counted in flight (true) until its 'close' (false). */
const TRACKED = Symbol("wharf.inFlight");
interface Tracked {
  [TRACKED]?: boolean;
}

/** A {@link GracefulCloser} over `servers` (which may still be added to until close). */
export function gracefulCloser(servers: readonly Closable[], timeoutMs: number): GracefulCloser {
  let inFlight = 0;
  let closing = false;
  let draining = false;
  let drained: (() => void) | undefined;
  let closed: Promise<void> | undefined;
  const closeIdle = (): void => {
    for (const server of servers) server.closeIdleConnections();
  };
  // One listener shared by every response, rather than a closure and a `once`
  // wrapper each (about 130 ns a request); the mark makes a second 'close' of
  // one response (queued.ts emits one itself) count once.
  function untrack(this: NodeResponse & Tracked): void {
    if (this[TRACKED] !== true) return;
    this[TRACKED] = false;
    inFlight--;
    if (!closing) return;
    // The connection has just become idle; without this it would linger until
    // keepAliveTimeout. Next tick, once Node has detached the response from it.
    setImmediate(closeIdle);
    if (inFlight === 0) drained?.();
  }
  return {
    get inFlight() {
      return inFlight;
    },
    track(res) {
      if ((res as Tracked)[TRACKED] !== undefined) return; // counted once, however often asked
      inFlight++;
      // A request that arrives on a kept-alive connection during shutdown is still
      // answered, but told that the connection ends with it (HTTP/2 says so with GOAWAY).
      if ((closing || draining) && "shouldKeepAlive" in res) res.shouldKeepAlive = false;
      (res as Tracked)[TRACKED] = true;
      res.on("close", untrack);
    },
    drain() {
      draining = true;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
        closeIdle();
        if (inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((done) => {
            drained = done;
            timer = setTimeout(done, timeoutMs);
          });
          clearTimeout(timer);
        }
        for (const server of servers) server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}

/** Options of {@link onShutdownSignals}. */
export interface ShutdownOptions {
  /** What the shutdown line says the wait is at most, in ms. */
  readonly shutdownTimeout: number;
  /**
   * `--shutdown-delay`, in ms: after SIGTERM (what an orchestrator sends), what
   * the shutdown line says is served before closing. SIGINT (Ctrl+C) skips it.
   * @default 0
   */
  readonly shutdownDelay?: number;
  /** How many responses are in flight, for the shutdown line. */
  readonly inFlight?: () => number;
  /**
   * Where the shutdown line goes.
   * @default a line on stderr
   */
  readonly write?: (line: string) => void;
  /**
   * Ends the process: 0 after a clean close, 1 if close() failed, 128 + signal
   * number on a second signal.
   * @default process.exit
   */
  readonly exit?: (code: number) => void;
  /** @default ["SIGINT", "SIGTERM"] */
  readonly signals?: readonly NodeJS.Signals[];
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

/**
 * `wharf: shutting down (waiting up to 10s for 3 responses)`; with a delay,
 * `wharf: draining: not ready, serving 5s more, then shutting down (...)`.
 */
export function shutdownLine(timeoutMs: number, inFlight: number, delayMs = 0): string {
  const wait = inFlight === 0 ? "" : ` (waiting up to ${seconds(timeoutMs)} for ${inFlight} response${inFlight === 1 ? "" : "s"})`;
  if (delayMs > 0) return `wharf: draining: not ready, serving ${seconds(delayMs)} more, then shutting down${wait}`;
  return `wharf: shutting down${wait}`;
}

/** Whether `signal` asks for the shutdown delay: SIGTERM does (an orchestrator), SIGINT does not (a person at the terminal). */
export function delays(signal: NodeJS.Signals): boolean {
  return signal !== "SIGINT";
}

/**
 * On the first SIGINT/SIGTERM: print one line, `close(signal)` (which drains
 * first after SIGTERM, see {@link delays}), exit 0. On a second one,
 * exit at once with the shell's code for that signal (130 for SIGINT, 143 for
 * SIGTERM), for the person who does not want to wait. Returns a function that
 * removes the listeners.
 */
export function onShutdownSignals(close: (signal: NodeJS.Signals) => Promise<void>, opts: ShutdownOptions): () => void {
  const write = opts.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? ["SIGINT", "SIGTERM"];
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      exit(128 + (constants.signals[signal] ?? 0));
      return;
    }
    stopping = true;
    write(shutdownLine(opts.shutdownTimeout, opts.inFlight?.() ?? 0, delays(signal) ? (opts.shutdownDelay ?? 0) : 0));
    close(signal).then(
      () => exit(0),
      (err: unknown) => {
        write(`wharf: ${err instanceof Error ? err.message : String(err)}`);
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
