/**
 * Digest sidecars: `FILE.sha256` beside `FILE`, holding the file's SHA-256 so
 * that a file too large to hash on the request path still gets the content tag
 * every replica agrees on (issue 15 item 5), without reading it.
 *
 * The format is `sha256sum`'s, so either tool can write it and `sha256sum -c`
 * can check it: the first line is 64 hexadecimal digits (either case), then
 * the end of the line or whitespace and anything (`  FILE`, ` *FILE` for binary
 * mode); a leading `\` (how GNU marks an escaped file name) is allowed. Only the
 * first 66 bytes are read. The name after the digest is not checked: it is
 * whatever path the tool was given.
 *
 * A sidecar is used only when it is not older than the file (so one left from a
 * previous build is not), and then it is trusted: it is the operator's file,
 * like the file itself, and wharf does not read gigabytes to check it. A sidecar
 * that lies gives the file a wrong ETag and Repr-Digest; `wharf precompress
 * --digests` writes them right.
 */
import type { FileStat, FileSystem } from "../fs/types.js";

/** The name of a file's digest sidecar: `FILE` + this. */
export const DIGEST_SIDECAR_SUFFIX = ".sha256";

/** `\`, 64 hex digits, one separator. */
const READ_BYTES = 66;

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isSeparator = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The SHA-256 a sidecar's text starts with, or `undefined` when it does not start with one. */
export function parseDigestSidecar(text: string): Uint8Array | undefined {
  const start = text.startsWith("\\") ? 1 : 0;
  const end = start + 64;
  if (text.length < end) return undefined;
  for (let i = start; i < end; i++) if (!isHex(text.charCodeAt(i))) return undefined;
  if (text.length > end && !isSeparator(text.charCodeAt(end))) return undefined;
  return Uint8Array.from(Buffer.from(text.slice(start, end), "hex"));
}

/** What a sidecar writer puts in it: `sha256sum`'s line for `name`. */
export function formatDigestSidecar(sha256: Uint8Array, name: string): string {
  return `${Buffer.from(sha256).toString("hex")}  ${name}\n`;
}

/**
 * The SHA-256 from the sidecar of the file at `path` (whose stat is `stat`), or
 * `undefined` when there is none, it is older than the file, or it does not
 * start with a digest.
 */
export async function readDigestSidecar(fs: FileSystem, path: string, stat: FileStat): Promise<Uint8Array | undefined> {
  const sidecar = path + DIGEST_SIDECAR_SUFFIX;
  const found = await fs.stat(sidecar).catch(() => undefined);
  if (found === undefined || found.kind !== "file" || found.mtimeMs < stat.mtimeMs) return undefined;
  const file = await fs.open(sidecar).catch(() => undefined);
  if (file === undefined) return undefined;
  try {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of file.read(0, Math.min(READ_BYTES, found.size))) {
      chunks.push(chunk);
      length += chunk.length;
    }
    return parseDigestSidecar(Buffer.concat(chunks, length).toString("latin1"));
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}
