// Runs wrk (pinned to its own CPU) and parses its report.
import { spawn } from "node:child_process";
import { sampleOtherLoad } from "./cpu.mjs";
import { track, untrack } from "./procs.mjs";

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }; // to milliseconds
const BINARY_UNITS = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** "1.23ms" -> 1.23 (ms); undefined when it does not parse. */
export function parseTime(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text?.trim() ?? "");
  return m ? Number(m[1]) * TIME_UNITS[m[2]] : undefined;
}

/** "12.50MB" -> bytes (wrk's units are binary); undefined when it does not parse. */
export function parseBytes(text) {
  const m = /^([\d.]+)([KMGTP]?)B$/.exec(text?.trim() ?? "");
  return m ? Number(m[1]) * BINARY_UNITS[m[2]] : undefined;
}

/**
 * Parses wrk's report (with --latency). Every field is looked for on its own,
 * so a missing section (e.g. no socket errors line) leaves zeros or undefined
 * rather than breaking the rest. Throws only when Requests/sec is absent: then
 * wrk did not run a test at all.
 */
export function parseWrk(output) {
  const num = (re) => {
    const m = re.exec(output);
    return m ? Number(m[1]) : undefined;
  };
  const rps = num(/^Requests\/sec:\s+([\d.]+)/m);
  if (rps === undefined) throw new Error(`wrk produced no result:\n${output.trim().slice(-1500)}`);

  const total = /^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w?B) read/m.exec(output);
  const percentile = (p) => parseTime(new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(output)?.[1]);
  const latencyLine = /^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const transfer = /^Transfer\/sec:\s+(\S+)/m.exec(output);

  return {
    requestsPerSec: rps,
    bytesPerSec: parseBytes(transfer?.[1]),
    requests: total ? Number(total[1]) : undefined,
    durationMs: total ? parseTime(total[2]) : undefined,
    bytesRead: total ? parseBytes(total[3]) : undefined,
    latencyMs: {
      avg: parseTime(latencyLine?.[1]),
      max: parseTime(latencyLine?.[3]),
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
    },
    socketErrors: socket
      ? { connect: +socket[1], read: +socket[2], write: +socket[3], timeout: +socket[4] }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx3xx: num(/^\s*Non-2xx or 3xx responses:\s+(\d+)/m) ?? 0,
  };
}

/**
 * Runs `taskset -c CPU wrk -t1 -cN -dDs --latency [-H ...] URL` and returns the
 * parsed report. Bounded: wrk stops itself after the duration; if it has not
 * exited 20 s after that, it is killed. wrk's --timeout is raised from 2 s to
 * 10 s so that a server that is merely slow (a listing at 20 requests/s over 50
 * connections takes 2.5 s per request) shows as slow, not as socket errors.
 * `watchPids` (the server) are sampled with wrk to measure other load (cpu.mjs).
 */
export function runWrk({ wrk, taskset, cpu, url, connections, durationS, headers = [], timeoutS = 10, watchPids = [] }) {
  const args = ["-c", String(cpu), wrk, "-t1", `-c${connections}`, `-d${durationS}s`, `--timeout`, `${timeoutS}s`, "--latency"];
  for (const h of headers) args.push("-H", h);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(taskset, args, { stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    const load = sampleOtherLoad([...watchPids, child.pid]);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), (durationS + 20) * 1000);
    child.on("error", (e) => {
      clearTimeout(killer);
      load.stop();
      untrack(child);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      untrack(child);
      const otherLoad = load.stop();
      if (signal) return reject(new Error(`wrk killed by ${signal}:\n${out.slice(-1500)}`));
      try {
        resolve({ ...parseWrk(out), otherLoad, raw: out });
      } catch (e) {
        reject(new Error(`wrk exited ${code}: ${e.message}`));
      }
    });
  });
}
