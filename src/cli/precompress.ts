/**
 * `wharf precompress [DIR]`: writes `file.br`, `file.gz` (and `file.zst` where Node
 * has zstd) beside every compressible file, at the highest settings — the cost is
 * paid once, at build time, and the server then sends the sidecars as they are.
 * Sidecars not older than their file are up to date and skipped; a coding that
 * would not make the file smaller is not written. Dotfiles and symlinks are left
 * alone, as the server leaves them.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, readdir, rename, rm, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { isCompressible } from "../http/compressible.js";
import { contentTypeFor } from "../http/content-type.js";
import type { Encoding } from "../http/negotiate.js";
import { compressorStream, ENCODINGS, SIDECAR_SUFFIX } from "../handlers/encoders.js";
import { humanSize } from "../handlers/listing.js";

const SIDECAR = /\.(br|gz|zst)$/;
const MIN_BYTES = 1024;

/** What one run did. */
export interface PrecompressSummary {
  files: number;
  written: number;
  upToDate: number;
  notSmaller: number;
  originalBytes: number;
  /** Bytes saved by the best coding of each file. */
  savedBytes: number;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile() && !SIDECAR.test(entry.name)) yield path;
  }
}

function bestCompressor(encoding: Encoding, size: number): NodeJS.ReadWriteStream {
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

/** Writes `path`'s sidecar for `encoding`; returns its size, or undefined if not worth keeping. */
async function writeSidecar(path: string, size: number, encoding: Encoding): Promise<number | undefined> {
  const target = path + SIDECAR_SUFFIX[encoding];
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    await pipeline(createReadStream(path), bestCompressor(encoding, size), createWriteStream(temporary));
    const written = (await stat(temporary)).size;
    if (written >= size) {
      await rm(temporary);
      return undefined;
    }
    await rename(temporary, target); // atomic: the server never sees half a sidecar
    return written;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Precompresses every compressible file under `root`, reporting each file to `log`. */
export async function precompress(root: string, log: (line: string) => void): Promise<PrecompressSummary> {
  const summary: PrecompressSummary = { files: 0, written: 0, upToDate: 0, notSmaller: 0, originalBytes: 0, savedBytes: 0 };
  for await (const path of walk(root)) {
    const info = await lstat(path);
    if (info.size < MIN_BYTES || !isCompressible(contentTypeFor(path))) continue;
    summary.files++;
    summary.originalBytes += info.size;
    let smallest = info.size;
    const done: string[] = [];
    for (const encoding of ENCODINGS) {
      const existing = await stat(path + SIDECAR_SUFFIX[encoding]).catch(() => undefined);
      if (existing !== undefined && existing.mtimeMs >= info.mtimeMs) {
        summary.upToDate++;
        smallest = Math.min(smallest, existing.size);
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
    if (done.length > 0) log(`${relative(root, path)}: ${humanSize(info.size)} → ${done.join(", ")}`);
  }
  return summary;
}

/** The closing line of a run. */
export function summaryLine(s: PrecompressSummary): string {
  const pct = s.originalBytes === 0 ? 0 : Math.round((100 * s.savedBytes) / s.originalBytes);
  return (
    `${s.files} compressible file${s.files === 1 ? "" : "s"}: wrote ${s.written} sidecar${s.written === 1 ? "" : "s"}, ` +
    `${s.upToDate} up to date, ${s.notSmaller} not smaller; ` +
    `best codings save ${humanSize(s.savedBytes)} of ${humanSize(s.originalBytes)} (${pct}%)`
  );
}

const USAGE = `usage: wharf precompress [-q] [DIR]

Write .br, .gz (and .zst where Node has zstd) beside every compressible file
under DIR (default: the current directory). Up-to-date sidecars are skipped.
`;

/** The `wharf precompress` command; resolves with the exit code. */
export async function precompressCommand(argv: readonly string[], out: (t: string) => void, err: (t: string) => void): Promise<number> {
  let dir: string | undefined;
  let quiet = false;
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      out(USAGE);
      return 0;
    }
    if (arg === "-q" || arg === "--quiet") quiet = true;
    else if (arg.startsWith("-") || dir !== undefined) {
      err(`wharf: precompress: unexpected argument '${arg}'\nTry 'wharf precompress --help'.\n`);
      return 2;
    } else dir = arg;
  }
  const root = dir ?? ".";
  const info = await stat(root).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    err(`wharf: precompress: ${info === undefined ? "directory not found" : "not a directory"}: ${root}\n`);
    return 1;
  }
  try {
    const summary = await precompress(root, quiet ? () => undefined : (line) => out(`${line}\n`));
    out(`${summaryLine(summary)}\n`);
    return 0;
  } catch (error) {
    err(`wharf: precompress: ${(error as Error).message}\n`);
    return 1;
  }
}
