// `npm run test:container`: builds the image from the Dockerfile and runs it the
// way production does, where a container engine (docker or podman) answers:
// a read-only root file system, every capability dropped, no new privileges,
// the site mounted read-only. It waits for the engine's own HEALTHCHECK to say
// "healthy", asks the probes and a file through the published port, then stops
// the container with its STOPSIGNAL and checks that it drained and exited 0.
// Without an engine it says so and exits 0: the same command line is run as an
// unprivileged user by test/container/image.test.ts in every `npm test`.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ENGINES = ["docker", "podman"];
const engine = ENGINES.find((e) => spawnSync(e, ["info"], { stdio: "ignore", timeout: 20_000 }).status === 0);
if (engine === undefined) {
  console.log(`test:container: skipped: no container engine answers here (tried ${ENGINES.map((e) => `'${e} info'`).join(", ")})`);
  console.log("test:container: the image's command line is still run as an unprivileged user by test/container/image.test.ts");
  process.exit(0);
}

const TAG = "wharf-test:local";
const NAME = `wharf-test-${process.pid}`;
const run = (args, options = {}) => {
  const r = spawnSync(engine, args, { encoding: "utf8", ...options });
  if (r.status !== 0 && options.check !== false) {
    throw new Error(`${engine} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return r;
};
const deadline = async (what, ms, probe) => {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
};

const site = mkdtempSync(join(tmpdir(), "wharf-container-"));
writeFileSync(join(site, "index.html"), "<!doctype html><p>from the container</p>");
let failed = false;
try {
  console.log(`test:container: building ${TAG} with ${engine}`);
  run(["build", "-t", TAG, "."], { stdio: "inherit" });
  run([
    "run",
    "-d",
    "--name",
    NAME,
    "--read-only",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "-p",
    "127.0.0.1::8000",
    "-v",
    `${site}:/srv:ro`,
    TAG,
  ]);
  const port = run(["port", NAME, "8000/tcp"]).stdout.trim().split(":").at(-1);
  const base = `http://127.0.0.1:${port}`;
  await deadline("HEALTHCHECK healthy", 60_000, () => {
    const status = run(["inspect", "--format", "{{.State.Health.Status}}", NAME], { check: false }).stdout.trim();
    return status === "healthy";
  });
  console.log("test:container: the engine's HEALTHCHECK says healthy");
  for (const [path, want] of [
    ["/__wharf/livez", "ok\n"],
    ["/__wharf/readyz", "ok\n"],
    ["/", "<!doctype html><p>from the container</p>"],
  ]) {
    const res = await fetch(base + path);
    const body = await res.text();
    if (res.status !== 200 || body !== want) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  }
  const user = run(["exec", NAME, "node", "-e", "process.stdout.write(String(process.getuid()))"]).stdout.trim();
  if (user === "0") throw new Error("the container runs as root");
  console.log(`test:container: probes and the site answer; the process runs as uid ${user}`);
  // delay 5 s + timeout 10 s, and a margin.
  run(["stop", "-t", "20", NAME]);
  const code = run(["inspect", "--format", "{{.State.ExitCode}}", NAME]).stdout.trim();
  const logs = run(["logs", NAME]);
  if (code !== "0") throw new Error(`exit code ${code} after stop`);
  if (!/draining/.test(logs.stderr + logs.stdout)) throw new Error(`no drain in the logs: ${logs.stderr}`);
  console.log("test:container: stopped: drained, exit code 0");
} catch (e) {
  failed = true;
  console.error(`test:container: FAILED: ${e.message}`);
} finally {
  run(["rm", "-f", NAME], { check: false, stdio: "ignore" });
  rmSync(site, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
