// Every child process the benchmark starts is tracked here, so that an error,
// Ctrl+C or SIGTERM kills them all (each by its own PID) before exiting.
const live = new Set();
const cleanups = [];

export function track(child) {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

export function untrack(child) {
  live.delete(child);
}

/** Registers a synchronous function to run on exit (e.g. removing the temp dir). */
export function onCleanup(fn) {
  cleanups.push(fn);
}

export function killAll() {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

let cleaned = false;
export function cleanupNow() {
  if (cleaned) return;
  cleaned = true;
  killAll();
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

/** Installs the handlers once: on a signal or an uncaught error, clean up and exit. */
export function installExitHandlers() {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every server and wrk ...\n`);
      cleanupNow();
      process.exit(130);
    });
  }
  process.once("exit", cleanupNow);
}
