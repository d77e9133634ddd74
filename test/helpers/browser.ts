/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (never
 * a downloaded browser). They start the built `wharf` with startCli (./cli.ts).
 */
import { existsSync } from "node:fs";

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
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  };
}
