/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (never
 * a downloaded browser), and the built `wharf` binary started as a person would.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

export const CHROMIUM = "/usr/bin/chromium";
/** Whether Chromium is installed; under CI its absence is an error, not a skip. */
export const chromiumPresent = existsSync(CHROMIUM);
if (!chromiumPresent && process.env["CI"] === "true") {
  throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)`);
}
/** For `test(..., { skip })`: false, or why the test cannot run here. */
export const skipWithoutChromium: false | string = !chromiumPresent && `${CHROMIUM} not installed`;

/** Launch options: headless, and quiet on this machine's closed network. */
export function launchOptions(extraArgs: readonly string[] = []) {
  return {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", ...extraArgs],
  };
}

const BIN = fileURLToPath(new URL("../../../dist/cli/bin.js", import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** A running `wharf` process: its banner, and what it has logged so far. */
export interface RunningWharf {
  readonly banner: string;
  readonly log: () => string;
}

/** Starts the built `wharf` with `args` and resolves once its banner is printed; killed after the file's tests. */
export async function startWharf(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunningWharf> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  for (const t0 = performance.now(); !out.includes("Press Ctrl+C"); await new Promise((r) => setTimeout(r, 20))) {
    assert.ok(performance.now() - t0 < 10_000, `no banner; stderr: ${err}`);
  }
  return { banner: out, log: () => err };
}
