/**
 * Where wharf comes from, for the lines the CLI prints. The command is `wharf`;
 * the package is `wharf-server`, because `wharf` on npm is an unrelated package.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The name on npm: what `npx`, `npm i` and `import` use. */
export const PACKAGE_NAME = "wharf-server";

/** The docs as published with the repository, for when no copy is installed. */
export const DOCS_URL = "https://github.com/wharf-server/wharf/blob/main/docs/";

/**
 * Where to read a doc (`tls.md`): the copy installed with the package (it ships
 * docs/, one level above dist/), else the published one. A relative `docs/tls.md`
 * means nothing in the directory a user happens to serve.
 */
export function docLocation(name: string): string {
  // dist/cli/about.js when installed; build/src/cli/about.js in the tests.
  for (const up of ["../../docs/", "../../../docs/"]) {
    const path = fileURLToPath(new URL(up + name, import.meta.url));
    if (existsSync(path)) return path;
  }
  return DOCS_URL + name;
}
