/**
 * A streaming tar writer (POSIX.1-2001 pax interchange format, i.e. ustar
 * headers with pax extended headers where ustar cannot say it), pull-based like
 * zip.ts: each `next()` makes one header or passes on one read piece.
 *
 * - A name that is not ASCII or longer than ustar's 100 bytes, and a size of
 *   8 GiB or more (ustar's 11 octal digits), go in a pax `x` header before the
 *   entry (POSIX.1-2001 `pax`, "pax Extended Header"): `path` is UTF-8 there by
 *   definition, which bsdtar, GNU tar, 7-Zip and Python's tarfile all read.
 * - The header states the size before the bytes: a file that turns out shorter
 *   than its descriptor said cuts the archive (source.ts), never pads it.
 *
 * Why not tar-stream (which was measured to stay bounded: 3.7 MB of heap for
 * 70,000 entries): it is push-based (streamx), so stopping early for a client
 * that went away needs the producer to notice a destroyed stream, and its
 * current release pulls in ten packages (bare-fs, bare-stream, ...) for what is
 * here a 512-byte header; see docs/design.md.
 */

import type { Member } from "./source.js";
import type { WalkEntry } from "./walk.js";

const BLOCK = 512;
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits: 8 GiB - 1

function octal(b: Buffer, value: number, at: number, width: number): void {
  b.write(
    Math.max(0, Math.floor(value))
      .toString(8)
      .padStart(width - 1, "0")
      .slice(-(width - 1)),
    at,
    width - 1,
    "ascii",
  );
  b[at + width - 1] = 0;
}

/** One ustar header block (POSIX.1-1988 ustar, as POSIX.1-2001 keeps it). */
function ustar(name: string, type: "0" | "5" | "x", size: number, mtimeMs: number, mode: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, "utf8");
  octal(b, mode, 100, 8);
  octal(b, 0, 108, 8); // uid
  octal(b, 0, 116, 8); // gid
  octal(b, size > MAX_OCTAL_SIZE ? 0 : size, 124, 12); // the pax header has the real size
  octal(b, (Number.isFinite(mtimeMs) ? mtimeMs : 0) / 1000, 136, 12);
  b.write(type, 156, 1, "ascii");
  b.write("ustar\u000000", 257, 8, "ascii");
  // The checksum counts its own field as eight spaces.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, "0"), 148, 6, "ascii");
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/** A pax record `"%d %s=%s\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  let length = bytes + String(bytes).length;
  if (String(length).length !== String(bytes).length) length = bytes + String(length).length;
  return `${length}${body}`;
}

const zeros = (n: number): Buffer => Buffer.alloc(n);
const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** The header blocks of one entry: a pax header first when ustar cannot hold the name or the size. */
export function tarHeader(name: string, type: "0" | "5", size: number, mtimeMs: number): Buffer {
  const mode = type === "5" ? 0o755 : 0o644;
  // eslint-disable-next-line no-control-regex
  const plain = /^[\x20-\x7e]*$/.test(name) && name.length <= 100;
  if (plain && size <= MAX_OCTAL_SIZE) return ustar(name, type, size, mtimeMs, mode);
  const records = (plain ? "" : paxRecord("path", name)) + (size > MAX_OCTAL_SIZE ? paxRecord("size", String(size)) : "");
  const data = Buffer.from(records, "utf8");
  // The pax header's own name is informative only; ASCII, so any reader takes it.
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").slice(-100);
  return Buffer.concat([
    ustar("PaxHeader", "x", data.length, mtimeMs, 0o644),
    data,
    zeros(padding(data.length)),
    ustar(fallback, type, size, mtimeMs, mode),
  ]);
}

/** How a member is opened; the route decides. */
export interface TarMembers {
  open(entry: WalkEntry & { kind: "file" }): Promise<Member>;
}

/** The archive of `entries`, each named `prefix + entry.name`, ended by two zero blocks. */
export async function* tarStream(entries: AsyncIterable<WalkEntry>, prefix: string, members: TarMembers): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    if (entry.kind === "directory") {
      yield tarHeader(prefix + entry.name, "5", 0, entry.mtimeMs);
      continue;
    }
    const member = await members.open(entry);
    try {
      const { size, mtimeMs } = member.stat;
      yield tarHeader(prefix + entry.name, "0", size, mtimeMs);
      for await (const piece of member.bytes()) yield piece;
      if (padding(size) > 0) yield zeros(padding(size));
    } finally {
      await member.close();
    }
  }
  yield zeros(2 * BLOCK);
}
