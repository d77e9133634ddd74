/**
 * `--workers N`: N processes serve one port. Where Node can (22.12 and later, on
 * Linux or FreeBSD: bind.ts `reusePortAvailable`), each worker binds a socket of
 * its own with `SO_REUSEPORT` and the kernel spreads new connections over them:
 * the primary takes no part in accepting, which with `cluster`'s default (the
 * primary accepts and passes each connection to a worker over IPC) costs a
 * message per connection (docs/benchmarks.md measures both). The first worker
 * binds (port 0, or the next free one when 8000 is busy) and the others, and any
 * replacement, bind the port it got. Elsewhere, `cluster`'s shared socket.
 * Either way workers are cluster workers: the primary supervises them and, with
 * `--metrics`, serves one scrape for all of them (server/metrics.ts). The primary prints
 * the banner once, reports the first startup error as the one line it is, replaces
 * a worker that dies, and on SIGINT/SIGTERM asks every worker to close gracefully.
 *
 * Workers ignore the signals themselves: Ctrl+C reaches the whole process group,
 * and a worker that took it as its own shutdown *and* got the primary's request
 * would read the second as "exit now" and cut its downloads.
 */
import cluster, { type Worker } from "node:cluster";
import { reusePortAvailable } from "../server/bind.js";
import { listenMetrics, type MetricsAddress, type MetricsListener, workersMetrics } from "../server/metrics.js";
import type { RunningServer, ServeOptions } from "../server/serve.js";
import { serveWith } from "../server/serve.js";
import { delays, onShutdownSignals } from "../server/shutdown.js";

/** How the workers share the port. */
export type WorkerMode = "reuseport" | "cluster";

/** Set in a worker's environment: bind with SO_REUSEPORT; and the port, once the first worker has one. */
const REUSE_PORT_ENV = "WHARF_WORKER_REUSE_PORT";
const PORT_ENV = "WHARF_WORKER_PORT";

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
    const reusePort = process.env[REUSE_PORT_ENV] === "1";
    const port = process.env[PORT_ENV];
    const settled = await options;
    server = await serveWith(port === undefined ? settled : { ...settled, port: Number(port) }, { reusePort, worker: true });
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

/**
 * The workers that have not exited. `cluster.workers` is not that: Node removes a
 * worker from it only once both its process has exited and its IPC channel has
 * closed, and the two events come in either order. When 'exit' comes last the
 * worker is already gone from the list; when it comes first (seen under load)
 * the exited worker is still listed, and a primary waiting for "no worker left"
 * on 'exit' waits forever.
 */
export function living(workers: NodeJS.Dict<Worker> | undefined): Worker[] {
  return Object.values(workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
}

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  readonly workers: number;
  readonly shutdownTimeout: number;
  /** `--shutdown-delay` in ms: how long workers drain after SIGTERM before closing. */
  readonly shutdownDelay?: number;
  /** Where the workers' metrics are served, summed; `undefined` for none. */
  readonly metrics: MetricsAddress | undefined;
  /** How the port is shared. @default "reuseport" where available, else "cluster" */
  readonly mode?: WorkerMode;
  /** Called once, when every worker first listens, with the first one's addresses. */
  readonly ready: (
    server: Pick<RunningServer, "urls" | "addresses" | "features" | "movedFrom" | "metricsUrl"> & { readonly mode: WorkerMode },
  ) => void;
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
    const mode = o.mode ?? (reusePortAvailable() ? "reuseport" : "cluster");
    // With reusePort: the port the first worker bound, which every other binds too.
    let port: number | undefined;
    let first: Extract<WorkerMessage, { type: "listening" }> | undefined;
    let metrics: MetricsListener | undefined;
    let announced = false;
    let stopping = false;
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      stop();
      for (const server of metrics?.servers ?? []) server.close();
      done(code);
    };
    const fail = (error: Error & { code?: string | undefined; option: boolean }): void => {
      if (stopping) return;
      stopping = true;
      for (const w of alive()) w.kill();
      finish(o.failed(error));
    };
    // Every worker listens: the metrics listener, then the banner, once.
    const announce = async (): Promise<void> => {
      announced = true;
      if (o.metrics !== undefined) {
        try {
          const { text, contentType } = await workersMetrics();
          metrics = await listenMetrics(text, contentType, o.metrics);
          // A signal (or a failed worker) ended the run while the listener was binding:
          // finish() found nothing to close, so close it here or it keeps the process alive.
          if (finished) for (const server of metrics.servers) server.close();
        } catch (e) {
          const code = (e as { code?: unknown }).code;
          fail(
            Object.assign(e instanceof Error ? e : new Error(String(e)), {
              code: typeof code === "string" ? code : undefined,
              option: false,
            }),
          );
          return;
        }
      }
      if (!stopping) o.ready({ ...first!, mode, metricsUrl: metrics?.url });
    };
    const alive = (): Worker[] => living(cluster.workers);

    const start = (replacing?: number): void => {
      const env = mode === "cluster" ? {} : { [REUSE_PORT_ENV]: "1", ...(port === undefined ? {} : { [PORT_ENV]: String(port) }) };
      const worker = cluster.fork(env);
      worker.on("message", (m: WorkerMessage) => {
        if (m.type === "listening") {
          listening.add(worker.id);
          first ??= m;
          if (replacing !== undefined) o.write(`wharf: worker ${worker.process.pid} took over from worker ${replacing}`);
          // reusePort: the first worker has chosen the port; the others bind it now.
          if (mode === "reuseport" && port === undefined) {
            port = m.addresses[0]!.port;
            for (let i = 1; i < o.workers; i++) start();
          }
          if (!announced && listening.size === o.workers) void announce();
        }
        if (m.type === "failed") fail(Object.assign(new Error(m.error.message), { code: m.error.code, option: m.error.option }));
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
    // reusePort: one worker first, to choose the port (see `start`).
    for (let i = 0; i < (mode === "reuseport" ? 1 : o.workers); i++) start();
  });
}
