/**
 * Directory watches for the resolved-URL cache (responders/resources.ts), so that
 * a save shows on the very next request (issue 11 item 9) while a hot URL stays a
 * map lookup with no `stat`.
 *
 * A resolution declares the directories it depends on ({@link directoriesOf}),
 * each before it reads anything there, and the cache adds them to the entry's
 * {@link Lease} as they come, so each watch is in place before the read it
 * guards; any event in one of them calls the lease back, which drops the entry
 * (or, during the resolution, makes the cache resolve again). Events are not
 * inspected (which file changed): any event in a directory drops every entry
 * depending on it, which is simple and safe, and the contents cache's
 * (inode, size, mtime) check keeps an unchanged file from being read again.
 *
 * A change can only be missed if it happened before the watch existed. Each
 * watch is closed on its first event (a watch follows the directory's inode, so
 * after a move it would watch something else than the path; events do not say
 * reliably, on every platform, that the directory itself moved), so a result is
 * current if every watch it holds is still open ({@link Lease.current}). A
 * directory known only after it was read (the real path behind a symlink) must
 * have been watched since before the resolution began: each watch is stamped with
 * a tick ({@link DirectoryWatcher.tick}) when it is made. Otherwise the cache
 * resolves once more, now under the watches.
 *
 * Bounded by construction: at most `maxDirectories` watches
 * ({@link WATCH_DIRECTORIES} by default, at most {@link WATCH_BYTES} of memory
 * each: about 4 MiB in all, a budget of its own beside the caches').
 * A watch no entry depends on is kept while there is room (the next resolution
 * there needs no second pass) and closed, oldest idle first, when a new one needs
 * the room. When the bound is reached with every watch in use, or the system
 * refuses one (`ENOSPC`: inotify's `max_user_watches`; `EMFILE`), the lease is
 * incomplete and the entry falls back to the `revalidateMs` window — the only
 * freshness there was before watching.
 */
import { dirname, relative, sep } from "node:path";
import type { DirectoryWatch, FileSystem } from "./types.js";

/** The default bound on directories watched at once, per handler. */
export const WATCH_DIRECTORIES = 2048;

/**
 * What one watch weighs in the process: the record here, Node's FSWatcher (an
 * EventEmitter) and its libuv handle; the kernel's inotify watch (about 1 KiB)
 * is not in the process. Measured on Node 20 at 1.6 KiB of heap per watch
 * (2,048 watches of 40-character paths, one lease each); rounded up, so the
 * default bound weighs about 4 MiB.
 */
export const WATCH_BYTES = 2048;

/**
 * The directories on which what `path` names depends, for a resolution under the
 * canonical `root`: inside the root, every directory from the root down to the
 * parent of `path` (a renamed or swapped directory on the way — a build tool
 * replacing `dist/` — must drop the entry too); outside it (a followed symlink),
 * the parent alone, since watching `/home` or `/tmp` would drop entries on every
 * unrelated change there. `path` itself is not included: for a directory whose
 * entries matter (a listing), add it.
 */
export function directoriesOf(root: string, path: string): string[] {
  // The root itself: a move or removal of it is an event on its own watch.
  if (path === root) return [root];
  const parent = dirname(path);
  const rel = relative(root, parent);
  if (rel === "") return [root];
  if (rel === ".." || rel.startsWith(`..${sep}`) || rel.startsWith(sep) || /^[a-zA-Z]:/.test(rel)) return [parent];
  const dirs = [root];
  let at = root;
  for (const part of rel.split(sep)) {
    at = at.endsWith(sep) ? at + part : at + sep + part;
    dirs.push(at);
  }
  return dirs;
}

/** A hold on the watches of the directories one cached entry depends on, taken as they are declared. */
export interface Lease {
  /**
   * Watches `dir` for this entry. `readSince` is the tick when the resolution
   * began, for a directory already read before it was declared (the watch must
   * be older than that read); leave it out for one declared before it is read.
   */
  add(dir: string, readSince?: number): void;
  /** Every directory added is watched (or does not exist, so its parent's watch covers it). */
  readonly complete: boolean;
  /**
   * Complete, not called back, and every watch was in place before its directory
   * was read and is still open: what was read is what is there.
   */
  current(): boolean;
  /** Lets go of the watches (idempotent); the callback is not called after this. */
  release(): void;
}

interface Watched {
  readonly dir: string;
  readonly handle: DirectoryWatch;
  /** The tick when the watch was made. */
  readonly stamp: number;
  readonly leases: Set<LeaseImpl>;
}

class LeaseImpl implements Lease {
  /** Each watch held, with the tick it must not be newer than (`Infinity`: any). */
  readonly #watched = new Map<Watched, number>();
  readonly #owner: DirectoryWatcher;
  readonly changed: () => void;
  #complete = true;
  #released = false;

  constructor(owner: DirectoryWatcher, changed: () => void) {
    this.#owner = owner;
    this.changed = changed;
  }

  get complete(): boolean {
    return this.#complete;
  }

  add(dir: string, readSince = Infinity): void {
    if (this.#released) return;
    const w = this.#owner.take(dir, this);
    if (w === "absent") return;
    if (w === undefined) {
      this.#complete = false;
      return;
    }
    this.#watched.set(w, Math.min(readSince, this.#watched.get(w) ?? Infinity));
  }

  current(): boolean {
    if (!this.#complete || this.#released) return false;
    for (const [w, limit] of this.#watched) if (w.stamp > limit || !this.#owner.isCurrent(w)) return false;
    return true;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const w of this.#watched.keys()) this.#owner.unlease(w, this);
  }
}

/** Options of {@link DirectoryWatcher}. */
export interface DirectoryWatcherOptions {
  /** At most this many directories watched at once. @default WATCH_DIRECTORIES */
  readonly maxDirectories?: number;
  /** Told once, the first time the system refuses a watch. @default a line on stderr */
  readonly warn?: (message: string) => void;
}

/** The system ran out of watches (inotify's limits) or of descriptors. */
const REFUSED = new Set(["ENOSPC", "EMFILE", "ENFILE", "ENOMEM"]);
/** Nothing to watch there: the parent directory's watch sees it appear. */
const ABSENT = new Set(["ENOENT", "ENOTDIR"]);

const errorCode = (error: unknown): string => (typeof error === "object" && error !== null && "code" in error ? String(error.code) : "");

/** A bounded set of directory watches, shared by the entries that depend on them. */
export class DirectoryWatcher {
  readonly #watch: NonNullable<FileSystem["watch"]>;
  readonly #max: number;
  readonly #warn: (message: string) => void;
  readonly #watched = new Map<string, Watched>();
  /** Watches no lease holds, oldest first: closed first when room is needed. */
  readonly #idle = new Set<Watched>();
  #tick = 0;
  #warned = false;

  /** `watch` is the file system's {@link FileSystem.watch}, bound to it. */
  constructor(watch: NonNullable<FileSystem["watch"]>, options: DirectoryWatcherOptions = {}) {
    this.#watch = watch;
    this.#max = options.maxDirectories ?? WATCH_DIRECTORIES;
    this.#warn = options.warn ?? ((message) => process.stderr.write(`${message}\n`));
  }

  /** Now, in ticks: a watch made or changed later has a larger stamp. */
  get tick(): number {
    return this.#tick;
  }

  /** Directories watched right now (in use or idle). */
  get size(): number {
    return this.#watched.size;
  }

  /** Memory held by the watches, estimated: {@link WATCH_BYTES} each and their paths. */
  get bytes(): number {
    let bytes = 0;
    for (const dir of this.#watched.keys()) bytes += WATCH_BYTES + 2 * dir.length;
    return bytes;
  }

  /**
   * An empty lease for one entry: `changed` is called on the first event in any
   * directory added to it, until it is released. Never throws: what cannot be
   * watched makes the lease incomplete.
   */
  lease(changed: () => void): Lease {
    return new LeaseImpl(this, changed);
  }

  /** Closes every watch (the handler is done with). */
  close(): void {
    for (const w of [...this.#watched.values()]) this.#forget(w);
  }

  /** Whether `w` is still the watch of its directory (not closed after a move). */
  isCurrent(w: Watched): boolean {
    return this.#watched.get(w.dir) === w;
  }

  /** The watch of `dir`, made if need be, now held by `lease` (so never closed to make room). */
  take(dir: string, lease: LeaseImpl): Watched | "absent" | undefined {
    const w = this.#watchOf(dir);
    if (typeof w === "object") {
      this.#idle.delete(w);
      w.leases.add(lease);
    }
    return w;
  }

  unlease(w: Watched, lease: LeaseImpl): void {
    w.leases.delete(lease);
    if (w.leases.size === 0 && this.isCurrent(w)) this.#idle.add(w);
  }

  #watchOf(dir: string): Watched | "absent" | undefined {
    const known = this.#watched.get(dir);
    if (known !== undefined) return known;
    if (this.#watched.size >= this.#max) {
      const oldest = this.#idle.values().next();
      if (oldest.done === true) return undefined; // every watch in use: the window covers this one
      this.#forget(oldest.value);
    }
    let w: Watched | undefined;
    try {
      const handle = this.#watch(dir, () => this.#event(w));
      w = { dir, handle, stamp: ++this.#tick, leases: new Set() };
    } catch (error) {
      const code = errorCode(error);
      if (ABSENT.has(code)) return "absent";
      if (REFUSED.has(code) && !this.#warned) {
        this.#warned = true;
        this.#warn(
          `wharf: the system refused to watch more directories (${code}); edits under them show within revalidateMs instead of at once. ` +
            `On Linux, raise fs.inotify.max_user_watches (and max_user_instances), e.g. sysctl fs.inotify.max_user_watches=524288.`,
        );
      }
      return undefined;
    }
    this.#watched.set(dir, w);
    this.#idle.add(w); // until a lease takes it
    return w;
  }

  /** An event in `w`'s directory: call back every entry depending on it, then close it. */
  #event(w: Watched | undefined): void {
    if (w === undefined || !this.isCurrent(w)) return;
    this.#tick++;
    for (const lease of [...w.leases]) {
      lease.release();
      lease.changed();
    }
    // The watch follows the directory's inode: if the directory was moved or
    // removed, it now watches something else than the path. Events do not say so
    // reliably on every platform, so any event closes it, and the next resolution
    // watches the path afresh (stamped after its start: resolved twice, once).
    this.#forget(w);
  }

  #forget(w: Watched): void {
    if (!this.isCurrent(w)) return;
    this.#watched.delete(w.dir);
    this.#idle.delete(w);
    w.handle.close();
  }
}
