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

// Reads one piece ahead: the next read runs on the thread pool while the socket
// takes the current one, so disk and network overlap. Pieces start at 64 KiB and
// double up to 512 KiB, so a long download runs at full speed while a short or
// aborted one never holds more than a little; at most two pieces (1 MiB) are held
// per download. Measured on 16 MiB files: 64 KiB pieces read one at a time gave
// 0.6x nginx's sendfile; this, 0.93x.
const FIRST_READ = 64 * 1024;
const MAX_READ = 512 * 1024;

const DONE: IteratorResult<Buffer> = { value: undefined, done: true };

/**
 * The pieces of `[start, end)`, each read while the one before is being sent.
 * An iterator object, not an async generator: a suspended generator keeps every
 * value its frame has held, dead or not, so a download stalled on a client that
 * does not read could keep a piece it had already sent. Here a piece is
 * referenced only by `ahead` until it is handed out.
 */
class Pieces implements AsyncIterableIterator<Buffer> {
  private position: number;
  private size = FIRST_READ;
  private ahead: Promise<Buffer> | undefined;
  private started = false;

  constructor(private readonly readAt: (position: number, size: number) => Promise<Buffer>, start: number, private readonly end: number) {
    this.position = start;
  }

  private readAhead(): Promise<Buffer> | undefined {
    if (this.position >= this.end) return undefined;
    const piece = this.readAt(this.position, Math.min(this.size, this.end - this.position));
    this.size = Math.min(this.size * 2, MAX_READ);
    return piece;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    if (!this.started) {
      this.started = true;
      this.ahead = this.readAhead();
    }
    const pending = this.ahead;
    this.ahead = undefined;
    if (pending === undefined) return DONE;
    const piece = await pending;
    if (piece.length === 0) return DONE; // truncated under us: the caller sees a short body
    this.position += piece.length;
    this.ahead = this.readAhead();
    return { value: piece, done: false };
  }

  /** Stopped early (client gone): lets the read ahead settle before the handle closes. */
  async return(): Promise<IteratorResult<Buffer>> {
    const pending = this.ahead;
    this.ahead = undefined;
    this.position = this.end;
    await pending?.catch(() => undefined);
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

async function openFile(path: string): Promise<OpenFile> {
  const handle = await open(path, "r");
  const readAt = async (position: number, size: number): Promise<Buffer> => {
    const buffer = Buffer.allocUnsafe(size);
    const { bytesRead } = await handle.read(buffer, 0, size, position);
    return bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
  };
  return {
    stat: async () => toFileStat(await handle.stat()),
    read: (start, end) => new Pieces(readAt, start, end),
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
