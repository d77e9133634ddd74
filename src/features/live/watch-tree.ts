/**
 * Watching the whole served tree for `--live`: one `fs.watch` per directory
 * (inotify on Linux), none per file, and a polling walk where watches cannot be
 * had.
 *
 * Chosen over Node's recursive `fs.watch` and chokidar by measurement
 * (docs/design.md, "Live reload"; bench/live-watch.mjs): on Node 20 Linux,
 * recursive `fs.watch` is JavaScript that walks the tree and can miss files
 * made in a directory created just before (node issue 48437); chokidar 4 stats
 * every file and reaches 'ready' later for the same tree. Directories only
 * cost one readdir each, so 100,000 files in 1,000 directories are watched in a
 * fraction of a second.
 *
 * What is not served is not watched: names a client could never fetch
 * (dotfiles unless `--dotfiles allow`), `node_modules` (a dependency install
 * would reload every page), and `--live-ignore` globs. Symlinked directories
 * are not followed (a link out of the tree could lead anywhere, or back).
 *
 * When the system refuses another watch (ENOSPC: inotify's
 * `max_user_watches`; EMFILE: descriptors), one line says what to raise and
 * the tree is polled instead, every `pollMs` (1 s by default).
 */
import { type Dirent, type FSWatcher, promises as fsp, watch as fsWatch } from "node:fs";
import { join, sep } from "node:path";

/** What is skipped: a relative `/`-separated path, and whether it is a directory. */
export type Skip = (relative: string, name: string) => boolean;

/** Watches one directory (not its subdirectories); Node's `fs.watch` by default (tests pass a failing one). */
export type WatchDirectory = (path: string, changed: (name: string | null) => void, failed: (error: unknown) => void) => { close(): void };

export interface TreeWatcherOptions {
  readonly root: string;
  readonly skip: Skip;
  /** Called with relative `/`-separated paths that changed (may repeat). */
  readonly changed: (relative: string) => void;
  /** One line for the operator (the fallback to polling). */
  readonly warn: (line: string) => void;
  /** Poll every this many ms instead of watching; 0: watch. */
  readonly pollMs: number;
  readonly watchDirectory?: WatchDirectory;
  /** The most directories watched or files polled; past it, one warning and no more. */
  readonly maxEntries?: number;
}

/** How the tree is followed, for the banner. */
export interface TreeState {
  readonly mode: "watch" | "poll";
  readonly directories: number;
}

/** The most entries followed, so a huge tree costs bounded memory: about 100 bytes of path per entry. */
export const MAX_ENTRIES = 500_000;
/** Polling interval after a fallback, when `--live-poll` did not name one. */
export const FALLBACK_POLL_MS = 1000;
// readdir calls in flight during a walk: enough to keep the thread pool busy, few enough not to starve requests.
const WALK_CONCURRENCY = 8;

const nodeWatch: WatchDirectory = (path, changed, failed) => {
  const w: FSWatcher = fsWatch(path, { persistent: false }, (_type, name) => changed(typeof name === "string" ? name : null));
  w.on("error", failed);
  return w;
};

/** Walks and watches a tree; {@link TreeWatcher.ready} settles once every directory is watched (or polled once). */
export class TreeWatcher {
  readonly ready: Promise<TreeState>;
  private readonly watches = new Map<string, { close(): void }>();
  private mode: "watch" | "poll";
  private pollMs: number;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private snapshot = new Map<string, string>();
  private warnedFull = false;
  private readonly watchDirectory: WatchDirectory;
  private readonly max: number;

  constructor(private readonly o: TreeWatcherOptions) {
    this.watchDirectory = o.watchDirectory ?? nodeWatch;
    this.max = o.maxEntries ?? MAX_ENTRIES;
    this.mode = o.pollMs > 0 ? "poll" : "watch";
    this.pollMs = o.pollMs > 0 ? o.pollMs : FALLBACK_POLL_MS;
    this.ready = this.start();
  }

  /** Directories watched now (or, polling, directories walked on the last pass). */
  get state(): TreeState {
    return { mode: this.mode, directories: this.mode === "watch" ? this.watches.size : this.polledDirectories };
  }
  private polledDirectories = 0;

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }

  private async start(): Promise<TreeState> {
    if (this.mode === "watch") await this.watchTree("");
    if (this.mode === "poll" && !this.closed) await this.startPolling();
    this.started = true;
    return this.state;
  }
  private started = false;

  private async startPolling(): Promise<void> {
    this.snapshot = await this.scan();
    this.schedulePoll();
  }

  /** Watches `relative` and every directory below it, a few readdirs at a time. */
  private async watchTree(relative: string, report = false): Promise<void> {
    const queue = [relative];
    const worker = async (): Promise<void> => {
      for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
        if (this.closed || this.mode !== "watch") return;
        if (!this.watchOne(dir)) return;
        for (const sub of await this.subdirectories(dir, report)) queue.push(sub);
      }
    };
    // Workers finish when the queue is empty; a directory found later queues more, so loop.
    while (queue.length > 0 && !this.closed && this.mode === "watch") {
      await Promise.all(Array.from({ length: WALK_CONCURRENCY }, worker));
    }
  }

  /** The subdirectories of `relative` not skipped; with `report`, every entry is reported as changed. */
  private async subdirectories(relative: string, report: boolean): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(this.absolute(relative), { withFileTypes: true });
    } catch {
      return []; // gone or unreadable: nothing to watch there
    }
    const out: string[] = [];
    for (const e of entries) {
      const rel = relative === "" ? e.name : `${relative}/${e.name}`;
      if (this.o.skip(rel, e.name)) continue;
      if (report) this.o.changed(rel);
      if (e.isDirectory()) out.push(rel);
    }
    return out;
  }

  private absolute(relative: string): string {
    return relative === "" ? this.o.root : join(this.o.root, relative.split("/").join(sep));
  }

  /** Watches one directory; false when the system refused (and polling took over). */
  private watchOne(relative: string): boolean {
    if (this.watches.has(relative)) return true;
    if (this.watches.size >= this.max) {
      this.full();
      return true;
    }
    try {
      const w = this.watchDirectory(
        this.absolute(relative),
        (name) => this.event(relative, name),
        () => this.dropped(relative),
      );
      this.watches.set(relative, w);
      return true;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ENOSPC" || code === "EMFILE" || code === "ENFILE") {
        this.fallBack(code);
        return false;
      }
      return true; // ENOENT and the like: the directory went away meanwhile
    }
  }

  private full(): void {
    if (this.warnedFull) return;
    this.warnedFull = true;
    this.o.warn(`wharf: live reload follows the first ${this.max} entries of the tree; use --live-ignore for the rest`);
  }

  /** A watch that failed (its directory removed, say): closed, and the change reported. */
  private dropped(relative: string): void {
    this.watches.get(relative)?.close();
    this.watches.delete(relative);
    this.o.changed(relative);
  }

  private event(dir: string, name: string | null): void {
    if (this.closed) return;
    if (name === null) {
      this.o.changed(dir);
      return;
    }
    const rel = dir === "" ? name : `${dir}/${name}`;
    const base = name.slice(name.lastIndexOf("/") + 1);
    if (this.o.skip(rel, base)) return;
    if (this.mode !== "watch" || this.watches.has(rel)) {
      this.o.changed(rel);
      return;
    }
    // A directory made (or moved in) here is watched, with what is below it,
    // before the change is reported: the batch it ends up in cannot be sent
    // before the new watch exists. A file made inside it before its watch did
    // would be missed, so everything the walk finds counts as changed too (the
    // race of node issue 48437).
    void fsp.stat(this.absolute(rel)).then(
      (s) => {
        if (s.isDirectory() && !this.closed) void this.watchTree(rel, true).then(() => this.o.changed(rel));
        else this.o.changed(rel);
      },
      () => this.o.changed(rel),
    );
  }

  private fallBack(code: string): void {
    if (this.mode === "poll") return;
    const raise =
      code === "ENOSPC"
        ? "raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288)"
        : "raise the open-file limit (ulimit -n)";
    this.o.warn(`wharf: live reload: the system refused more file watches (${code}); ${raise}; polling every ${this.pollMs} ms instead`);
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
    this.mode = "poll";
    // After start-up (a directory made later was refused), polling starts here.
    if (this.started) void this.startPolling();
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.scan().then((next) => {
        if (this.closed) return;
        for (const [path, stamp] of next) if (this.snapshot.get(path) !== stamp) this.o.changed(path);
        for (const path of this.snapshot.keys()) if (!next.has(path)) this.o.changed(path);
        this.snapshot = next;
        this.schedulePoll();
      });
    }, this.pollMs);
    this.timer.unref();
  }

  /** Every file's size and mtime under the root, within {@link max} entries. */
  private async scan(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const queue = [""];
    let directories = 0;
    for (let dir = queue.shift(); dir !== undefined && !this.closed; dir = queue.shift()) {
      directories++;
      let entries: Dirent[];
      try {
        entries = await fsp.readdir(this.absolute(dir), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        const rel = dir === "" ? e.name : `${dir}/${e.name}`;
        if (this.o.skip(rel, e.name)) continue;
        if (out.size >= this.max) {
          this.full();
          break;
        }
        if (e.isDirectory()) {
          queue.push(rel);
          out.set(rel, "dir");
        } else if (e.isFile()) {
          try {
            const s = await fsp.stat(this.absolute(rel));
            out.set(rel, `${s.size}:${s.mtimeMs}`);
          } catch {
            // gone meanwhile
          }
        }
      }
    }
    this.polledDirectories = directories;
    return out;
  }
}
