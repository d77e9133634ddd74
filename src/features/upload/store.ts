/**
 * Uploads, the file system: where a write may go (the same containment as a
 * read, after realpath), and writing so that no reader ever sees half a file.
 *
 * A body is written to a temporary file in the target directory, created
 * exclusively (`O_EXCL`) under an unpredictable name (`.wharf-upload-` and 96
 * random bits; path/visibility.ts hides that prefix from every read, listing
 * and archive, `--dotfiles` or not), synced, and only then published:
 * - `error` and `rename`: `link(temp, name)`, which fails if `name` exists —
 *   the kernel decides between 50 concurrent uploads of one name, exactly one
 *   wins (test/features/upload-real.test.ts);
 * - `overwrite`: `rename(temp, name)`, atomic on POSIX: a reader opens the old
 *   file or the new one.
 * A limit, a digest mismatch, an abort, a full disk or any error removes the
 * temporary file.
 */
import { createHash, type Hash, randomBytes } from "node:crypto";
import { type FileHandle, link, lstat, mkdir, open, realpath, rename, unlink } from "node:fs/promises";
import { join, sep } from "node:path";
import { codeOf } from "../../core/errors.js";
import { type DigestAlgorithm, type ExpectedDigests, NODE_HASH } from "../../http/digest.js";
import { isInside } from "../../path/resolve.js";
import { isHiddenFile, UPLOAD_TEMP_PREFIX, type VisibilityRules, visibilityOf } from "../../path/visibility.js";
import { isConfigName, nameProblem, type OnConflict, renamed, standsInFor } from "./rules.js";

/** Why a write could not be done; ./index.ts maps each to a status. */
export type WriteFailure =
  | { readonly kind: "exists"; readonly name: string }
  /** `name` is a sidecar wharf would serve in place of the existing file `of` (rules.ts `standsInFor`). */
  | { readonly kind: "stands-in"; readonly name: string; readonly of: string }
  | { readonly kind: "too-large" }
  | { readonly kind: "digest-mismatch"; readonly algorithm: DigestAlgorithm }
  | { readonly kind: "short" }
  | { readonly kind: "no-space" }
  /** The file system cannot store the name or path (ENAMETOOLONG: over PATH_MAX; EINVAL, EILSEQ: a character it refuses). */
  | { readonly kind: "unstorable" }
  | { readonly kind: "forbidden"; readonly reason: string }
  | { readonly kind: "not-found"; readonly reason: string };

export class WriteError extends Error {
  constructor(readonly failure: WriteFailure) {
    super(failure.kind);
  }
}

const fail = (failure: WriteFailure): never => {
  throw new WriteError(failure);
};

/** Maps the errors a disk can give a write to what the client is told; others are rethrown. */
function diskFailure(error: unknown): never {
  if (error instanceof WriteError) throw error;
  const code = codeOf(error);
  // RFC 4918 §11.5: 507, the server cannot store what is needed to complete the request.
  if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG") fail({ kind: "no-space" });
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") fail({ kind: "forbidden", reason: "the directory cannot be written" });
  if (code === "ENOENT" || code === "ENOTDIR") fail({ kind: "not-found", reason: "the directory is gone" });
  // Names pass nameProblem (255 bytes each), but a deep path can still pass
  // PATH_MAX once the temporary name is added, and some file systems refuse
  // characters (FAT's `:`, ZFS utf8only): the client's doing, never a 500.
  if (code === "ENAMETOOLONG" || code === "EINVAL" || code === "EILSEQ") fail({ kind: "unstorable" });
  throw error;
}

/** What {@link diskFailure} would throw for `error`, as a value; other errors are rethrown. */
function failureOf(error: unknown): WriteFailure {
  try {
    return diskFailure(error);
  } catch (thrown) {
    if (thrown instanceof WriteError) return thrown.failure;
    throw thrown;
  }
}

/**
 * The canonical directory at `segments` below the root, checked as a read of it
 * would be (visibilityOf: inside the root unless symlinks are followed, no
 * dot-directory on the URL or on the real path, not a hidden file), or why not.
 * With `create`, missing directories are made one at a time, each name checked
 * like a file name and each new directory checked again after `mkdir`.
 */
export async function uploadDirectory(
  rules: VisibilityRules,
  segments: readonly string[],
  create: boolean,
  area = 0,
): Promise<{ readonly kind: "ok"; readonly real: string } | WriteFailure> {
  let real = rules.root;
  // Below an upload area (its first `area` segments), every directory must stay
  // inside the area's own real directory: `--upload /inbox` must not write to
  // `/site/` through a link `inbox/site -> ../site`, which a read may follow.
  let fence: string | undefined;
  for (let i = 0; i < segments.length; i++) {
    const name = segments[i]!;
    let next: string;
    try {
      next = await realpath(join(real, name));
    } catch (error) {
      const code = codeOf(error);
      if (code !== "ENOENT" || !create) return { kind: "not-found", reason: "no such directory" };
      const problem = nameProblem(name, rules.dotfiles === "allow");
      if (problem !== undefined) return { kind: "forbidden", reason: `directory name: ${problem}` };
      try {
        await mkdir(join(real, name));
      } catch (made) {
        // Returned, not thrown: the caller asks for the directory before its try (a 500 otherwise).
        if (codeOf(made) !== "EEXIST") return failureOf(made);
      }
      // EEXIST for a dangling symlink too, whose realpath still fails.
      const made = await realpath(join(real, name)).catch(() => undefined);
      if (made === undefined) return { kind: "not-found", reason: "no such directory" };
      next = made;
    }
    // What a read answers 404 for (a link out of the root, or into a dot-directory),
    // a write does too, in the same words as for a directory that is not there: a
    // 403 would tell an uploader that something hidden exists at that name.
    const seen = visibilityOf(rules, segments.slice(0, i + 1), next);
    if (seen.kind !== "visible") return { kind: "not-found", reason: "no such directory" };
    if (fence !== undefined && !isInside(fence, next)) {
      return { kind: "forbidden", reason: "a link out of the upload directory" };
    }
    real = next;
    if (area > 0 && i + 1 === area) fence = real;
  }
  const stat = await lstat(real).catch(() => undefined);
  if (stat === undefined || !stat.isDirectory()) return { kind: "not-found", reason: "not a directory" };
  return { kind: "ok", real };
}

/** A body written to a temporary file, synced, not yet published. */
export interface Written {
  readonly temp: string;
  readonly dir: string;
  readonly size: number;
  /** SHA-256 of the bytes (the ETag of files up to hashLimit, as file-contents.ts tags them). */
  readonly sha256: Buffer;
  readonly mtimeMs: number;
}

/** Bounds of {@link writeTemp}. */
export interface WriteLimits {
  /** Bytes at most (`Infinity`: none). */
  readonly maxSize: number;
  /** Bytes already taken by earlier parts of the same request (a form with several files). */
  readonly used?: number;
  /** The length the request declared, checked at the end (a body that ends early is not a file). */
  readonly expected?: number | undefined;
  /** Digests to check while streaming. */
  readonly digests?: ExpectedDigests | undefined;
}

/**
 * Streams `body` into a new temporary file in `dir`: exclusive, unpredictable,
 * synced. Throws {@link WriteError} (and leaves nothing behind) on a limit, a
 * digest mismatch, a short body or a full disk.
 */
export async function writeTemp(dir: string, body: AsyncIterable<Uint8Array>, limits: WriteLimits): Promise<Written> {
  const temp = join(dir, `${UPLOAD_TEMP_PREFIX}${randomBytes(12).toString("base64url")}`);
  let handle: FileHandle | undefined;
  try {
    // "wx": O_CREAT | O_EXCL, so an existing file (or a symlink planted under
    // the name, were it guessed) is never opened or followed.
    handle = await open(temp, "wx", 0o666);
  } catch (error) {
    return diskFailure(error);
  }
  try {
    const sha256 = createHash("sha256");
    const checks: [DigestAlgorithm, Hash, Uint8Array][] = [];
    for (const [algorithm, expected] of limits.digests ?? []) {
      checks.push([algorithm, algorithm === "sha-256" ? sha256 : createHash(NODE_HASH[algorithm]), expected]);
    }
    let size = 0;
    const used = limits.used ?? 0;
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (used + size > limits.maxSize) fail({ kind: "too-large" });
      sha256.update(chunk);
      for (const [algorithm, hash] of checks) if (algorithm !== "sha-256") hash.update(chunk);
      // One write per chunk, awaited: the next chunk is read only after this one is
      // with the kernel, so memory holds about one chunk whatever the size.
      let at = 0;
      while (at < chunk.byteLength) at += (await handle.write(chunk, at, chunk.byteLength - at)).bytesWritten;
    }
    if (limits.expected !== undefined && size !== limits.expected) fail({ kind: "short" });
    const digest = sha256.digest();
    for (const [algorithm, hash, expected] of checks) {
      const got = algorithm === "sha-256" ? digest : hash.digest();
      if (!got.equals(expected)) fail({ kind: "digest-mismatch", algorithm });
    }
    await handle.sync();
    const { mtimeMs } = await handle.stat();
    await handle.close();
    handle = undefined;
    return { temp, dir, size, sha256: digest, mtimeMs };
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    if (error instanceof WriteError) throw error;
    // A client that went away mid-body: Node's stream says "aborted" (ECONNRESET).
    const code = codeOf(error);
    if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (error as Error)?.message === "aborted") fail({ kind: "short" });
    return diskFailure(error);
  }
}

/** Whether `name` exists in `dir` (as a link, whatever it points to). */
export async function exists(dir: string, name: string): Promise<boolean> {
  return (await lstat(join(dir, name)).catch(() => undefined)) !== undefined;
}

/** Removes a temporary file that will not be published. */
export async function discard(written: Written): Promise<void> {
  await unlink(written.temp).catch(() => {});
}

/** Where a published file went. */
export interface Published {
  readonly name: string;
  /** `true` when an existing file was replaced (`overwrite`). */
  readonly replaced: boolean;
}

/** Link-less file systems (FAT, exFAT, some FUSE and SMB mounts) refuse `link()` with one of these. */
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"]);

/**
 * `link(temp, target)` where links exist; elsewhere the name is claimed with an
 * exclusive create and the synced temporary file renamed over that empty claim
 * (the name exists, empty, for that instant; it is never partial).
 */
async function linkExclusive(temp: string, target: string): Promise<"linked" | "exists"> {
  try {
    await link(temp, target);
    return "linked";
  } catch (error) {
    const code = codeOf(error);
    if (code === "EEXIST") return "exists";
    if (code === undefined || !NO_LINKS.has(code)) return diskFailure(error);
  }
  try {
    const claim = await open(target, "wx");
    await claim.close();
  } catch (error) {
    if (codeOf(error) === "EEXIST") return "exists";
    return diskFailure(error);
  }
  await rename(temp, target).catch(diskFailure);
  return "linked";
}

/** The most `name (n).ext` tried before a rename gives up with 409. */
const MAX_RENAMES = 1000;

/**
 * Publishes a written file as `name` in its directory, as `onConflict` says.
 * The name is checked against the hidden files (a `wharf.json` or htpasswd file
 * in the root can never be replaced) before anything is done.
 */
export async function publish(rules: VisibilityRules, written: Written, name: string, onConflict: OnConflict): Promise<Published> {
  try {
    const target = (candidate: string): string => (written.dir.endsWith(sep) ? written.dir : written.dir + sep) + candidate;
    if (isHiddenFile(rules, target(name))) fail({ kind: "forbidden", reason: "a file the server keeps hidden" });
    if (isConfigName(name)) fail({ kind: "forbidden", reason: "a name wharf reads its configuration from" });
    if (onConflict === "overwrite") {
      const there = await lstat(target(name)).catch(() => undefined);
      // A directory is never replaced by a file (rename would refuse a non-empty one anyway).
      if (there?.isDirectory() === true) fail({ kind: "exists", name });
      await rename(written.temp, target(name)).catch(diskFailure);
      await syncDirectory(written.dir);
      return { name, replaced: there !== undefined };
    }
    // Without overwrite, an existing file is never replaced, nor made to look replaced:
    // `x.gz` uploaded beside `x` would be what every gzip client gets for `x`.
    let standsIn: string | undefined;
    for (let n = 0; n <= (onConflict === "rename" ? MAX_RENAMES : 0); n++) {
      const candidate = n === 0 ? name : renamed(name, n);
      if (n > 0 && (nameProblem(candidate, true) !== undefined || isHiddenFile(rules, target(candidate)))) break;
      const of = standsInFor(candidate);
      if (of !== undefined && (await exists(written.dir, of))) {
        standsIn ??= of;
        continue;
      }
      if ((await linkExclusive(written.temp, target(candidate))) === "linked") {
        // `x` published meanwhile (its check passed before this link): take the
        // sidecar back, so that it stands in for `x` for a moment at most.
        if (of !== undefined && (await exists(written.dir, of))) {
          await unlink(target(candidate)).catch(() => {});
          return fail({ kind: "stands-in", name: candidate, of });
        }
        await syncDirectory(written.dir);
        return { name: candidate, replaced: false };
      }
    }
    return fail(standsIn !== undefined && onConflict === "error" ? { kind: "stands-in", name, of: standsIn } : { kind: "exists", name });
  } finally {
    // After link() both names are the file: the temporary one goes; after rename it is gone already.
    await unlink(written.temp).catch(() => {});
  }
}

/**
 * Why `name` could not be published in `dir` as `onConflict` says, decided
 * before anything of a form is published (a form is all or nothing), or
 * `undefined`. {@link publish} decides again, atomically: this is what can be
 * known first.
 */
export async function publishProblem(
  rules: VisibilityRules,
  dir: string,
  name: string,
  onConflict: OnConflict,
): Promise<WriteFailure | undefined> {
  const target = (dir.endsWith(sep) ? dir : dir + sep) + name;
  if (isHiddenFile(rules, target)) return { kind: "forbidden", reason: "a file the server keeps hidden" };
  if (isConfigName(name)) return { kind: "forbidden", reason: "a name wharf reads its configuration from" };
  if (onConflict === "rename") return undefined;
  const there = await lstat(target).catch(() => undefined);
  if (there !== undefined && (onConflict === "error" || there.isDirectory())) return { kind: "exists", name };
  const of = onConflict === "error" ? standsInFor(name) : undefined;
  if (of !== undefined && (await exists(dir, of))) return { kind: "stands-in", name, of };
  return undefined;
}

/**
 * Takes back a file this request published with `error` or `rename` (a link to
 * a new name: nothing was replaced), when a later file of its form failed.
 */
export async function unpublish(dir: string, name: string): Promise<void> {
  await unlink(join(dir, name)).catch(() => {});
}

/** fsync of the directory, so the new name survives a crash as the bytes do. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  if (handle === undefined) return;
  await handle.sync().catch(() => {});
  await handle.close().catch(() => {});
}

/** Removes the file `name` of `dir` (`DELETE`, with `delete` on): never a directory. */
export async function removeFile(rules: VisibilityRules, dir: string, name: string): Promise<"removed" | WriteFailure> {
  const target = (dir.endsWith(sep) ? dir : dir + sep) + name;
  if (isHiddenFile(rules, target)) return { kind: "not-found", reason: "no such file" };
  if (isConfigName(name)) return { kind: "forbidden", reason: "a name wharf reads its configuration from" };
  const stat = await lstat(target).catch(() => undefined);
  if (stat === undefined) return { kind: "not-found", reason: "no such file" };
  if (stat.isDirectory()) return { kind: "forbidden", reason: "a directory is never deleted" };
  try {
    await unlink(target);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return { kind: "not-found", reason: "no such file" };
    return diskFailure(error);
  }
  await syncDirectory(dir);
  return "removed";
}
