/**
 * `wharf precompress DIR`: writes `file.br`, `file.gz` (and `file.zst` where Node
 * has zstd) beside every compressible file, at the highest settings — the cost is
 * paid once, at build time, and the server then sends the sidecars as they are.
 * Sidecars not older than their file are up to date and skipped; a coding that
 * would not make the file smaller is not written.
 *
 * Safe to try (issue 11 item 2): without a folder it only prints usage; it leaves
 * `node_modules` and dot-directories alone unless asked; `--dry-run` shows what it
 * would write. Safe to run in a tree someone else can write to (issue 10 item 10):
 * it never follows a symlink, neither reading (the source is opened with
 * O_NOFOLLOW) nor writing (the temporary file is created exclusively under an
 * unpredictable name, then renamed over the sidecar's name, which replaces a link
 * there instead of writing through it; a sidecar name that is not a regular file
 * is left alone). Configuration and password files are never compressed: their
 * sidecars would hold the same secrets.
 *
 * `--digests` then writes a digest sidecar (`FILE.sha256`, `sha256sum`'s format,
 * src/responders/digest-sidecar.ts) beside every file larger than 1 MiB, the
 * compressed sidecars included: wharf hashes the files it keeps in memory when it
 * reads them, and takes the ETag and Repr-Digest of any larger file from its
 * digest sidecar instead of reading it, so that every replica agrees on the tag
 * of a file above `hashLimit` from the first request (issue 15 item 5).
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, lstat, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import type { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { humanSize } from "../core/text.js";
import { isCompressible } from "../http/compressible.js";
import { contentTypeFor } from "../http/content-type.js";
import type { Encoding } from "../http/negotiate.js";
import { DIGEST_SIDECAR_SUFFIX, formatDigestSidecar } from "../responders/digest-sidecar.js";
import { compressorStream, ENCODINGS, SIDECAR_SUFFIX } from "../responders/encoders.js";

const SIDECAR = /\.(br|gz|zst)$/;
const MIN_BYTES = 1024;

/**
 * Names never compressed, wherever they are: wharf's and serve's configuration
 * files and password files. The server hides the configuration and password
 * files it uses (and their sidecars) by real path; this keeps their secrets from
 * being copied into sidecars in the first place.
 */
export function isSecretName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === "wharf.json" || lower === "serve.json" || lower.includes("htpasswd");
}

// O_NOFOLLOW: a source or temporary name that is a symlink fails (ELOOP) instead
// of being followed out of the tree. Absent on Windows, where creating a symlink
// needs privileges.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const READ_FLAGS = constants.O_RDONLY | NOFOLLOW;
// O_EXCL with O_CREAT: fails if anything, a planted symlink included, has the name.
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;

/** What the walk takes in besides the plain files. */
export interface WalkOptions {
  /** Descend into `node_modules`. @default false */
  readonly includeNodeModules?: boolean;
  /** Include dotfiles and dot-directories. @default false */
  readonly dotfiles?: boolean;
}

/** What one run should do. */
export interface PrecompressOptions extends WalkOptions {
  /** Report what would be written, and write nothing. @default false */
  readonly dryRun?: boolean;
  /** Also write digest sidecars (`FILE.sha256`) beside every file over {@link DIGEST_MIN_BYTES}. @default false */
  readonly digests?: boolean;
  /** Called after each file examined, with the running summary (progress). */
  readonly progress?: (summary: Readonly<PrecompressSummary>) => void;
}

/**
 * Files up to this size get no digest sidecar: wharf keeps them in memory
 * (`cacheFileBytes`, 1 MiB by default) and hashes them when it reads them.
 */
export const DIGEST_MIN_BYTES = 1024 * 1024;

/** What one run did. */
export interface PrecompressSummary {
  /** Files looked at (every regular file the walk found). */
  scanned: number;
  /** Compressible files, at least 1 KiB. */
  files: number;
  written: number;
  upToDate: number;
  notSmaller: number;
  /** Sidecar names that are not regular files (a symlink, a directory): left alone. */
  leftAlone: number;
  originalBytes: number;
  /** Bytes saved by the best coding of each file. */
  savedBytes: number;
  /** With `digests`: files over {@link DIGEST_MIN_BYTES} looked at (compressed sidecars included). */
  hashed: number;
  /** Digest sidecars written (or, in a dry run, that would be). */
  digestsWritten: number;
  /** Digest sidecars already up to date. */
  digestsUpToDate: number;
}

async function* walk(dir: string, options: WalkOptions): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!options.dotfiles && entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!options.includeNodeModules && entry.name === "node_modules") continue;
      yield* walk(path, options);
    } else if (entry.isFile() && !SIDECAR.test(entry.name)) yield path; // symlinks are never followed
  }
}

/** Every regular file a digest is for: compressed sidecars too (and a real `.gz` download), never a digest sidecar. */
async function* walkForDigests(dir: string, options: WalkOptions): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!options.dotfiles && entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!options.includeNodeModules && entry.name === "node_modules") continue;
      yield* walkForDigests(path, options);
    } else if (entry.isFile() && !entry.name.endsWith(DIGEST_SIDECAR_SUFFIX)) yield path;
  }
}

/**
 * Writes `path`'s digest sidecar: the file hashed through a descriptor opened
 * without following links, the line written to a fresh temporary name and
 * renamed over the sidecar's, as compressed sidecars are. `false` when the file
 * changed while it was read (then the digest would describe no version of it).
 */
async function writeDigest(path: string): Promise<boolean> {
  const target = path + DIGEST_SIDECAR_SUFFIX;
  const source = await open(path, READ_FLAGS);
  let digest: Buffer;
  let mtimeMs: number;
  try {
    const before = await source.stat();
    mtimeMs = before.mtimeMs;
    const hash = createHash("sha256");
    for await (const chunk of source.createReadStream({ autoClose: false, emitClose: false })) hash.update(chunk as Buffer);
    const after = await source.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) return false;
    digest = hash.digest();
  } finally {
    await source.close();
  }
  const temporary = temporaryName(target);
  const sink = await open(temporary, CREATE_FLAGS, 0o644);
  try {
    await sink.writeFile(formatDigestSidecar(digest, basename(path)));
    // A file dated in the future (copied from a machine whose clock is ahead) would
    // leave its sidecar older than itself, so never used: date the sidecar no earlier.
    // A millisecond later than its time: seconds as a double lose the nanoseconds.
    if (mtimeMs > Date.now()) await sink.utimes((Math.ceil(mtimeMs) + 1) / 1000, (Math.ceil(mtimeMs) + 1) / 1000);
    await sink.close();
    await rename(temporary, target);
    return true;
  } catch (error) {
    await sink.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The digest pass: a sidecar for every file over {@link DIGEST_MIN_BYTES} whose sidecar is absent or stale. */
async function writeDigests(
  root: string,
  log: (line: string) => void,
  options: PrecompressOptions,
  summary: PrecompressSummary,
): Promise<void> {
  for await (const path of walkForDigests(root, options)) {
    const info = await lstat(path);
    if (!info.isFile() || info.size <= DIGEST_MIN_BYTES || isSecretName(basename(path))) continue;
    summary.hashed++;
    const target = path + DIGEST_SIDECAR_SUFFIX;
    const state = await sidecarState(target, info.mtimeMs);
    if (state.kind === "fresh") summary.digestsUpToDate++;
    else if (state.kind === "other") {
      summary.leftAlone++;
      log(`${relative(root, target)}: not a regular file, left alone`);
    } else if (options.dryRun) {
      summary.digestsWritten++;
      log(`would write ${relative(root, target)}`);
    } else if (await writeDigest(path)) {
      summary.digestsWritten++;
      log(`${relative(root, target)}: sha256 of ${humanSize(info.size)}`);
    } else log(`${relative(root, path)}: changed while it was hashed, no digest written`);
    options.progress?.(summary);
  }
}

function bestCompressor(encoding: Encoding, size: number): Transform {
  if (encoding === "br") {
    return zlib.createBrotliCompress({
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
      },
    });
  }
  if (encoding === "gzip") return zlib.createGzip({ level: zlib.constants.Z_BEST_COMPRESSION });
  return compressorStream(encoding, size);
}

/**
 * A temporary name beside `target`: unpredictable (96 random bits), so nobody can
 * plant a link at it in advance, and a dotfile, so the server hides it while it
 * is being written.
 */
export function temporaryName(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(12).toString("hex")}.tmp`);
}

/** Writes `path`'s sidecar for `encoding`; returns its size, or undefined if not worth keeping. */
async function writeSidecar(path: string, size: number, encoding: Encoding): Promise<number | undefined> {
  const target = path + SIDECAR_SUFFIX[encoding];
  const temporary = temporaryName(target);
  let source: FileHandle | undefined;
  let sink: FileHandle | undefined;
  let created = false;
  try {
    source = await open(path, READ_FLAGS);
    sink = await open(temporary, CREATE_FLAGS, 0o644);
    created = true;
    const output = sink;
    // The handles stay ours to close (finally), whatever the streams do.
    await pipeline(
      source.createReadStream({ autoClose: false, emitClose: false }),
      bestCompressor(encoding, size),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) await output.write(chunk);
      },
    );
    const written = (await sink.stat()).size;
    await sink.close();
    sink = undefined;
    if (written >= size) {
      await rm(temporary);
      return undefined;
    }
    // Atomic, and it replaces whatever has the name (a link included) without following it.
    await rename(temporary, target);
    return written;
  } catch (error) {
    if (created) await rm(temporary, { force: true });
    throw error;
  } finally {
    await sink?.close();
    await source?.close();
  }
}

/** The state of a sidecar's name: absent, an up-to-date or stale regular file, or something else. */
async function sidecarState(
  target: string,
  mtimeMs: number,
): Promise<{ kind: "absent" | "stale" | "other" } | { kind: "fresh"; size: number }> {
  const info = await lstat(target).catch(() => undefined);
  if (info === undefined) return { kind: "absent" };
  if (!info.isFile()) return { kind: "other" };
  return info.mtimeMs >= mtimeMs ? { kind: "fresh", size: info.size } : { kind: "stale" };
}

/** Precompresses every compressible file under `root`, reporting each file to `log`. */
export async function precompress(
  root: string,
  log: (line: string) => void,
  options: PrecompressOptions = {},
): Promise<PrecompressSummary> {
  const summary: PrecompressSummary = {
    scanned: 0,
    files: 0,
    written: 0,
    upToDate: 0,
    notSmaller: 0,
    leftAlone: 0,
    originalBytes: 0,
    savedBytes: 0,
    hashed: 0,
    digestsWritten: 0,
    digestsUpToDate: 0,
  };
  for await (const path of walk(root, options)) {
    summary.scanned++;
    const info = await lstat(path);
    if (!info.isFile() || info.size < MIN_BYTES || isSecretName(basename(path)) || !isCompressible(contentTypeFor(path))) {
      options.progress?.(summary);
      continue;
    }
    summary.files++;
    summary.originalBytes += info.size;
    let smallest = info.size;
    const done: string[] = [];
    for (const encoding of ENCODINGS) {
      const target = path + SIDECAR_SUFFIX[encoding];
      const state = await sidecarState(target, info.mtimeMs);
      if (state.kind === "fresh") {
        summary.upToDate++;
        smallest = Math.min(smallest, state.size);
        continue;
      }
      if (state.kind === "other") {
        summary.leftAlone++;
        log(`${relative(root, target)}: not a regular file, left alone`);
        continue;
      }
      if (options.dryRun) {
        summary.written++;
        done.push(relative(root, target));
        continue;
      }
      const written = await writeSidecar(path, info.size, encoding);
      if (written === undefined) {
        summary.notSmaller++;
        continue;
      }
      summary.written++;
      smallest = Math.min(smallest, written);
      done.push(`${encoding} ${humanSize(written)}`);
    }
    summary.savedBytes += info.size - smallest;
    if (done.length > 0)
      log(options.dryRun ? `would write ${done.join(", ")}` : `${relative(root, path)}: ${humanSize(info.size)} → ${done.join(", ")}`);
    options.progress?.(summary);
  }
  // After the compressed sidecars are written, so that theirs are digests of what is now there.
  if (options.digests) await writeDigests(root, log, options, summary);
  return summary;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The closing line of a run. */
export function summaryLine(s: PrecompressSummary, dryRun = false, digests = false): string {
  const digestPart = digests
    ? `; ${plural(s.hashed, "file")} over 1 MiB: ${dryRun ? "would write" : "wrote"} ${plural(s.digestsWritten, "digest")}, ${s.digestsUpToDate} up to date`
    : "";
  if (dryRun) {
    return `${plural(s.files, "compressible file")} (${humanSize(s.originalBytes)}): would write ${plural(s.written, "sidecar")}, ${s.upToDate} up to date${digestPart}; nothing written (dry run)`;
  }
  const pct = s.originalBytes === 0 ? 0 : Math.round((100 * s.savedBytes) / s.originalBytes);
  return (
    `${plural(s.files, "compressible file")}: wrote ${plural(s.written, "sidecar")}, ` +
    `${s.upToDate} up to date, ${s.notSmaller} not smaller` +
    (s.leftAlone > 0 ? `, ${s.leftAlone} left alone` : "") +
    `; best codings save ${humanSize(s.savedBytes)} of ${humanSize(s.originalBytes)} (${pct}%)` +
    digestPart
  );
}

const USAGE = `usage: wharf precompress [options] DIR

Write .br, .gz (and .zst where Node has zstd) beside every compressible file
under DIR, at maximum compression. Up-to-date sidecars are skipped; wharf then
serves them as they are.

  -n, --dry-run              list the sidecars it would write; write nothing
      --digests              also write FILE.sha256 (sha256sum's format) beside
                             every file over 1 MiB, compressed sidecars included:
                             wharf takes ETags and Repr-Digest from them
      --include-node-modules also descend into node_modules directories
      --dotfiles             also dotfiles and dot-directories
  -q, --quiet                only the summary line
  -h, --help                 this help

Skipped always: symlinks, files under 1 KiB, incompressible types (images,
archives, ...), wharf.json, serve.json and htpasswd files.
`;

/** Non-TTY progress: one line per this many files looked at. */
const PROGRESS_EVERY = 1000;

/** Where progress goes: stderr, a `\r` line on a terminal, else a line every {@link PROGRESS_EVERY} files. */
export interface ProgressSink {
  readonly write: (text: string) => void;
  readonly isTTY: boolean;
}

function progressReporter(sink: ProgressSink): { update: (s: Readonly<PrecompressSummary>) => void; end: () => void } {
  let shown = false;
  const text = (s: Readonly<PrecompressSummary>) =>
    `precompress: ${s.scanned.toLocaleString("en")} files looked at, ${plural(s.written, "sidecar")} written` +
    (s.hashed > 0 ? `, ${s.hashed.toLocaleString("en")} large files hashed, ${plural(s.digestsWritten, "digest")} written` : "");
  return {
    update(s) {
      // Each pass counts its own files: the compression pass `scanned`, the digest pass `hashed`.
      const count = s.hashed > 0 ? s.hashed : s.scanned;
      if (sink.isTTY) {
        // A terminal redraws one line; every 16 files keeps the writes few on a fast
        // disk; every large file hashed, each of which takes a while.
        if (s.hashed > 0 || count % 16 === 0) {
          sink.write(`\r${text(s)}`);
          shown = true;
        }
      } else if (count % PROGRESS_EVERY === 0) {
        sink.write(`${text(s)}\n`);
      }
    },
    end() {
      if (shown) sink.write("\r\x1b[K");
    },
  };
}

/** The `wharf precompress` command; resolves with the exit code. */
export async function precompressCommand(
  argv: readonly string[],
  out: (t: string) => void,
  err: (t: string) => void,
  progressSink: ProgressSink = { write: err, isTTY: process.stderr.isTTY === true },
): Promise<number> {
  let dir: string | undefined;
  let quiet = false;
  const options: { dryRun?: boolean; includeNodeModules?: boolean; dotfiles?: boolean; digests?: boolean } = {};
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      out(USAGE);
      return 0;
    }
    if (arg === "-q" || arg === "--quiet") quiet = true;
    else if (arg === "-n" || arg === "--dry-run") options.dryRun = true;
    else if (arg === "--include-node-modules") options.includeNodeModules = true;
    else if (arg === "--dotfiles") options.dotfiles = true;
    else if (arg === "--digests") options.digests = true;
    else if (arg.startsWith("-") || dir !== undefined) {
      err(`wharf: precompress: unexpected argument '${arg}'\nTry 'wharf precompress --help'.\n`);
      return 2;
    } else dir = arg;
  }
  // No default: run by habit in a project's root, it would write beside every
  // file of node_modules. The folder is always named (`wharf precompress .`).
  if (dir === undefined) {
    err(`wharf: precompress: which folder? Name it, e.g. 'wharf precompress dist' (or '.' for this one)\n\n${USAGE}`);
    return 2;
  }
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    err(`wharf: precompress: ${info === undefined ? "directory not found" : "not a directory"}: ${dir}\n`);
    return 1;
  }
  const progress = quiet ? undefined : progressReporter(progressSink);
  try {
    const summary = await precompress(dir, quiet ? () => undefined : (line) => out(`${line}\n`), {
      ...options,
      ...(progress === undefined ? {} : { progress: progress.update }),
    });
    progress?.end();
    out(`${summaryLine(summary, options.dryRun, options.digests)}\n`);
    return 0;
  } catch (error) {
    progress?.end();
    err(`wharf: precompress: ${(error as Error).message}\n`);
    return 1;
  }
}
