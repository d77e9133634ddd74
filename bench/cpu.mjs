// Detects measurements disturbed by something else on the machine: while wrk
// runs, samples the CPU time the whole machine spent (/proc/stat) and the CPU
// time of the processes under test (server, wrk, this script). What the machine
// spent beyond those, plus hypervisor steal, is "other load", in % of one CPU.
// Interrupt and softirq time, and kernel threads (ksoftirqd, kworkers), are left
// out: loopback networking is accounted there and belongs to the test itself.
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second for /proc times (USER_HZ; 100 on Linux). */
const HZ = 100;

function machineTicks() {
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: f[0] + f[1] + f[2], steal: f[7] ?? 0 };
}

function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined; // exited
  }
}

/** CPU ticks of all kernel threads (children of kthreadd, pid 2). */
function kernelThreadTicks() {
  let total = 0;
  for (const name of readdirSync("/proc")) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (f[1] === "2" || name === "2") total += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function sample(pids) {
  const procs = pids.map(processTicks);
  if (procs.some((t) => t === undefined)) return undefined;
  const self = process.cpuUsage();
  return {
    at: performance.now(),
    ...machineTicks(),
    procs,
    ours: procs.reduce((a, b) => a + b, 0) + kernelThreadTicks() + ((self.user + self.system) / 1e6) * HZ,
  };
}

/**
 * Starts sampling every `intervalMs` until stop(). Only samples in which every
 * pid is still alive count, so the window ends at the last sample before wrk
 * exits. stop() returns { otherPct, stealPct, pidPct, windowS } (pidPct: each
 * pid's own CPU use, in the order given) or undefined when the
 * window was too short to say anything (or /proc is not there).
 */
export function sampleOtherLoad(pids, intervalMs = 200) {
  let first;
  let last;
  const take = () => {
    try {
      const s = sample(pids);
      if (s === undefined) return;
      first ??= s;
      last = s;
    } catch {
      // no /proc: nothing to say
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      if (!first || !last || last.at - first.at < 1000) return undefined;
      const windowTicks = ((last.at - first.at) / 1000) * HZ;
      const other = Math.max(0, last.busy - first.busy - (last.ours - first.ours));
      const steal = last.steal - first.steal;
      return {
        otherPct: Math.round(((other + steal) / windowTicks) * 100),
        stealPct: Math.round((steal / windowTicks) * 100),
        pidPct: last.procs.map((t, i) => Math.round(((t - first.procs[i]) / windowTicks) * 100)),
        windowS: Math.round((last.at - first.at) / 100) / 10,
      };
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU the whole machine spent over `ms`, in % of one CPU (call it when nothing of ours runs). */
export async function machineBusyPct(ms = 1000) {
  try {
    const a = machineTicks();
    const t = performance.now();
    await sleep(ms);
    const b = machineTicks();
    const windowTicks = ((performance.now() - t) / 1000) * HZ;
    return Math.round(((b.busy - a.busy + b.steal - a.steal) / windowTicks) * 100);
  } catch {
    return 0; // no /proc: assume quiet
  }
}

/**
 * Waits until the machine has been quiet (below `maxPct` of one CPU) for a
 * second, at most `timeoutMs`. Resolves the busy % last seen.
 */
export async function waitForQuiet(maxPct, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let busy = await machineBusyPct();
  while (busy > maxPct && performance.now() < deadline) busy = await machineBusyPct();
  return busy;
}
