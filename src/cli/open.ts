/**
 * `-o/--open`: show the site in the person's browser once it is served. Opening is
 * a convenience: if there is no opener (a server, a container) or it fails, wharf
 * says so in one line and keeps serving.
 */
import { spawn } from "node:child_process";

/** Opens `url` in a browser; never throws. Tests pass their own. */
export type Opener = (url: string, warn: (line: string) => void) => void;

/** The platform's own opener: `open` (macOS), `start` (Windows), `xdg-open` (everything else). */
export function openerCommand(platform: NodeJS.Platform, url: string): { command: string; args: string[] } {
  if (platform === "darwin") return { command: "open", args: [url] };
  // `start` is a cmd built-in; the empty "" is the window title it would take the URL for.
  if (platform === "win32") return { command: "cmd", args: ["/c", "start", '""', url.replace(/&/g, "^&")] };
  return { command: "xdg-open", args: [url] };
}

export const systemOpener: Opener = (url, warn) => {
  const { command, args } = openerCommand(process.platform, url);
  try {
    const child = spawn(command, args, { stdio: "ignore", detached: true, windowsHide: true });
    child.once("error", (e: NodeJS.ErrnoException) =>
      warn(`could not open a browser (${command}: ${e.code ?? e.message}); open ${url} yourself`),
    );
    // Present but failing (xdg-open without a browser exits 3): say so as well.
    child.once("exit", (code, signal) => {
      if (code !== 0 && code !== null) warn(`could not open a browser (${command} exited with ${code}); open ${url} yourself`);
      else if (signal !== null) warn(`could not open a browser (${command} ended by ${signal}); open ${url} yourself`);
    });
    child.unref();
  } catch (e) {
    warn(`could not open a browser (${(e as Error).message}); open ${url} yourself`);
  }
};
