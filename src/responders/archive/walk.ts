/**
 * The tree an archive holds: a depth-first walk of a directory that yields only
 * what a GET would serve. Each entry passes the very decision the resolver
 * makes for a URL, {@link visibilityOf} on the URL's segments and the canonical
 * path the directory read gave, plus the listing's own rules (the name must
 * survive a round trip through a URL, `unlisted` names are left out), so an
 * archive can never carry a dotfile, a hidden configuration or password file
 * (`wharf.json`, htpasswd, their sidecars) or a file behind a link out of the
 * root that a GET would refuse (dufs 148 and Caddy 4384 made archives opt-in for
 * their cost; gohttpserver 231 leaked through a second view of a directory).
 *
 * Symlinks are stricter than for a GET: none is followed unless the operator
 * chose `symlinks: "follow"` (`--follow-symlinks`), and then only where a GET
 * would follow it and never into a directory already on the way down (a link to
 * an ancestor would make the walk endless).
 *
 * Memory: a stack with one frame per directory on the current path, each holding
 * that directory's entries (read whole through {@link FileSystem.readdir}, which
 * opens the directory by a checked descriptor, as a listing does). Nothing is
 * kept of a directory once it is left.
 */
import type { DirEntry, FileStat, FileSystem } from "../../fs/types.js";
import { encodeSegment, resolveRequestPath } from "../../path/resolve.js";
import { type VisibilityRules, visibilityOf } from "../../path/visibility.js";

/** One entry of the walk, named relative to the walked directory with `/` separators. */
export type WalkEntry =
  /** A directory (`a/b/`, trailing slash), yielded before what it holds, so empty ones are kept. */
  | { readonly kind: "directory"; readonly name: string; readonly mtimeMs: number }
  /** A regular file, at its canonical path, with the stat the directory read gave. */
  | { readonly kind: "file"; readonly name: string; readonly real: string; readonly stat: FileStat };

/** What the walk needs to decide. */
export interface WalkInput {
  readonly fs: FileSystem;
  readonly rules: VisibilityRules;
  /** Names a listing leaves out (`unlisted` globs). */
  readonly unlisted: (name: string) => boolean;
  /** The walked directory's canonical path. */
  readonly real: string;
  /** The walked directory's URL segments, decoded (what {@link visibilityOf} checks). */
  readonly segments: readonly string[];
}

/** Whether a name is carried by a URL back to itself, as a listing requires (resolver.ts `isListable`). */
function linkable(name: string): boolean {
  const link = resolveRequestPath(`/${encodeSegment(name)}`);
  return link.kind === "ok" && link.segments.length === 1 && link.segments[0] === name;
}

/**
 * Whether `entry` of the directory at URL `segments` goes into the archive:
 * exactly when a GET of it would be answered, and it is no symlink the archive
 * may not follow.
 */
export function archivable(
  input: Pick<WalkInput, "rules" | "unlisted">,
  segments: readonly string[],
  entry: DirEntry,
): entry is DirEntry & { real: string; stat: FileStat } {
  if (entry.real === undefined || entry.stat === undefined) return false; // dangling or looping
  if (entry.stat.kind === "other") return false; // FIFOs, sockets, devices: never served
  if (entry.symlink && input.rules.symlinks !== "follow") return false;
  if (input.unlisted(entry.name) || !linkable(entry.name)) return false;
  return visibilityOf(input.rules, [...segments, entry.name], entry.real).kind === "visible";
}

/** Code-point order: the same tree gives the same archive, whatever order the disk lists it in. */
const byName = (a: DirEntry, b: DirEntry): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

interface Frame {
  readonly real: string;
  readonly segments: readonly string[];
  /** Relative name with a trailing slash, `""` for the walked directory. */
  readonly prefix: string;
  readonly entries: DirEntry[];
  index: number;
}

/**
 * The entries under `input.real`, depth first, in code-point order of names.
 * A directory that cannot be read (removed or swapped while walked: its checked
 * open fails) ends the walk with that error: an archive missing a directory
 * must not look complete.
 */
export async function* walkTree(input: WalkInput): AsyncGenerator<WalkEntry> {
  const { fs } = input;
  const frame = async (real: string, segments: readonly string[], prefix: string): Promise<Frame> => {
    const entries = (await fs.readdir(real)).filter((e) => archivable(input, segments, e)).sort(byName);
    return { real, segments, prefix, entries, index: 0 };
  };
  const stack: Frame[] = [await frame(input.real, input.segments, "")];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const entry = top.entries[top.index];
    if (entry === undefined) {
      stack.pop();
      continue;
    }
    // Dropped once taken: a frame holds only what is still to come.
    top.entries[top.index++] = undefined as unknown as DirEntry;
    const real = entry.real as string;
    const stat = entry.stat as FileStat;
    const name = top.prefix + entry.name;
    if (stat.kind === "file") {
      yield { kind: "file", name, real, stat };
      continue;
    }
    // A link back to a directory on the way down would never end.
    if (stack.some((f) => f.real === real)) continue;
    yield { kind: "directory", name: `${name}/`, mtimeMs: stat.mtimeMs };
    stack.push(await frame(real, [...top.segments, entry.name], `${name}/`));
  }
}
