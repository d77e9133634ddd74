/**
 * Running a server in a child process and measuring it the way an operator
 * would: resident memory from /proc/PID/status, open descriptors from
 * /proc/PID/fd. Loopback only; every child is killed when its test ends.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ServeOptions } from "../../src/server/serve.js";

const CHILD = fileURLToPath(new URL("./child.js", import.meta.url));

/** Open file descriptors of `pid` (sockets, files, pipes, epoll, ...). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** The soft limit on open files of this process (what its children inherit). */
export function openFileLimit(pid: number | "self" = "self"): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return m === null || m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

export const MiB = 1024 * 1024;

/**
 * What this Node's RSS may grow, for a bound measured on Node 20 (`bytes`). Node
 * 24 keeps more native memory for the same work while the JS heap and buffers
 * stay where they were (measured by these tests, after two full collections):
 * 17.6 KiB per idle connection against 11.3 on Node 22; +137 MiB after 10,000
 * aborted downloads with heap and buffers +0.2 MiB; +266 MiB for the 4 GiB zip
 * with 14 MB of heap. Its RSS bounds are 2.5 times Node 20's; the heap bounds,
 * which catch what wharf itself keeps, are the same on every Node.
 */
export function rssBound(bytes: number): number {
  return Number(process.versions.node.split(".")[0]) >= 24 ? 2.5 * bytes : bytes;
}

/** A server child process. */
export interface ServerChild {
  readonly pid: number;
  readonly port: number;
  readonly process: ChildProcess;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /**
   * Collects garbage in the child, then reports; measure right after this.
   * `arrayBuffers`: bytes held in Buffers (process.memoryUsage()), which RSS
   * also counts along with what the C allocator keeps after they are freed.
   */
  settle(): Promise<{ inFlight: number; errors: string[]; memory: NodeJS.MemoryUsage; arrayBuffers: number }>;
  /** Graceful close, then waits for exit; resolves with the exit code. */
  close(): Promise<number | null>;
  kill(): void;
}

/** Whether `prlimit` can be used to start a child with a lower descriptor limit. */
export const hasPrlimit = spawnSync("prlimit", ["--version"]).status === 0;

/**
 * Starts `serve(options)` in a child process on 127.0.0.1, port 0. `nofile` caps
 * its open descriptors (soft and hard): with prlimit, once the server listens;
 * without it, `ulimit -n` from the start.
 *
 * Once it listens, because Node's module loader reads a module graph's files
 * concurrently: a child limited to 64 from the start failed now and then to
 * load wharf at all (EMFILE opening one of its modules, CI 2026-12-01), which
 * is not what the limit is there to test.
 */
export async function startServerChild(options: ServeOptions, limits: { nofile?: number } = {}): Promise<ServerChild> {
  const node = [process.execPath, "--expose-gc", CHILD, JSON.stringify(options)];
  const [cmd, ...args] =
    limits.nofile === undefined || hasPrlimit ? node : ["sh", "-c", `ulimit -n ${limits.nofile} && exec "$@"`, "sh", ...node];
  const child = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server child did not start: ${err}`)), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line !== undefined) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once("exit", (code) => reject(new Error(`server child exited ${code}: ${err}`)));
  });
  if (limits.nofile !== undefined && hasPrlimit) {
    const set = spawnSync("prlimit", ["--pid", String(child.pid), `--nofile=${limits.nofile}:${limits.nofile}`], { encoding: "utf8" });
    if (set.status !== 0) {
      child.kill("SIGKILL");
      throw new Error(`prlimit --pid ${child.pid}: ${set.stderr}`);
    }
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const request = <T>(type: string, reply: string): Promise<T> =>
    new Promise((resolve) => {
      const on = (m: { type?: string }): void => {
        if (m.type !== reply) return;
        child.off("message", on);
        resolve(m as T);
      };
      child.on("message", on);
      child.send({ type });
    });
  return {
    pid: child.pid!,
    port,
    process: child,
    stderr: () => err,
    settle: () => request("gc", "gc"),
    close: async () => {
      if (child.exitCode === null) child.send({ type: "close" });
      return exited;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
