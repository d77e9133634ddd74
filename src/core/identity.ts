/**
 * Whether two looks at a file saw the same version of it: the test every layer
 * that holds something derived from a file (cached bytes and tags, a reply's
 * file slice, a stat taken before an open) uses to notice that the file changed.
 */
import type { FileIdentity } from "./types.js";

/**
 * The same inode, size and modification time. An inode alone is not enough
 * (a file rewritten in place keeps it) and neither are size and time alone (a
 * file replaced by rename, as editors and deploy tools save, may keep both
 * within the clock's resolution); together they are what Go's and nginx's
 * open-file caches compare too.
 */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
