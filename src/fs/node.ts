/**
 * The Node implementation of the {@link FileSystem} interface: thin wrappers over
 * `node:fs/promises`, with no policy (containment, dotfiles) — that is the handler's.
 */
import { open, readdir, realpath, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join } from "node:path";
import type { DirEntry, FileStat, FileSystem, OpenFile } from "./types.js";

function toFileStat(s: Stats): FileStat {
  return {
    kind: s.isFile() ? "file" : s.isDirectory() ? "directory" : "other",
    size: s.size,
    mtimeMs: s.mtimeMs,
    ino: s.ino,
  };
}

// Directory entries are stat'ed in batches so a huge directory cannot open
// thousands of stat calls at once.
const STAT_BATCH = 64;

async function listDirectory(path: string): Promise<DirEntry[]> {
  const dirents = await readdir(path, { withFileTypes: true });
  const entries: DirEntry[] = [];
  for (let i = 0; i < dirents.length; i += STAT_BATCH) {
    const batch = dirents.slice(i, i + STAT_BATCH);
    const stats = await Promise.all(
      batch.map((d) => stat(join(path, d.name)).then(toFileStat, () => undefined)),
    );
    batch.forEach((d, j) => entries.push({ name: d.name, symlink: d.isSymbolicLink(), stat: stats[j] }));
  }
  return entries;
}

// Reads in 64 KiB pieces: large enough for throughput, small enough that an aborted
// download never holds much memory.
const READ_SIZE = 64 * 1024;

async function openFile(path: string): Promise<OpenFile> {
  const handle = await open(path, "r");
  return {
    stat: async () => toFileStat(await handle.stat()),
    read: async function* (start: number, end: number) {
      let position = start;
      while (position < end) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, end - position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) return; // truncated under us: the caller sees a short body
        position += bytesRead;
        yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      }
    },
    close: () => handle.close(),
  };
}

/** The real file system. */
export const nodeFileSystem: FileSystem = {
  stat: async (path) => toFileStat(await stat(path)),
  realpath: (path) => realpath(path),
  readdir: listDirectory,
  open: openFile,
};
