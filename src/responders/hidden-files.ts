/**
 * The {@link VisibilityRules} of a handler, with I/O: the root's canonical path,
 * the canonical paths of the files the operator hides (a `wharf.json` or
 * htpasswd file inside the root), and whether the root's file system folds case.
 *
 * Hidden files are hidden by real path where paths are resolved, not by URL: a
 * rewrite (`/files/:name` to `/:name`), a clean URL, an index or a sidecar all
 * reach the same canonical path, and a URL-level rule missed every one of them
 * (issue 10 item 7).
 */
import { basename, dirname, join, sep } from "node:path";
import { sameFile } from "../core/identity.js";
import type { FileSystem } from "../fs/types.js";
import type { VisibilityRules } from "../path/visibility.js";

/** What the rules are built from. */
export interface RulesInput {
  readonly root: string;
  readonly fs: FileSystem;
  readonly dotfiles: VisibilityRules["dotfiles"];
  readonly symlinks: VisibilityRules["symlinks"];
  /** Absolute paths. */
  readonly hiddenFiles: readonly string[];
}

/** `aBc` → `AbC`: the name a case-insensitive file system would find as the same. */
function swapCase(name: string): string {
  let out = "";
  for (const ch of name) {
    const upper = ch.toUpperCase();
    out += upper === ch ? ch.toLowerCase() : upper;
  }
  return out;
}

/**
 * Whether the file system at `path` finds a name whatever its case: the
 * nearest component of `path` with a cased letter, looked up with its case
 * swapped, is the same object (macOS and Windows by default, ext4 casefold
 * directories). `false` when nothing on the way has a cased letter to try.
 */
async function foldsCase(fs: FileSystem, path: string): Promise<boolean> {
  for (let at = path; dirname(at) !== at; at = dirname(at)) {
    const name = basename(at);
    const swapped = swapCase(name);
    if (swapped === name) continue;
    const [a, b] = await Promise.all([fs.stat(at), fs.stat(join(dirname(at), swapped))].map((p) => p.catch(() => undefined)));
    if (a === undefined) continue; // not there (yet): try the directory above
    return b !== undefined && a.kind === b.kind && sameFile(a, b);
  }
  return false;
}

/** The canonical path of `path`, or of its directory plus its name when it does not exist (yet). */
async function canonicalPath(fs: FileSystem, path: string): Promise<string | undefined> {
  try {
    return await fs.realpath(path);
  } catch {
    const parent = await fs.realpath(dirname(path)).catch(() => undefined);
    return parent === undefined ? undefined : parent.endsWith(sep) ? parent + basename(path) : parent + sep + basename(path);
  }
}

/**
 * Builds the rules once per handler. Case folding is probed where it matters:
 * at the hidden files themselves (their directory's file system decides whether
 * `WHARF.JSON` finds `wharf.json`), else at the root.
 */
export async function canonicalRules(input: RulesInput): Promise<VisibilityRules> {
  const { fs } = input;
  const root = await fs.realpath(input.root);
  if (input.hiddenFiles.length === 0) {
    return { root, dotfiles: input.dotfiles, symlinks: input.symlinks, hiddenFiles: new Set(), fold: (p) => p };
  }
  const canonical = (await Promise.all(input.hiddenFiles.map((p) => canonicalPath(fs, p)))).filter((p): p is string => p !== undefined);
  let folds = false;
  for (const path of [...canonical, root]) if ((folds = await foldsCase(fs, path))) break;
  // Case-insensitive file systems (APFS, NTFS) also treat composed and decomposed
  // accents alike on macOS; folding both ways can only hide more, never less.
  const fold = folds ? (p: string) => p.normalize("NFC").toLowerCase() : (p: string) => p;
  return { root, dotfiles: input.dotfiles, symlinks: input.symlinks, hiddenFiles: new Set(canonical.map(fold)), fold };
}
