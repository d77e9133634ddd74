/**
 * An in-memory {@link FileSystem} for tests: a tree built from a plain object, with
 * symlinks, so the handler's rules can be checked without touching the disk.
 */
import { posix } from "node:path";
import type { DirEntry, DirectoryWatch, FileStat, FileSystem, OpenFile } from "./types.js";

/** A tree node: a file's content, a directory, or a symlink to an absolute or relative path. */
export type MemoryNode =
  | string
  | Uint8Array
  | { readonly file: string | Uint8Array; readonly mtimeMs?: number }
  | { readonly symlink: string }
  | { readonly [name: string]: MemoryNode };

interface Entry {
  readonly node: MemoryNode;
  readonly ino: number;
}

function fsError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

function isFile(node: MemoryNode): node is string | Uint8Array | { file: string | Uint8Array; mtimeMs?: number } {
  return typeof node === "string" || node instanceof Uint8Array || (typeof node === "object" && "file" in node);
}

function isLink(node: MemoryNode): node is { symlink: string } {
  return typeof node === "object" && !(node instanceof Uint8Array) && "symlink" in node && typeof node.symlink === "string";
}

function bytesOf(node: MemoryNode): Uint8Array {
  const content = typeof node === "object" && !(node instanceof Uint8Array) && "file" in node ? node.file : node;
  return typeof content === "string" ? new TextEncoder().encode(content) : (content as Uint8Array);
}

/**
 * The in-memory file system, with watches that hear of changes the test reports:
 * the tree is a plain object the test edits in place, then calls
 * {@link MemoryFileSystem.changed} as the kernel would emit an event.
 */
export interface MemoryFileSystem extends FileSystem {
  watch(path: string, changed: () => void): DirectoryWatch;
  /**
   * Reports that the entry at `path` was added, removed, renamed or written: the
   * watches of its parent directory fire, and those of `path` itself if it is a
   * watched directory (moved or removed), as inotify does.
   */
  changed(path: string): void;
  /** Watches open right now. */
  readonly watches: number;
  /** More watches than this fail with `ENOSPC`, as inotify's `max_user_watches`. @default Infinity */
  watchLimit: number;
}

/**
 * Builds a file system rooted at `mount` (an absolute POSIX path) from `tree`.
 * `mtimeMs` defaults to a fixed instant so validators are predictable in tests.
 */
export function memoryFileSystem(mount: string, tree: MemoryNode, defaultMtimeMs = Date.UTC(2026, 0, 1)): MemoryFileSystem {
  // Inode numbers by canonical path; a path whose node was replaced gets a new one,
  // as a file replaced by rename does on disk.
  const inodes = new Map<string, { node: MemoryNode; ino: number }>();
  let nextIno = 1;
  const ino = (real: string, node: MemoryNode): number => {
    const known = inodes.get(real);
    if (known !== undefined && known.node === node) return known.ino;
    const fresh = nextIno++;
    inodes.set(real, { node, ino: fresh });
    return fresh;
  };

  // Walks `path` following symlinks; returns the canonical path and its node.
  function walk(path: string, depth = 0): { real: string; entry: Entry } {
    if (depth > 40) throw fsError("ELOOP", path);
    const normal = posix.resolve(path);
    if (normal !== mount && !normal.startsWith(mount === "/" ? "/" : `${mount}/`)) throw fsError("ENOENT", path);
    const names = normal.slice(mount.length).split("/").filter(Boolean);
    let node: MemoryNode = tree;
    let real = mount;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if (isFile(node) || isLink(node)) throw fsError("ENOTDIR", path);
      const child: MemoryNode | undefined = Object.hasOwn(node, name) ? (node as Record<string, MemoryNode>)[name] : undefined;
      if (child === undefined) throw fsError("ENOENT", path);
      if (isLink(child)) {
        const target = posix.resolve(real, child.symlink);
        const rest = names.slice(i + 1).join("/");
        return walk(rest ? `${target}/${rest}` : target, depth + 1);
      }
      node = child;
      real = posix.join(real, name);
    }
    return { real, entry: { node, ino: ino(real, node) } };
  }

  // `open` and `readdir` take canonical paths (see FileSystem): one reached through a
  // symlink is not the object that was checked.
  function canonical(path: string): { real: string; entry: Entry } {
    const found = walk(path);
    if (found.real !== posix.resolve(path)) throw fsError("ENOENT", path);
    return found;
  }

  function statOf(entry: Entry): FileStat {
    const { node } = entry;
    if (isFile(node)) {
      const mtimeMs = typeof node === "object" && "mtimeMs" in node && node.mtimeMs !== undefined ? node.mtimeMs : defaultMtimeMs;
      return { kind: "file", size: bytesOf(node).length, mtimeMs, ino: entry.ino };
    }
    return { kind: "directory", size: 4096, mtimeMs: defaultMtimeMs, ino: entry.ino };
  }

  // Watches by the canonical path of the directory watched (a watch through a
  // symlink watches its target, as inotify does).
  const watchers = new Map<string, Set<() => void>>();
  let watches = 0;
  const fire = (dir: string): void => {
    for (const changed of [...(watchers.get(dir) ?? [])]) changed();
  };

  return {
    watchLimit: Infinity,
    get watches() {
      return watches;
    },
    watch(path, changed): DirectoryWatch {
      const { real, entry } = walk(path);
      if (isFile(entry.node)) throw fsError("ENOTDIR", path);
      if (watches >= this.watchLimit) throw fsError("ENOSPC", path);
      const listener = (): void => changed();
      let set = watchers.get(real);
      if (set === undefined) watchers.set(real, (set = new Set()));
      set.add(listener);
      watches++;
      let open = true;
      return {
        close: () => {
          if (!open) return;
          open = false;
          watches--;
          set.delete(listener);
          if (set.size === 0 && watchers.get(real) === set) watchers.delete(real);
        },
      };
    },
    changed(path) {
      const normal = posix.resolve(path);
      fire(posix.dirname(normal));
      fire(normal);
    },
    stat: async (path) => statOf(walk(path).entry),
    realpath: async (path) => walk(path).real,
    readdir: async (path): Promise<DirEntry[]> => {
      const { real, entry } = canonical(path);
      if (isFile(entry.node)) throw fsError("ENOTDIR", path);
      return Object.entries(entry.node as Record<string, MemoryNode>).map(([name, child]) => {
        let stat: FileStat | undefined;
        let target: string | undefined;
        try {
          const found = walk(posix.join(real, name));
          stat = statOf(found.entry);
          target = found.real;
        } catch {
          stat = undefined;
        }
        return { name, symlink: isLink(child), stat, real: target };
      });
    },
    scanNames: async (path, limits) => {
      const { entry } = canonical(path);
      if (isFile(entry.node)) throw fsError("ENOTDIR", path);
      const names: string[] = [];
      let bytes = 0;
      for (const name of Object.keys(entry.node as Record<string, MemoryNode>)) {
        bytes += new TextEncoder().encode(name).length;
        if (names.length >= limits.entries || bytes > limits.bytes) break;
        names.push(name);
      }
      return names;
    },
    open: async (path): Promise<OpenFile> => {
      const { entry } = canonical(path);
      if (!isFile(entry.node)) throw fsError("EISDIR", path);
      const bytes = bytesOf(entry.node);
      return {
        stat: async () => statOf(entry),
        read: async function* (start, end) {
          if (start < Math.min(end, bytes.length)) yield bytes.subarray(start, Math.min(end, bytes.length));
        },
        close: async () => {},
      };
    },
  };
}
