/**
 * The built `wharf` binary (dist/cli/bin.js) run as a person runs it, in one
 * place: {@link startCli} spawns it and resolves once its banner is out, with
 * the URL the banner names; {@link runCli} runs a one-shot command to the end.
 * Every started process is killed when its test file ends (or at
 * {@link stopAll}, for files that want a clean slate per test).
 */
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import type { Readable } from "node:stream";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { collect, type Output, type WaitOptions } from "./wait.js";

/** Compiled to build/test/helpers/, so the repository is three levels up. */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const BIN = fileURLToPath(new URL("../../../dist/cli/bin.js", import.meta.url));

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliOptions {
  /** Working directory of the process. @default this process's */
  readonly cwd?: string;
  /** Variables set (or, as `undefined`, removed) over this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** The command to run instead of `node dist/cli/bin.js` (an installed `wharf`, run by its shebang). */
  readonly command?: readonly string[];
  /** How long to wait for the banner (or, for runCli, the exit). @default 30_000 */
  readonly deadline?: number;
}

/** A running `wharf`. */
export interface RunningCli {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** The URL the banner names (`Serving DIR at URL ...`). */
  readonly url: string;
  readonly port: number;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Waits (on each chunk written, no polling) until stdout / stderr matches. */
  readonly out: Output;
  readonly err: Output;
  /** Resolves when the process has exited and its output has been read to the end. */
  readonly exited: Promise<Exit>;
  /** Sends `signal` (default SIGKILL) unless it has exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<RunningCli>();
/** Kills every process started by {@link startCli} that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}
after(stopAll);

function environment(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  return { ...process.env, ...env };
}

/**
 * Starts `wharf ...args` and resolves once it has printed "Press Ctrl+C"; rejects
 * with its stderr if it exits first or prints no banner within the deadline.
 */
export async function startCli(args: readonly string[], options: CliOptions = {}): Promise<RunningCli> {
  const [file, ...before] = options.command ?? [process.execPath, BIN];
  const child = spawn(file!, [...before, ...args], {
    cwd: options.cwd,
    env: environment(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  // "close", not "exit": by then stdout and stderr have been read to their end.
  const exited = new Promise<Exit>((resolve) =>
    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })),
  );
  let url = "";
  const stop = async (signal: NodeJS.Signals = "SIGKILL"): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    // Resolves after the exit: if this test's children outlived it, the next ones do not race them.
    const exit = await exited;
    running.delete(cli);
    return exit;
  };
  const cli: RunningCli = {
    child,
    get url() {
      return url;
    },
    get port() {
      return Number(new URL(url).port);
    },
    stdout: out.text,
    stderr: err.text,
    out,
    err,
    exited,
    stop,
  };
  running.add(cli);
  const deadline: WaitOptions = { deadline: options.deadline ?? 30_000 };
  if (!(await out.until(/Press Ctrl\+C/, deadline))) {
    await stop();
    throw new Error(`wharf ${args.join(" ")}: no banner; stdout: ${out.text()}; stderr: ${err.text()}`);
  }
  const named = / at (https?:\/\/\S+\/)/.exec(out.text())?.[1];
  if (named === undefined) throw new Error(`no URL in the banner: ${JSON.stringify(out.text())}`);
  url = named;
  return cli;
}

/** Runs a one-shot `wharf ...args` (--help, a usage error) to its end. */
export function runCli(args: readonly string[], options: CliOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const [file, ...before] = options.command ?? [process.execPath, BIN];
  const r = spawnSync(file!, [...before, ...args], {
    cwd: options.cwd,
    env: environment(options.env),
    encoding: "utf8",
    timeout: options.deadline ?? 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
