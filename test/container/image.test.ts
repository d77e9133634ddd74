/**
 * The container image (issue 15 item 7), verified without a container engine:
 * the Dockerfile's final stage is read (test/helpers/dockerfile.ts), and its
 * exact ENTRYPOINT + CMD runs here as an unprivileged user (nobody, through
 * setpriv, when the tests run as root) on a tree it cannot write, with the
 * image's environment (PORT replaced by a free port, as a platform would set
 * it). It must pass its own probes and HEALTHCHECK, then drain on its
 * STOPSIGNAL and exit 0. `npm run test:container` builds and runs the real
 * image where docker or podman is available (docs/operations.md).
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseCommandLine } from "../../src/cli/flags.js";
import { LIVEZ, READYZ } from "../../src/server/health.js";
import { BIN, runCli, startCli } from "../helpers/cli.js";
import { finalImage } from "../helpers/dockerfile.js";
import { rawRequest } from "../helpers/raw.js";
import { within } from "../helpers/wait.js";

const image = finalImage();
const NOBODY = 65534;
const root = process.getuid?.() === 0;
/** How this test runs a command as the image's unprivileged user would. */
const asUser = root ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"] : [];

// The site: read-only, owned by whoever runs the tests (root in CI), as files
// COPY'd into an image are owned by root.
const site = mkdtempSync(join(tmpdir(), "wharf-image-"));
after(() => {
  chmodSync(site, 0o755);
  chmodSync(join(site, "css"), 0o755);
  rmSync(site, { recursive: true, force: true });
});
writeFileSync(join(site, "index.html"), "<!doctype html><p>from the image</p>");
mkdirSync(join(site, "css"));
writeFileSync(join(site, "css", "site.css"), "p{color:teal}");
for (const f of ["index.html", "css/site.css"]) chmodSync(join(site, f), 0o444);
chmodSync(join(site, "css"), 0o555);
chmodSync(site, 0o555);

/** The image's command line for this machine: `wharf` is the built CLI, `/srv` the site. */
function here(argv: readonly string[]): string[] {
  assert.equal(argv[0], "wharf", `the image runs wharf first: ${argv.join(" ")}`);
  return argv.slice(1).map((a) => (a === image.workdir ? site : a));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("Dockerfile: what the image declares", () => {
  test("a numeric, unprivileged USER (runAsNonRoot can check it)", () => {
    const uid = /^(\d+)(?::(\d+))?$/.exec(image.user ?? "");
    assert.ok(uid !== null, `USER ${image.user} is not numeric`);
    assert.notEqual(Number(uid[1]), 0);
  });
  test("STOPSIGNAL SIGTERM: the signal wharf drains on", () => assert.equal(image.stopSignal, "SIGTERM"));
  test("HEALTHCHECK runs wharf healthcheck, in exec form (no shell, no curl)", () => {
    assert.deepEqual(image.healthcheck, ["wharf", "healthcheck"]);
    assert.match(image.healthcheckOptions, /--timeout=\d+s/);
  });
  test("the command line is wharf's: --health, a shutdown delay, the site in WORKDIR, the port EXPOSEd", () => {
    const line = parseCommandLine(image.command.slice(1));
    assert.equal(line.kind, "run", JSON.stringify(line));
    if (line.kind !== "run") return;
    assert.equal(line.options.health, true);
    assert.ok((line.options.shutdownDelay ?? 0) > 0, "no --shutdown-delay");
    assert.equal(line.options.root, image.workdir);
    assert.equal(line.options.port, undefined, "the port comes from PORT, which platforms set");
    assert.deepEqual(image.expose, [image.env["PORT"]]);
  });
});

describe("the image's command, run here as an unprivileged user on a read-only tree", () => {
  test("serves, passes its probes and its HEALTHCHECK, drains on STOPSIGNAL, exits 0", async () => {
    const port = await freePort();
    const env = { ...image.env, PORT: String(port), WHARF_PORT: undefined, HOME: "/nonexistent" };
    const cli = await startCli(here(image.command), { command: [...asUser, process.execPath, BIN], env, cwd: site });
    if (root) {
      // setpriv execs: the server's own process, and its real user.
      const status = readFileSync(`/proc/${cli.child.pid}/status`, "utf8");
      assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s`, "m"), "not running as nobody");
    }
    assert.equal(cli.port, port, "not on PORT");
    for (const path of [LIVEZ, READYZ]) {
      const got = await rawRequest(port, "GET", path);
      assert.equal(got.status, 200, path);
      assert.equal(got.body.toString(), "ok\n");
    }
    const page = await rawRequest(port, "GET", "/");
    assert.equal(page.body.toString(), "<!doctype html><p>from the image</p>");
    const check = runCli(here(image.healthcheck), { command: [...asUser, process.execPath, BIN], env, cwd: site });
    assert.equal(check.status, 0, check.stderr);
    assert.equal(check.stdout, `http://127.0.0.1:${port}${READYZ}: 200 ok\n`);

    cli.child.kill(image.stopSignal as NodeJS.Signals);
    assert.ok(await cli.err.until(/draining/), cli.stderr());
    assert.equal((await rawRequest(port, "GET", READYZ)).status, 503);
    const draining = runCli(here(image.healthcheck), { command: [...asUser, process.execPath, BIN], env, cwd: site });
    assert.equal(draining.status, 1, "HEALTHCHECK passes while draining");
    // Exits by itself after the delay and the graceful close, well within a
    // terminationGracePeriodSeconds above both.
    assert.deepEqual(await within(cli.exited, "still running", { deadline: 30_000 }), { code: 0, signal: null });
    // Nothing written: the tree is as it was.
    assert.deepEqual(readdirSync(site).sort(), ["css", "index.html"]);
    assert.equal(statSync(join(site, "index.html")).mode & 0o777, 0o444);
  });
});
