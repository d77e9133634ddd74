/**
 * Whether a client may see what a path names: one decision, made on the URL's
 * segments and on the canonical path they resolved to, shared by every way in —
 * a GET of the path (whatever rewrite, SPA fallback or clean URL led there), an
 * index file, a sidecar, and each entry of a listing. A listing that asked a
 * question of its own would drift from what a GET answers (issue 10 items 7, 8).
 *
 * Pure: the caller resolves the path (realpath) and gives both forms.
 */
import { sep } from "node:path";
import { isHidden, isHiddenBelow, isInside, relativeSegments } from "./resolve.js";

/** What to do with a request for a dotfile or anything below a dot-directory. */
export type DotfilePolicy =
  /** Pretend it does not exist: 404, and absent from listings. */
  | "ignore"
  /** Refuse it: 403, and absent from listings. */
  | "deny"
  /** Serve it like any other file, and list it. */
  | "allow";

/** Which symlinks may be followed. */
export type SymlinkPolicy =
  /** Only those whose target, fully resolved, is inside the root. */
  | "inside-root"
  /** Any symlink, wherever it leads. Only for trees you fully trust. */
  | "follow";

/** What the operator chose, with the canonical root. */
export interface VisibilityRules {
  /** The root's canonical path (realpath'd). */
  readonly root: string;
  readonly dotfiles: DotfilePolicy;
  readonly symlinks: SymlinkPolicy;
  /**
   * Canonical paths never served, listed or precompressed (a configuration or
   * password file inside the root), each already passed through `fold`.
   */
  readonly hiddenFiles: ReadonlySet<string>;
  /** How the root's file system compares names: identity, or case folding. */
  readonly fold: (path: string) => string;
}

/** The decision. */
export type Visibility =
  | { readonly kind: "visible" }
  /** Outside the root, and symlinks out are not followed. */
  | { readonly kind: "outside" }
  /** A dotfile or under a dot-directory, on the URL or on the real path. */
  | { readonly kind: "dotfile" }
  /** One of the operator's hidden files, or a sidecar of one. */
  | { readonly kind: "hidden-file" };

const VISIBLE: Visibility = { kind: "visible" };
const OUTSIDE: Visibility = { kind: "outside" };
const DOTFILE: Visibility = { kind: "dotfile" };
const HIDDEN_FILE: Visibility = { kind: "hidden-file" };

/** The sidecar names of responders/encoders.ts `SIDECAR_SUFFIX` (test/handler/visibility.test.ts checks they agree). */
export const SIDECAR_SUFFIXES: readonly string[] = [".br", ".gz", ".zst"];

/**
 * The digest sidecar's, responders/digest-sidecar.ts `DIGEST_SIDECAR_SUFFIX` (checked
 * likewise): a password file's SHA-256 would let its passwords be guessed offline.
 */
export const DIGEST_SUFFIX = ".sha256";

const HIDDEN_SUFFIXES: readonly string[] = [...SIDECAR_SUFFIXES, DIGEST_SUFFIX];

/**
 * Whether the canonical path `real` is one of the hidden files, or a
 * precompressed sidecar of one (`wharf.json.br` holds the same passwords), or
 * its digest sidecar.
 */
export function isHiddenFile(rules: Pick<VisibilityRules, "hiddenFiles" | "fold">, real: string): boolean {
  if (rules.hiddenFiles.size === 0) return false;
  const folded = rules.fold(real);
  if (rules.hiddenFiles.has(folded)) return true;
  for (const suffix of HIDDEN_SUFFIXES) {
    if (folded.endsWith(suffix) && rules.hiddenFiles.has(folded.slice(0, -suffix.length))) return true;
  }
  return false;
}

/**
 * The name prefix of an upload's temporary file (src/features/upload/store.ts).
 * Such a file holds a partial upload: it is never served, listed or archived,
 * whatever `dotfiles` says, so a reader never sees half a file.
 */
export const UPLOAD_TEMP_PREFIX = ".wharf-upload-";

/** Whether the last segment of `path` (either separator) is an upload's temporary file. */
export function isUploadTemp(path: string): boolean {
  const at = path.lastIndexOf(UPLOAD_TEMP_PREFIX);
  if (at < 0) return false;
  const before = path.charCodeAt(at - 1);
  return (at === 0 || before === 0x2f || before === 0x5c) && !/[/\\]/.test(path.slice(at));
}

/**
 * What a client may see of `real`, reached by the URL `segments`. Hidden files
 * come first and regardless of where they are, so no policy (`--dotfiles`,
 * `--follow-symlinks`) ever lets one through.
 */
export function visibilityOf(rules: VisibilityRules, segments: readonly string[], real: string): Visibility {
  return entryVisibility(rules, segments, undefined, real);
}

/**
 * {@link visibilityOf} for the entry `name` of the directory at URL `segments`:
 * the decision for `[...segments, name]`, without building that array for each
 * of a listing's 100,000 entries.
 */
export function entryVisibility(rules: VisibilityRules, segments: readonly string[], name: string | undefined, real: string): Visibility {
  if (isHiddenFile(rules, real) || isUploadTemp(real)) return HIDDEN_FILE;
  const dotfiles = rules.dotfiles !== "allow";
  if (dotfiles && (isHidden(segments) || (name !== undefined && isHiddenLast(segments.length, name)))) return DOTFILE;
  if (!isInside(rules.root, real)) return rules.symlinks === "follow" ? VISIBLE : OUTSIDE;
  // A symlink inside the root that points into `.git/` is as hidden as `.git/` itself.
  if (dotfiles && isHiddenBelow(rules.root, real)) return DOTFILE;
  return VISIBLE;
}

/**
 * The decision for each entry of the directory at URL `segments` whose canonical
 * path is `dir`: {@link entryVisibility}, with what is the same for every entry
 * decided once. `real` is a symlink's target's canonical path, decided in full;
 * `undefined` for any other entry, whose canonical path is `dir` and its `name`
 * (a name read from the directory: not empty, no separator, not `.` or `..`).
 * Then, with `dir` inside the root, so is the entry, and its path below the root
 * is `dir`'s and one segment more: only the name is left to check, and no path
 * is built for each of a listing's 100,000 entries. The same answers as
 * {@link visibilityOf} on the joined path (test/fuzz/listing-fast.test.ts).
 */
export function directoryVisibility(
  rules: VisibilityRules,
  segments: readonly string[],
  dir: string,
): (name: string, real: string | undefined) => Visibility {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const dotfiles = rules.dotfiles !== "allow";
  const inside = isInside(rules.root, dir);
  const urlHidden = dotfiles && isHidden(segments);
  const realHidden = dotfiles && inside && isHiddenBelow(rules.root, dir);
  const depth = inside ? relativeSegments(rules.root, dir).length : 0;
  return (name, real) => {
    if (real !== undefined || !inside) return entryVisibility(rules, segments, name, real ?? prefix + name);
    if (rules.hiddenFiles.size > 0 && isHiddenFile(rules, prefix + name)) return HIDDEN_FILE;
    if (name.startsWith(UPLOAD_TEMP_PREFIX)) return HIDDEN_FILE;
    if (dotfiles && (urlHidden || isHiddenLast(segments.length, name))) return DOTFILE;
    if (dotfiles && (realHidden || isHiddenLast(depth, name))) return DOTFILE;
    return VISIBLE;
  };
}

/** {@link isHidden} of one more segment `name` at `index`: a dot name, except `.well-known` first. */
function isHiddenLast(index: number, name: string): boolean {
  return name.charCodeAt(0) === 0x2e && !(index === 0 && name === ".well-known");
}
