/**
 * The Node implementation of the {@link FileSystem} interface: thin wrappers over
 * `node:fs/promises`, with no policy (containment, dotfiles) — that is the handler's.
 */
import { constants, type Dirent, lstat as fsLstat, type Stats, watch } from "node:fs";
import { type FileHandle, lstat, open, opendir, readdir, readlink, realpath, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, parse, sep } from "node:path";
import { Worker } from "node:worker_threads";
import type { StatJob } from "./stat-worker.js";
import type { DirEntry, DirectoryWatch, DirName, DirNames, FileStat, FileSystem, OpenFile, Recycling } from "./types.js";

function toFileStat(s: Stats): FileStat {
  return {
    kind: s.isFile() ? "file" : s.isDirectory() ? "directory" : "other",
    size: s.size,
    mtimeMs: s.mtimeMs,
    ino: s.ino,
  };
}

/** The error for "what was opened is not the object at the path that was checked". */
function moved(path: string): Error {
  return Object.assign(new Error(`ENOENT: ${path} changed while it was opened`), { code: "ENOENT" });
}

// O_NONBLOCK: a regular file swapped for a FIFO must not block the open forever
// (it has no effect on regular files). Absent on Windows.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const DIRECTORY_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0);

// Linux names every open descriptor in /proc/self/fd: readlink gives the path of
// what was opened, resolved by the kernel. Checked once.
let procFd: Promise<boolean> | undefined;
const hasProcFd = (): Promise<boolean> =>
  (procFd ??=
    process.platform === "linux"
      ? stat("/proc/self/fd").then(
          (s) => s.isDirectory(),
          () => false,
        )
      : Promise.resolve(false));

/**
 * Whether the open `handle` is the object at the canonical `path`, reached with
 * no symlink. Containment and visibility were decided on `path`; a directory on
 * the way swapped for a symlink between that decision and the open would
 * otherwise hand out what the link leads to (issue 10 item 9: 2,619 of 13,581
 * requests in a swap loop). On Linux the kernel's own name for the descriptor
 * answers exactly. Elsewhere: the descriptor's identity against an `lstat` of
 * every component (none may be a symlink, the last must be the same inode).
 * That fallback has a window: a swap and a swap back between the open and the
 * last `lstat` go unseen (docs/security.md says so).
 */
async function openedAt(handle: FileHandle, path: string): Promise<boolean> {
  if (await hasProcFd()) return (await readlink(`/proc/self/fd/${handle.fd}`).catch(() => "")) === path;
  const opened = await handle.stat();
  const { root } = parse(path);
  const parts = path
    .slice(root.length)
    .split(sep)
    .filter((p) => p !== "");
  let prefix = root;
  let last: Stats | undefined;
  for (const part of parts) {
    prefix = join(prefix, part);
    last = await lstat(prefix).catch(() => undefined);
    if (last === undefined || last.isSymbolicLink()) return false;
  }
  return last !== undefined && last.ino === opened.ino && last.dev === opened.dev;
}

/** Opens the canonical `path` with `flags`, or fails with ENOENT if what opened is not at `path`. */
async function openAt(path: string, flags: number): Promise<FileHandle> {
  const handle = await open(path, flags);
  let ok = false;
  try {
    ok = await openedAt(handle, path);
  } finally {
    if (!ok) await handle.close();
  }
  if (!ok) throw moved(path);
  return handle;
}

// Directory entries are stat'ed in batches so a huge directory cannot open
// thousands of stat calls at once.
const STAT_BATCH = 64;

// File names are bytes; the interface carries text. A name that is not UTF-8
// has no text form that would find it again, so it is left out: a listing must
// never show an entry whose link is dead (issue 10 item 17).
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
function textName(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The stat and canonical path of a symlink's target, read from the target's own
 * descriptor (so a swap while it is resolved cannot put another file's size or
 * date in a listing). Only regular files and directories are opened: a device
 * or FIFO is reported as `other` without being touched.
 */
async function linkTarget(link: string): Promise<{ stat: FileStat | undefined; real: string | undefined }> {
  try {
    const real = await realpath(link);
    const first = await stat(real);
    if (!first.isFile() && !first.isDirectory()) return { stat: toFileStat(first), real };
    const handle = await openAt(real, first.isDirectory() ? DIRECTORY_FLAGS : READ_FLAGS);
    try {
      return { stat: toFileStat(await handle.stat()), real };
    } finally {
      await handle.close();
    }
  } catch {
    return { stat: undefined, real: undefined }; // dangling, looping, or changing under us
  }
}

async function listDirectory(path: string): Promise<DirEntry[]> {
  const handle = await openAt(path, DIRECTORY_FLAGS);
  try {
    // Read through the descriptor just checked where the kernel offers a name for
    // it, so the names and stats are those of that directory even if `path` is
    // swapped meanwhile. Elsewhere the path is walked again (the documented window).
    const dir = (await hasProcFd()) ? `/proc/self/fd/${handle.fd}` : path;
    const dirents = await readdir(dir, { withFileTypes: true, encoding: "buffer" });
    const entries: DirEntry[] = [];
    for (let i = 0; i < dirents.length; i += STAT_BATCH) {
      const batch = dirents.slice(i, i + STAT_BATCH);
      const found = await Promise.all(
        batch.map(async (d): Promise<DirEntry | undefined> => {
          const name = textName(d.name);
          if (name === undefined) return undefined;
          const own = await lstat(join(dir, name)).catch(() => undefined);
          if (own === undefined) return undefined; // gone since readdir
          if (!own.isSymbolicLink()) return { name, symlink: false, stat: toFileStat(own), real: join(path, name) };
          return { name, symlink: true, ...(await linkTarget(join(dir, name))) };
        }),
      );
      for (const entry of found) if (entry !== undefined) entries.push(entry);
    }
    return entries;
  } finally {
    await handle.close();
  }
}

/**
 * Runs `work` on the directory at the canonical `path`, opened and checked (so a
 * directory swapped for a link cannot be read), through its descriptor where the
 * kernel names it.
 */
async function inDirectory<T>(path: string, work: (dir: string) => Promise<T>): Promise<T> {
  const handle = await openAt(path, DIRECTORY_FLAGS);
  try {
    return await work((await hasProcFd()) ? `/proc/self/fd/${handle.fd}` : path);
  } finally {
    await handle.close();
  }
}

/** `items` mapped by `f`, at most {@link STAT_BATCH} at a time. */
async function batched<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += STAT_BATCH) out.push(...(await Promise.all(items.slice(i, i + STAT_BATCH).map(f))));
  return out;
}

/**
 * The entries of `dir` with their types, names as text where that is exact. Read
 * as strings first: 100,000 names as Buffers cost a third more time and a
 * Buffer each. Node decodes a name that is not UTF-8 with U+FFFD in place of the
 * bad bytes, so a name without U+FFFD was valid UTF-8 and is exactly the text a
 * strict decoder gives; only when some name holds U+FFFD (a bad name, or a real
 * U+FFFD) is the directory read again as bytes, so that {@link textName} can
 * leave the bad ones out.
 */
async function typedNames(dir: string): Promise<ReadonlyArray<Dirent | Dirent<Buffer>>> {
  const dirents = await readdir(dir, { withFileTypes: true });
  if (!dirents.some((d) => d.name.includes("\uFFFD"))) return dirents;
  return readdir(dir, { withFileTypes: true, encoding: "buffer" });
}

/**
 * Names and types from one readdir: a 100,000-entry directory is listed by name
 * without 100,000 stats. Symlinks are resolved (what they name decides whether
 * they are shown); an entry whose type the file system does not report
 * (DT_UNKNOWN) is lstat'ed.
 */
async function listNames(path: string): Promise<DirNames> {
  return inDirectory(path, async (dir) => {
    const dirents = await typedNames(dir);
    const names: string[] = [];
    const kinds: Array<FileStat["kind"]> = [];
    // Most entries are decided by their type alone, synchronously, into two
    // columns; only symlinks and untyped entries cost a system call and an object.
    const rest: Array<{ name: string; symlink: boolean }> = [];
    for (const d of dirents) {
      const name = typeof d.name === "string" ? d.name : textName(d.name);
      if (name === undefined) continue;
      const kind = d.isFile()
        ? "file"
        : d.isDirectory()
          ? "directory"
          : d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()
            ? "other"
            : undefined;
      if (kind !== undefined) {
        names.push(name);
        kinds.push(kind);
      } else rest.push({ name, symlink: d.isSymbolicLink() });
    }
    const resolved = await batched(rest, async ({ name, symlink }): Promise<DirName | undefined> => {
      let link = symlink;
      if (!link) {
        // DT_UNKNOWN: the file system did not say (some network and FUSE file systems).
        const s = await lstat(join(dir, name)).catch(() => undefined);
        if (s === undefined) return undefined;
        if (!s.isSymbolicLink()) return { name, symlink: false, kind: toFileStat(s).kind, stat: undefined, real: join(path, name) };
        link = true;
      }
      const target = await linkTarget(join(dir, name));
      return { name, symlink: true, kind: target.stat?.kind, ...target };
    });
    return { names, kinds, others: resolved.filter((e): e is DirName => e !== undefined) };
  });
}

/**
 * How many stats of one {@link statEntries} call are queued on libuv's thread
 * pool at once: enough to keep its threads busy while this thread turns results
 * into objects, few enough that another request's read waits behind at most this
 * many short calls.
 */
const STATS_IN_FLIGHT = 128;

/**
 * The `lstat` of each of `names` in `dir`, at most {@link STATS_IN_FLIGHT} at a
 * time, each started as the one before it finished. Callbacks rather than
 * promises, and no batches: for 100,000 names (a listing sorted by size) the
 * promise per call and the wait for each batch's slowest stat cost 1.3-1.5 s, the
 * callbacks 0.7-1.2 s on the same loaded 2-core machine.
 */
function lstatAll(dir: string, names: readonly string[]): Promise<Array<FileStat | undefined>> {
  const out = new Array<FileStat | undefined>(names.length).fill(undefined);
  return new Promise((resolve) => {
    let next = 0;
    let done = 0;
    /** Starts the next stat, if any is left; resolves once all are done. */
    const startNext = (): void => {
      while (next < names.length) {
        const i = next++;
        const name = names[i]!;
        // Never outside `dir`: a name that cannot be one entry's is not stat'ed.
        if (name === "" || name === "." || name === ".." || name.includes(sep) || name.includes("/")) {
          done++;
          continue;
        }
        fsLstat(dir + sep + name, (error, s) => {
          if (error === null && !s.isSymbolicLink()) out[i] = toFileStat(s);
          done++;
          startNext();
        });
        return;
      }
      if (done === names.length) resolve(out);
    };
    for (let k = 0; k < STATS_IN_FLIGHT; k++) startNext();
  });
}

/** Batches of at least this many names are stat'ed in workers: below it, starting one (about 30 ms) costs more than it saves. */
const WORKER_MIN_NAMES = 4096;
/**
 * Workers per batch, each taking an equal share of the names: two where there
 * are two cores (100,000 stats in about half the time), one on a single core.
 */
const STAT_WORKERS = Math.max(1, Math.min(2, availableParallelism()));
/** Numbers per name in a worker's answer (./stat-worker.ts): kind (0 none, 1 file, 2 directory, 3 other), size, mtimeMs, ino. */
const STAT_FIELDS = 4;
const KINDS: ReadonlyArray<FileStat["kind"] | undefined> = [undefined, "file", "directory", "other"];
const STAT_WORKER_URL = new URL("./stat-worker.js", import.meta.url);
/** One batch in workers at a time in the process (an isolate costs a few MiB): a second large batch meanwhile uses callbacks. */
let statWorkersBusy = false;
let workerBatches = 0;

/** Batches stat workers have answered so far (for tests: the workers' path is taken, not only its fallback). */
export function statWorkerBatches(): number {
  return workerBatches;
}

/** The answer of one worker for `names`, or `undefined` if it could not start or did not answer. */
function statWorker(dir: string, names: readonly string[]): Promise<Float64Array | undefined> {
  const job: StatJob = { kind: "wharf-stat", dir, sep, names };
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      // None of the process's own flags (`--input-type`, `--inspect`: see features/hash-pool.ts).
      worker = new Worker(STAT_WORKER_URL, { workerData: job, execArgv: [] });
    } catch {
      resolve(undefined);
      return;
    }
    worker.once("message", (answer: unknown) =>
      resolve(answer instanceof Float64Array && answer.length === names.length * STAT_FIELDS ? answer : undefined),
    );
    worker.once("error", () => resolve(undefined));
    worker.once("exit", () => resolve(undefined)); // after the message, when there was one
  });
}

/**
 * The stats of `names` from worker threads (./stat-worker.ts), or `undefined`
 * when they could not run (busy with another batch, or one failed to start or
 * to answer): the caller then uses {@link lstatAll}. Started per batch and gone
 * after it, so an idle server holds no thread.
 */
async function lstatInWorkers(dir: string, names: readonly string[]): Promise<Array<FileStat | undefined> | undefined> {
  if (statWorkersBusy) return undefined;
  statWorkersBusy = true;
  try {
    const share = Math.ceil(names.length / STAT_WORKERS);
    const parts: Array<readonly string[]> = [];
    for (let from = 0; from < names.length; from += share) parts.push(names.slice(from, from + share));
    const answers = await Promise.all(parts.map((part) => statWorker(dir, part)));
    if (answers.some((a) => a === undefined)) return undefined;
    workerBatches++;
    const out = new Array<FileStat | undefined>(names.length);
    let i = 0;
    for (const numbers of answers as Float64Array[]) {
      for (let at = 0; at < numbers.length; at += STAT_FIELDS, i++) {
        const kind = KINDS[numbers[at]!];
        out[i] = kind === undefined ? undefined : { kind, size: numbers[at + 1]!, mtimeMs: numbers[at + 2]!, ino: numbers[at + 3]! };
      }
    }
    return out;
  } finally {
    statWorkersBusy = false;
  }
}

async function statEntries(path: string, names: readonly string[]): Promise<Array<FileStat | undefined>> {
  return inDirectory(path, async (dir) => {
    const fromWorker = names.length >= WORKER_MIN_NAMES ? await lstatInWorkers(dir, names) : undefined;
    return fromWorker ?? lstatAll(dir, names);
  });
}

// Reads one piece ahead: the next read runs on the thread pool while the socket
// takes the current one, so disk and network overlap. Pieces start at 64 KiB and
// double up to 512 KiB, so a long download runs at full speed while a short or
// aborted one never holds more than a little; at most two pieces (1 MiB) are held
// per download. Measured on 16 MiB files: 64 KiB pieces read one at a time gave
// 0.6x nginx's sendfile; this, 0.93x. A consumer that knows when the socket has
// written a piece gives it back (recycle), and the next piece is read into it: a
// long download reads into two buffers instead of one new one per piece, which
// is garbage for the collector and, freed, holes that glibc keeps resident.
const FIRST_READ = 64 * 1024;
const MAX_READ = 512 * 1024;

/**
 * All downloads together hold at most about this much in pieces that grew past
 * {@link FIRST_READ}: past it, pieces stay at 64 KiB. A piece is counted from its
 * read until the next one is asked for (the one before has been handed to the
 * socket by then). Without an aggregate bound, 1 MiB per download is 10 GiB at
 * 10,000 connections that stopped reading; with it, 16 fast downloads still
 * get 512 KiB pieces (the 16 MiB bench case holds 4 MiB), and a crowd of stalled
 * ones costs 128 KiB each beyond the first 16 MiB. It was 32 MiB: 50 downloads
 * stalled at once (the attack's slow readers, renewed all together) held all of
 * it, and the `--tls` attack's peak RSS came down 11 MiB with 16 (one 60-second
 * run each).
 */
export const READ_BUDGET = 16 * 1024 * 1024;
let grownBytes = 0;

/** Bytes held right now in pieces larger than the first size (for tests). */
export function grownPieceBytes(): number {
  return grownBytes;
}

const DONE: IteratorResult<Buffer> = { value: undefined, done: true };

/**
 * Pieces that downloads gave back once written and no longer need (one outgrown:
 * the 64 KiB piece once the next is 128 KiB; their last; the spare left at the
 * end), by size, for the next download to read into. Without it every download
 * allocated its 64, 128, 256 and 512 KiB buffers afresh and dropped them:
 * garbage the collector is driven by (V8 counts the memory of array buffers) and
 * holes the allocator keeps resident (glibc serves these sizes from its heap once
 * one has been freed). At most {@link poolBytes} are kept, of all sizes together:
 * as much as {@link READ_BUDGET} lets downloads hold in grown pieces at once, so
 * a burst of downloads is read into the same buffers again instead of freeing them
 * into holes (the `--tls` attack peaked at 266 MiB with 16 MiB kept, 282 with 4,
 * one 5-minute run each).
 */
let poolBytes = READ_BUDGET;
const pools = new Map<number, Buffer[]>();
let pooledBytes = 0;

/** Sets the bound on pieces kept, returning the previous one (for tests: the crowd a test can make stays under the read budget). */
export function setPoolBytes(bytes: number): number {
  const before = poolBytes;
  poolBytes = bytes;
  return before;
}

/** Bytes of pieces kept for the next downloads right now (for tests). */
export function pooledPieceBytes(): number {
  return pooledBytes;
}

/** Full-size pieces kept for the next downloads right now (for tests). */
export function pooledPieces(): number {
  return pools.get(MAX_READ)?.length ?? 0;
}

function giveBack(piece: Buffer | undefined): void {
  if (piece === undefined || pooledBytes + piece.length > poolBytes) return;
  // A whole buffer (a short last piece is a view of a larger one), of a size pieces are read in: 64 KiB doubled up to 512 KiB.
  if (piece.buffer.byteLength !== piece.length) return;
  if (piece.length < FIRST_READ || piece.length > MAX_READ || (piece.length & (piece.length - 1)) !== 0) return;
  let pool = pools.get(piece.length);
  if (pool === undefined) pools.set(piece.length, (pool = []));
  pool.push(piece);
  pooledBytes += piece.length;
}

function takePooled(size: number): Buffer | undefined {
  const piece = pools.get(size)?.pop();
  if (piece !== undefined) pooledBytes -= piece.length;
  return piece;
}

/**
 * A piece read ahead that is not asked for within this long (ms) is dropped, and read
 * again (from the first size up) when it is: the socket has not taken the piece
 * before it for a second, so the client takes under 512 KiB/s, and what the
 * read ahead saves (a read from the page cache, well under a millisecond) is
 * nothing beside what it costs held by every stalled download (half of each
 * one's pieces).
 */
let shedMs = 1000;

/** Sets the wait before a read ahead is shed, returning the previous one (for tests). */
export function setShedDelay(ms: number): number {
  const before = shedMs;
  shedMs = ms;
  return before;
}

/**
 * The pieces of `[start, end)`, each read while the one before is being sent.
 * An iterator object, not an async generator: a suspended generator keeps every
 * value its frame has held, dead or not, so a download stalled on a client that
 * does not read could keep a piece it had already sent. Here a piece is
 * referenced only by `ahead` until it is handed out.
 */
class Pieces implements AsyncIterableIterator<Buffer>, Recycling {
  private position: number;
  private size = FIRST_READ;
  private ahead: Promise<Buffer> | undefined;
  /** Drops {@link ahead} once it has waited {@link shedMs}. */
  private shedTimer: NodeJS.Timeout | undefined;
  /** Bytes of grown pieces this download holds in {@link READ_BUDGET}: the one handed out and the one read ahead. */
  private handedOut = 0;
  private readingAhead = 0;
  /** Pieces handed out so far. */
  private handed = 0;
  /** The piece handed out last, which alone {@link recycle} takes back. */
  private lastOut: Buffer | undefined;
  /** A piece taken back, to read the next one into. */
  private spare: Buffer | undefined;

  constructor(
    private readonly readAt: (position: number, size: number, into: Buffer | undefined) => Promise<Buffer>,
    start: number,
    private readonly end: number,
  ) {
    this.position = start;
  }

  private readAhead(): Promise<Buffer> | undefined {
    if (this.position >= this.end) return undefined;
    // Over the aggregate budget, this download's pieces stay at the first size.
    if (this.size > FIRST_READ && grownBytes + this.size > READ_BUDGET) this.size = FIRST_READ;
    const size = Math.min(this.size, this.end - this.position);
    if (size > FIRST_READ) {
      this.readingAhead = size;
      grownBytes += size;
    }
    let spare = this.spare;
    this.spare = undefined;
    if (spare !== undefined && spare.length !== size) {
      giveBack(spare);
      spare = undefined;
    }
    if (spare === undefined) spare = takePooled(size);
    const piece = this.readAt(this.position, size, spare);
    // Nobody awaits it until the next piece is asked for, which can be seconds away
    // (a sender parked on 'drain'): a read error (EIO, ESTALE) meanwhile would be an
    // unhandled rejection, which ends the process. Marked handled here; next() still
    // throws it.
    piece.then(
      () => this.armShed(piece),
      () => undefined,
    );
    this.size = Math.min(this.size * 2, MAX_READ);
    return piece;
  }

  private armShed(piece: Promise<Buffer>): void {
    if (this.ahead !== piece) return; // already handed out
    this.shedTimer = setTimeout(() => this.shed(), shedMs).unref();
  }

  /** The piece read ahead waited too long: dropped, its budget given back, and the next read small. */
  private shed(): void {
    if (this.ahead === undefined) return;
    this.ahead = undefined;
    grownBytes -= this.readingAhead;
    this.readingAhead = 0;
    this.size = FIRST_READ;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    if (this.shedTimer !== undefined) clearTimeout(this.shedTimer);
    // The first piece, or one read again after it was shed.
    const pending = this.ahead ?? this.readAhead();
    this.ahead = undefined;
    // The piece handed out last has gone to the socket: it leaves the budget.
    this.release();
    if (pending === undefined) return DONE;
    const piece = await pending.catch((error: unknown) => {
      this.releaseAll();
      throw error;
    });
    this.handedOut = this.readingAhead;
    this.readingAhead = 0;
    if (piece.length === 0) {
      this.release();
      return DONE; // truncated under us: the caller sees a short body
    }
    this.position += piece.length;
    this.lastOut = piece;
    // Not past the first piece until it has been taken: a client that never reads
    // (an HTTP/2 stream with a zero window, 300 of them on three connections)
    // holds one 64 KiB piece instead of that and the 128 KiB one after it. A long
    // download pays for it once, one read's wait between its first two pieces.
    this.ahead = this.handed++ === 0 ? undefined : this.readAhead();
    return { value: piece, done: false };
  }

  /** Takes back the piece handed out last, once the socket has written it (src/adapters/node.ts). */
  recycle(piece: Uint8Array): void {
    if (piece !== this.lastOut) return;
    this.lastOut = undefined;
    // The last piece: nothing more to read into it here, the next download may.
    if (this.position >= this.end) giveBack(piece as Buffer);
    else this.spare = piece as Buffer;
  }

  /** Gives back what this download holds of the budget, except a read still running. */
  private release(): void {
    grownBytes -= this.handedOut;
    this.handedOut = 0;
  }

  /** Gives back everything it holds (its file is closing, or its read failed). */
  releaseAll(): void {
    this.release();
    grownBytes -= this.readingAhead;
    this.readingAhead = 0;
    // A spare was written and is held by no one: the next download's.
    giveBack(this.spare);
    this.spare = undefined;
  }

  /** Stopped early (client gone): lets the read ahead settle before the handle closes. */
  async return(): Promise<IteratorResult<Buffer>> {
    if (this.shedTimer !== undefined) clearTimeout(this.shedTimer);
    const pending = this.ahead;
    this.ahead = undefined;
    this.position = this.end;
    await pending?.catch(() => undefined);
    this.releaseAll();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

async function openFile(path: string): Promise<OpenFile> {
  const handle = await openAt(path, READ_FLAGS);
  const readAt = async (position: number, size: number, into: Buffer | undefined): Promise<Buffer> => {
    const buffer = into ?? Buffer.allocUnsafe(size);
    const { bytesRead } = await handle.read(buffer, 0, size, position);
    return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
  };
  // Whatever way a download ends, closing its file gives its pieces back to the budget.
  const reads = new Set<Pieces>();
  return {
    stat: async () => toFileStat(await handle.stat()),
    read: (start, end) => {
      const pieces = new Pieces(readAt, start, end);
      reads.add(pieces);
      return pieces;
    },
    close: () => {
      for (const pieces of reads) pieces.releaseAll();
      reads.clear();
      return handle.close();
    },
  };
}

/**
 * One non-recursive `fs.watch` (inotify on Linux, one watch per directory): Node
 * 20's recursive mode walks the tree itself and misses changes made while it
 * walks (nodejs/node#48437). Not persistent, so a watch never keeps the process
 * alive. Throws synchronously as `fs.watch` does (ENOENT, ENOSPC, EMFILE).
 */
function watchDirectory(path: string, changed: () => void): DirectoryWatch {
  const watcher = watch(path, { persistent: false }, () => changed());
  watcher.on("error", () => {
    watcher.close();
    changed(); // a watch that failed may have missed an event
  });
  return { close: () => watcher.close() };
}

/**
 * At most `limits` of a directory's names, read through `opendir` in small
 * batches and closed as soon as the limit is reached: the rest of a huge
 * directory is never read. Names that are not UTF-8 come back with U+FFFD and
 * cannot match a request's name, which is all they are read for.
 */
async function scanNames(path: string, limits: { readonly entries: number; readonly bytes: number }): Promise<string[]> {
  const names: string[] = [];
  let bytes = 0;
  const dir = await opendir(path, { bufferSize: 32 });
  try {
    for (let entry = await dir.read(); entry !== null; entry = await dir.read()) {
      bytes += Buffer.byteLength(entry.name);
      if (names.length >= limits.entries || bytes > limits.bytes) break;
      names.push(entry.name);
    }
  } finally {
    await dir.close();
  }
  return names;
}

/** The real file system. */
export const nodeFileSystem: FileSystem = {
  stat: async (path) => toFileStat(await stat(path)),
  realpath: (path) => realpath(path),
  readdir: listDirectory,
  readdirNames: listNames,
  statEntries,
  scanNames,
  open: openFile,
  watch: watchDirectory,
};
