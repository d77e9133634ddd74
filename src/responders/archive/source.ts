/**
 * The bytes of one archived file, shared by both formats: opened through
 * {@link FileSystem.open} (which checks that the descriptor is the object at
 * the canonical path the walk decided on, so a file swapped for a link to the
 * outside between the walk and the open fails instead of being archived), its
 * size taken from that descriptor, and exactly that many bytes read — or the
 * archive is cut.
 *
 * The rule is the one every body follows (src/adapters/body.ts): never send bytes
 * that disagree with what was already said. A tar header states the size before
 * the bytes; a zip local header does not (the sizes follow in a data descriptor)
 * but its central directory would then describe a file that was torn while
 * read. Both formats cut the connection instead, so the client sees a truncated
 * archive, never a complete-looking one with a wrong member.
 */
import type { FileStat, FileSystem, OpenFile } from "../../fs/types.js";

/** Why an archive stopped before its end; the adapter cuts the connection. */
export class ArchiveCut extends Error {
  constructor(readonly reason: "limit" | "changed") {
    super(reason === "limit" ? "archive larger than archiveMaxBytes" : "a file changed while it was archived");
    this.name = "ArchiveCut";
  }
}

/**
 * The uncompressed bytes an archive may still take (`archiveMaxBytes`). Checked
 * before a file's header is made, from the size its open descriptor reports, so
 * the last header sent is never one whose bytes will not follow.
 */
export class ByteBudget {
  private used = 0;
  constructor(private readonly max: number) {}
  /** Takes `n` bytes or throws {@link ArchiveCut} ("limit"). */
  take(n: number): void {
    if (this.max > 0 && this.used + n > this.max) throw new ArchiveCut("limit");
    this.used += n;
  }
}

/** An opened member: its descriptor's stat, and its bytes `[0, size)` checked to be exactly that many. */
export interface Member {
  readonly stat: FileStat;
  bytes(): AsyncGenerator<Uint8Array>;
  close(): Promise<void>;
}

/** An empty member: nothing to read, so nothing to open. */
function emptyMember(stat: FileStat): Member {
  return {
    stat,
    async *bytes() {},
    close: async () => undefined,
  };
}

/**
 * Opens the file at the canonical `real` (checked open), charging its size to
 * `budget`. A file the walk's checked directory read saw as empty is not opened:
 * it has no bytes that could disagree with its header, and a tree of 65,536
 * empty files (the ZIP64 entry count) would otherwise cost 65,536 opens. If it
 * grew since, the archive shows it as it was when the directory was read.
 */
export async function openMember(
  fs: FileSystem,
  entry: { readonly real: string; readonly stat: FileStat },
  budget: ByteBudget,
): Promise<Member> {
  if (entry.stat.size === 0) return emptyMember(entry.stat);
  const file: OpenFile = await fs.open(entry.real);
  let stat: FileStat;
  try {
    stat = await file.stat();
    if (stat.kind !== "file") throw new ArchiveCut("changed"); // swapped for a directory or a FIFO
    budget.take(stat.size);
  } catch (error) {
    await file.close();
    throw error;
  }
  async function* bytes(): AsyncGenerator<Uint8Array> {
    let left = stat.size;
    for await (const piece of file.read(0, stat.size)) {
      left -= piece.length;
      yield piece;
    }
    // Shorter than its descriptor said a moment ago: truncated while read.
    if (left !== 0) throw new ArchiveCut("changed");
  }
  return { stat, bytes, close: () => file.close() };
}
