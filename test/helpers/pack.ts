/**
 * The package as a user gets it: `npm pack` of this checkout, installed globally
 * into a clean prefix (for the `wharf` bin) and into a scratch project (for
 * `import`/`require` of the library). Built once per test file.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository (tests run from build/test/...). */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
/** The package's name, as users install it. */
export const PACKAGE_NAME = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { name: string }).name;

export interface Installed {
  /** The scratch directory holding everything below. */
  readonly work: string;
  /** The packed tarball. */
  readonly tarball: string;
  /** The installed `wharf` bin (global install into a clean prefix). */
  readonly bin: string;
  /** The globally installed package's directory. */
  readonly lib: string;
  /** A scratch project with the tarball as a dependency. */
  readonly project: string;
  remove(): void;
}

/** Packs and installs; `project: false` skips the scratch project. */
export function installPacked(options: { project?: boolean } = {}): Installed {
  const work = mkdtempSync(join(tmpdir(), "wharf-pack-"));
  const out = execFileSync("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", work], { cwd: REPO, encoding: "utf8" });
  const tarball = join(work, out.trim().split("\n").at(-1) ?? "");
  const prefix = join(work, "prefix");
  const quiet = ["--no-audit", "--no-fund", "--silent", "--prefer-offline"];
  execFileSync("npm", ["install", "-g", tarball, "--prefix", prefix, ...quiet], { cwd: work });
  const project = join(work, "project");
  if (options.project !== false) {
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", version: "1.0.0", private: true }));
    execFileSync("npm", ["install", tarball, ...quiet], { cwd: project });
  }
  return {
    work,
    tarball,
    project,
    bin: join(prefix, "bin", "wharf"),
    lib: join(prefix, "lib", "node_modules", PACKAGE_NAME),
    remove: () => rmSync(work, { recursive: true, force: true }),
  };
}
