/**
 * The one place where file-system failures become statuses. The error pages
 * themselves are core/reply.ts's `errorReply`.
 */

/** The statuses a file-system failure can turn into. */
export type FsErrorStatus = 403 | 404 | 500 | 503;

// What each errno means for the client. Anything not listed is unexpected: 500,
// and the caller logs it.
const STATUS_BY_CODE: Readonly<Record<string, FsErrorStatus>> = {
  ENOENT: 404,
  ENOTDIR: 404, // `/file.txt/x`: a path through a file names nothing
  ENAMETOOLONG: 404, // a segment over 255 bytes cannot name a file
  ELOOP: 404, // a symlink loop names nothing either
  EISDIR: 404,
  EACCES: 403,
  EPERM: 403,
  EMFILE: 503, // out of descriptors: temporary, say so and let the client retry
  ENFILE: 503,
};

/** Maps a thrown file-system error to a status; unknown errors are 500. */
export function statusForError(error: unknown): FsErrorStatus {
  const code = typeof error === "object" && error !== null && "code" in error ? (error as { code: unknown }).code : undefined;
  return (typeof code === "string" ? STATUS_BY_CODE[code] : undefined) ?? 500;
}
