/**
 * `--workers N`: N processes serve one port (Node's `cluster`: the primary owns
 * the listening socket and hands connections to the workers). The primary prints
 * the banner once, reports the first startup error as the one line it is, replaces
 * a worker that dies, and on SIGINT/SIGTERM asks every worker to close gracefully.
 *
 * Workers ignore the signals themselves: Ctrl+C reaches the whole process group,
 * and a worker that took it as its own shutdown *and* got the primary's request
 * would read the second as "exit now" and cut its downloads.
 */
import cluster, { type Worker } from "node:cluster";
import type { RunningServer, ServeOptions } from "../server/serve.js";
import { serve } from "../server/serve.js";
import { delays, onShutdownSignals } from "../server/shutdown.js";

/** What a worker tells the primary. */
type WorkerMessage =
  | {
      readonly type: "listening";
      readonly urls: readonly string[];
      readonly addresses: RunningServer["addresses"];
      readonly features: readonly string[];
      readonly movedFrom?: number;
    }
  | { readonly type: "failed"; readonly error: { readonly message: string; readonly code: string | undefined; readonly option: boolean } };

/** Whether this process is a worker started by {@link runPrimary}. */
export const isWorker = cluster.isWorker;

/**
 * In a worker: serve, tell the primary, and close when it says so. `options` may
 * still be coming (the TLS files being read); a failure there is reported like
 * one of serve()'s.
 */
export async function runWorker(
  options: ServeOptions | Promise<ServeOptions>,
  describe: (e: unknown) => { option: boolean },
): Promise<number> {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => undefined);
  let server: RunningServer;
  try {
    server = await serve(await options);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    process.send?.({
      type: "failed",
      error: {
        message: e instanceof Error ? e.message : String(e),
        code: typeof code === "string" ? code : undefined,
        option: describe(e).option,
      },
    } satisfies WorkerMessage);
    return 1;
  }
  process.send?.({
    type: "listening",
    urls: server.urls,
    addresses: server.addresses,
    features: server.features,
    ...(server.movedFrom === undefined ? {} : { movedFrom: server.movedFrom }),
  } satisfies WorkerMessage);
  return new Promise((done) => {
    const stop = (): void => void server.close().then(() => done(0));
    process.on("message", (m) => {
      const message = m as { type?: unknown; drain?: unknown };
      // After SIGTERM the primary asks for a drain (readiness 503 for --shutdown-delay, then close).
      if (message.type === "shutdown") void (message.drain === true ? server.drain() : server.close()).then(() => done(0));
    });
    // The primary is gone (killed): nobody will ask, so close now.
    process.on("disconnect", stop);
  });
}

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  readonly workers: number;
  readonly shutdownTimeout: number;
  /** `--shutdown-delay` in ms: how long workers drain after SIGTERM before closing. */
  readonly shutdownDelay?: number;
  /** Called once, when every worker first listens, with the last one's addresses. */
  readonly ready: (server: Pick<RunningServer, "urls" | "addresses" | "features" | "movedFrom">) => void;
  /** A worker's startup error; returns the exit code after reporting it. */
  readonly failed: (error: Error & { code?: string | undefined; option: boolean }) => number;
  readonly write: (line: string) => void;
}

/** In the primary: start the workers and supervise them until a signal. */
export function runPrimary(o: PrimaryOptions): Promise<number> {
  return new Promise((done) => {
    // Workers listening now, by id; the banner is printed the first time all are,
    // and never again: a replacement for a crashed worker only says it took over.
    const listening = new Set<number>();
    let announced = false;
    let stopping = false;
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      stop();
      done(code);
    };
    const alive = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

    const start = (replacing?: number): void => {
      const worker = cluster.fork();
      worker.on("message", (m: WorkerMessage) => {
        if (m.type === "listening") {
          listening.add(worker.id);
          if (replacing !== undefined) o.write(`wharf: worker ${worker.process.pid} took over from worker ${replacing}`);
          if (!announced && listening.size === o.workers) {
            announced = true;
            o.ready(m);
          }
        }
        if (m.type === "failed" && !stopping) {
          stopping = true;
          for (const w of alive()) w.kill();
          finish(o.failed(Object.assign(new Error(m.error.message), { code: m.error.code, option: m.error.option })));
        }
      });
    };

    cluster.on("exit", (worker, code, signal) => {
      if (stopping) {
        if (alive().length === 0) finish(0);
        return;
      }
      // A crash must not take the site down: say so and replace the worker.
      o.write(`wharf: worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
      listening.delete(worker.id);
      start(worker.process.pid);
    });

    const delay = o.shutdownDelay ?? 0;
    const stop = onShutdownSignals(
      (signal) =>
        new Promise<void>((closed) => {
          stopping = true;
          const workers = alive();
          if (workers.length === 0) return closed();
          for (const w of workers) w.send({ type: "shutdown", drain: delays(signal) });
          // Workers bound their own wait by shutdownTimeout; this only guards a hung one.
          const timer = setTimeout(
            () => {
              for (const w of alive()) w.process.kill("SIGKILL");
            },
            (delays(signal) ? delay : 0) + o.shutdownTimeout + 2000,
          );
          cluster.on("exit", () => {
            if (alive().length === 0) {
              clearTimeout(timer);
              closed();
            }
          });
        }),
      { shutdownTimeout: o.shutdownTimeout, shutdownDelay: delay, write: o.write, exit: finish },
    );
    for (let i = 0; i < o.workers; i++) start();
  });
}
