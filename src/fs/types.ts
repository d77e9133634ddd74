/**
 * The small file-access interface the responders use, so that the HTTP logic can be
 * tested against an in-memory tree (./memory.ts) and served from disk (./node.ts).
 *
 * Errors are thrown as `Error` objects carrying a Node-style `code`
 * (`ENOENT`, `ENOTDIR`, `EACCES`, `ELOOP`, `ENAMETOOLONG`, `EMFILE`, ...); one place,
 * src/responders/errors.ts, maps them to statuses.
 */

/** What the responders need to know about a directory entry or a file. */
export interface FileStat {
  /** A regular file, a directory, or anything else (served as neither). */
  readonly kind: "file" | "directory" | "other";
  /** Bytes. */
  readonly size: number;
  /** Last modification, in milliseconds since the epoch (Last-Modified, the ETag). */
  readonly mtimeMs: number;
  /** The inode number: with size and mtime, the identity a reply is checked against when sent. */
  readonly ino: number;
}

/** One entry of a directory, with the stat of what it points to. */
export interface DirEntry {
  /** The name, as text: a name that is not valid UTF-8 is left out of the entries. */
  readonly name: string;
  /** The entry itself is a symbolic link (its `stat` describes the target). */
  readonly symlink: boolean;
  /** `undefined` when the entry could not be stat'ed (a dangling symlink, say). */
  readonly stat: FileStat | undefined;
  /**
   * The canonical path of what the entry names: the directory's path and the
   * name, or for a symlink its target's canonical path; `undefined` when it
   * names nothing (dangling, looping). What the listing's visibility check is
   * made on, exactly as a GET of the entry would make it.
   */
  readonly real: string | undefined;
}

/**
 * One entry of a directory as the directory itself describes it (readdir with
 * file types): no stat of what it names, except for a symlink, whose target
 * must be resolved anyway to know what it is and whether it may be shown.
 */
export interface DirName {
  readonly name: string;
  readonly symlink: boolean;
  /** What the name is (a symlink's target's kind); `undefined` when a symlink names nothing. */
  readonly kind: FileStat["kind"] | undefined;
  /** A symlink's target's stat (already read to resolve it); `undefined` for other entries. */
  readonly stat: FileStat | undefined;
  /** As {@link DirEntry.real}. */
  readonly real: string | undefined;
}

/**
 * A directory as {@link FileSystem.readdirNames} reads it: the entries that are
 * no symlink as two columns (a name and its kind at the same index, no object
 * each: a directory of 100,000 names is read in one pass and two arrays), and
 * the symlinks, and entries whose type the file system did not report, one
 * {@link DirName} each. The canonical path of a plain entry is the directory's
 * path and its name.
 */
export interface DirNames {
  readonly names: readonly string[];
  readonly kinds: ReadonlyArray<FileStat["kind"]>;
  readonly others: readonly DirName[];
}

/** An open file: its descriptor's stat and a way to read byte ranges from it. */
export interface OpenFile {
  /** Stat of the open descriptor (fstat), not of the path. */
  stat(): Promise<FileStat>;
  /**
   * Bytes `[start, end)`, as a stream of chunks. Its iterator may offer
   * {@link Recycling.recycle}.
   */
  read(start: number, end: number): AsyncIterable<Uint8Array>;
  /** Releases the descriptor; called once, after the last read. */
  close(): Promise<void>;
}

/**
 * The file access the responders need. `readdir` and `open` are given canonical
 * paths (from `realpath`, checked for containment and visibility) and must
 * read exactly the object at that path: if a directory on the way was swapped
 * for a symlink between the check and the call, they fail with `ENOENT`
 * rather than read what the link leads to (issue 10 item 9). The check is on
 * what was actually opened, the descriptor, not on the path again.
 */
export interface FileSystem {
  /** Stat following symlinks. */
  stat(path: string): Promise<FileStat>;
  /** The canonical absolute path with every symlink resolved. */
  realpath(path: string): Promise<string>;
  /**
   * The entries of the directory at the canonical `path` (without `.` and `..`),
   * in no particular order; `ENOENT` if what was opened is not at `path`.
   */
  readdir(path: string): Promise<DirEntry[]>;
  /**
   * Optional, for large directories: the entries of the directory at the canonical
   * `path` with their types, stat'ing only symlinks' targets. Without it listings
   * use {@link readdir}.
   */
  readdirNames?(path: string): Promise<DirNames>;
  /**
   * Optional, with {@link readdirNames}: the stats of the non-symlink entries
   * `names` of the directory at the canonical `path`, read from that directory's
   * own checked descriptor; `undefined` for a name that is gone or is now a symlink.
   */
  statEntries?(path: string, names: readonly string[]): Promise<Array<FileStat | undefined>>;
  /**
   * Optional: at most `limits.entries` names of the directory at the canonical
   * `path`, and names of at most `limits.bytes` bytes in all, in no particular
   * order, reading no further (a directory of a million entries costs what
   * the limit allows). Only a name and no stat: an explanation's "did you
   * mean", which checks any name it suggests like a request would.
   */
  scanNames?(path: string, limits: { readonly entries: number; readonly bytes: number }): Promise<string[]>;
  /** Open the file at the canonical `path` for reading; `ENOENT` if what was opened is not at `path`. */
  open(path: string): Promise<OpenFile>;
  /**
   * Optional: watch the directory at `path` (not its subdirectories) and call
   * `changed` whenever one of its entries is added, removed, renamed or written
   * to, or the directory itself is moved or removed (and on any error of the
   * watch: a watch that may have missed something must say so). Throws
   * synchronously when it cannot: `ENOENT`/`ENOTDIR` (nothing there to watch),
   * `ENOSPC`/`EMFILE` (the system's limit on watches). Without it, what a URL
   * resolved to is trusted for `revalidateMs` only (src/fs/watch.ts).
   */
  watch?(path: string, changed: () => void): DirectoryWatch;
}

/** A watch made by {@link FileSystem.watch}; `close` stops it (idempotent). */
export interface DirectoryWatch {
  close(): void;
}

/**
 * An iterator of pieces that can take a piece back once its consumer is done
 * with it, to read the next one into: a download then reuses two buffers instead
 * of allocating one per piece. Only for a consumer that knows no one holds the
 * piece any longer (the Node writer, once the socket's write of it completed);
 * a piece it did not yield last is ignored.
 */
export interface Recycling {
  recycle?(piece: Uint8Array): void;
}
