// The server under attack: the built CLI (dist/cli/bin.js) as a child process on
// a free loopback port, and what an operator would read about it in /proc.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** This checkout's build; `--bin` names another. */
export const BIN = fileURLToPath(new URL("../../dist/cli/bin.js", import.meta.url));
const MiB = 1024 * 1024;

/** Whether this build of wharf knows `--send-timeout` (another change adds it). */
export function hasSendTimeoutFlag(bin = BIN) {
  return helpOf(bin).includes("--send-timeout");
}

/**
 * Whether this build explains 404s to loopback clients (`--explain`, default
 * `auto`). The attackers run on loopback only because a load test must; a real
 * attacker is not on the server's machine, so the server is started with
 * `--explain off` and answers them as it would answer anyone else.
 */
export function hasExplainFlag(bin = BIN) {
  return helpOf(bin).includes("--explain");
}

function helpOf(bin) {
  const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
  if (help.status !== 0) throw new Error(`wharf --help failed (is dist/ built? run npm run build): ${help.stderr}`);
  return help.stdout;
}

/**
 * Starts wharf on `host`, port 0, serving `root` with the root as working
 * directory (so the wharf.json inside it is the configuration). Resolves once it
 * listens.
 */
export async function startWharf({ bin = BIN, base, root, host, tls, sendTimeoutMs, sendTimeoutFlag }) {
  const args = [resolve(bin), "0", "-b", host, "-d", root, "-q"];
  if (tls) args.push("--tls");
  if (sendTimeoutFlag) args.push("--send-timeout", String(sendTimeoutMs / 1000));
  if (hasExplainFlag(bin)) args.push("--explain", "off");
  // The development certificate goes to $XDG_CONFIG_HOME/wharf: a temp one, not the user's.
  const config = join(base, "xdg");
  mkdirSync(config, { recursive: true });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "PORT" && !k.startsWith("WHARF_")));
  const child = spawn(process.execPath, args, { cwd: root, env: { ...env, XDG_CONFIG_HOME: config }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (err = (err + c).slice(-20_000)));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  const deadline = performance.now() + 30_000;
  while (!/Press Ctrl\+C/.test(out)) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`wharf did not start: ${out}${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/(?:127\.0\.0\.1|\[::1\]):(\d+)/.exec(out)?.[1]);
  if (!(port > 0)) throw new Error(`no port in wharf's banner: ${out}`);
  return {
    pid: child.pid,
    port,
    args: args.join(" "),
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    exitCode: () => child.exitCode ?? child.signalCode,
    stderr: () => err,
    /** SIGTERM, then SIGKILL after `ms`; resolves with the exit code. */
    stop: async (ms = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** RSS now and its high-water mark (VmHWM), in MiB, and open descriptors; `undefined` once the process is gone. */
export function measure(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0);
    return { rssMiB: (kb("VmRSS") * 1024) / MiB, hwmMiB: (kb("VmHWM") * 1024) / MiB, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

/** Samples `pid` every `everyMs`, keeping the peaks, until stopped. */
export function sampler(pid, everyMs = 200) {
  const peak = { rssMiB: 0, hwmMiB: 0, fds: 0 };
  let last;
  const take = () => {
    const m = measure(pid);
    if (m === undefined) return;
    last = m;
    peak.rssMiB = Math.max(peak.rssMiB, m.rssMiB);
    peak.hwmMiB = Math.max(peak.hwmMiB, m.hwmMiB);
    peak.fds = Math.max(peak.fds, m.fds);
  };
  take();
  const timer = setInterval(take, everyMs);
  return { peak, last: () => last, take, stop: () => clearInterval(timer) };
}
