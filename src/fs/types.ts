/**
 * The small file-access interface the handlers use, so that the HTTP logic can be
 * tested against an in-memory tree (./memory.ts) and served from disk (./node.ts).
 *
 * Errors are thrown as `Error` objects carrying a Node-style `code`
 * (`ENOENT`, `ENOTDIR`, `EACCES`, `ELOOP`, `ENAMETOOLONG`, `EMFILE`, ...); one place,
 * src/handlers/errors.ts, maps them to statuses.
 */

/** What the handlers need to know about a directory entry or a file. */
export interface FileStat {
  readonly kind: "file" | "directory" | "other";
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** One entry of a directory, with the stat of what it points to. */
export interface DirEntry {
  readonly name: string;
  /** The entry itself is a symbolic link (its `stat` describes the target). */
  readonly symlink: boolean;
  /** `undefined` when the entry could not be stat'ed (a dangling symlink, say). */
  readonly stat: FileStat | undefined;
}

/** An open file: its descriptor's stat and a way to read byte ranges from it. */
export interface OpenFile {
  /** Stat of the open descriptor (fstat), not of the path. */
  stat(): Promise<FileStat>;
  /** Bytes `[start, end)`, as a stream of chunks. */
  read(start: number, end: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export interface FileSystem {
  /** Stat following symlinks. */
  stat(path: string): Promise<FileStat>;
  /** The canonical absolute path with every symlink resolved. */
  realpath(path: string): Promise<string>;
  /** The entries of a directory (without `.` and `..`), in no particular order. */
  readdir(path: string): Promise<DirEntry[]>;
  /** Open a file for reading. */
  open(path: string): Promise<OpenFile>;
}
