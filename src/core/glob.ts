/**
 * Glob matchers, with picomatch loaded at the first glob rather than with the
 * package (issue 12 item 9): `import "wharf-server"` and a handler without
 * `cache`, `unlisted`, `headers`, `redirects` or `rewrites` globs never load it.
 * picomatch is CommonJS and globs are compiled synchronously, when options are
 * resolved, so it is loaded with require(): the same code a static import would
 * load, only later. test/package/deps.test.ts checks which dependencies load when.
 */
import { createRequire } from "node:module";
import type picomatchModule from "picomatch";

type Picomatch = typeof picomatchModule;
let picomatch: Picomatch | undefined;

/** Options of {@link globMatcher}: picomatch's. */
export type GlobOptions = picomatchModule.PicomatchOptions;

/** Whether a `/`-separated relative path matches `glob` (picomatch syntax). */
export function globMatcher(glob: string, options?: GlobOptions): (path: string) => boolean {
  picomatch ??= createRequire(import.meta.url)("picomatch") as Picomatch;
  return picomatch(glob, options);
}
