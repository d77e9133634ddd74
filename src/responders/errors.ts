/**
 * The one place where failures become statuses, and the error pages themselves:
 * small, escaped, and free of file-system paths or stack traces.
 */
import { STATUS_CODES } from "node:http";
import { html } from "../core/reply.js";
import type { Reply } from "../core/types.js";
import { escapeHtml } from "./listing.js";
import { LINK_CSS, THEME_CSS, styleHashSource } from "../core/theme.js";

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

const DETAILS: Readonly<Record<number, string>> = {
  400: "The request could not be understood.",
  401: "Sign in to see this.",
  403: "You do not have permission to see this.",
  404: "Nothing was found at this address.",
  405: "This method is not allowed here.",
  412: "A precondition of the request did not hold.",
  416: "The requested range is outside the file.",
  500: "The server met an unexpected error.",
  502: "The server got a bad answer from another server.",
  503: "The server is busy; try again shortly.",
  504: "Another server did not answer in time.",
};

// The listing's look (theme.ts), allowed by its hash alone: the page runs no
// script and loads nothing, and says so, so even an escaping bug here could not
// run code or pull anything in on the server's origin.
const STYLE = `${THEME_CSS}\np{color:var(--muted)}\nnav{margin-top:1.5rem}\n${LINK_CSS}`;
const HEAD =
  `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
  `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${styleHashSource(STYLE)}">\n` +
  `<meta name="viewport" content="width=device-width, initial-scale=1">\n`;
// Links relative to the request, never to a path we know: `./` is the folder the
// missing thing was asked for in (under any mount point or proxy prefix), `/` the
// top of the site. The page names no path at all, so it cannot leak the root.
const NAV = `<nav><a href="./">Up to the folder</a> · <a href="/">Back to the top</a></nav>`;

/**
 * A small HTML error page (under 2 KB) in the listing's look, light and dark.
 * `detail` is escaped; it must never carry a file-system path.
 */
export function errorReply(status: number, headers: Record<string, string> = {}, detail?: string): Reply {
  const title = escapeHtml(`${status} ${STATUS_CODES[status] ?? "Error"}`);
  const body =
    `${HEAD}<title>${title}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<h1>${title}</h1>\n` +
    `<p>${escapeHtml(detail ?? DETAILS[status] ?? "")}</p>\n${NAV}\n</body>\n</html>\n`;
  return html(status, body, { ...headers, "x-content-type-options": "nosniff", "cache-control": "no-store" });
}
