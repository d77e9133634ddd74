/**
 * A 404 or 400 that says why, for the person at the keyboard: each reason a
 * trace found (core/trace.ts) as a problem and its fix, in HTML, plain text or
 * `application/problem+json` (RFC 9457) as Accept prefers. The status is the
 * one the client would get anyway; only the body says more. Every path named
 * is a URL path: the reasons hold nothing else.
 */
import { bytesReply, errorPage, html, text } from "../core/reply.js";
import { addVary } from "../core/request.js";
import { reasonPhrase } from "../core/status.js";
import { escapeHtml } from "../core/text.js";
import type { Reason } from "../core/trace.js";
import type { Reply } from "../core/types.js";
import { rangesOf, weightOf } from "./listing/negotiate.js";

/** The body's format. */
export type ExplanationFormat = "html" | "text" | "problem";

const MEDIA: ReadonlyArray<readonly [ExplanationFormat, readonly [string, string]]> = [
  ["html", ["text", "html"]],
  ["problem", ["application", "problem+json"]],
  ["problem", ["application", "json"]],
  ["text", ["text", "plain"]],
];

/**
 * The format Accept weighs highest (RFC 9110 §12.5.1, the most specific range
 * deciding). A tie goes to a type the client named over one a wildcard
 * covers, then to text: curl and `fetch()` send `*\/*` and read text best; a
 * browser's page load names text/html. No Accept at all: text.
 */
export function explanationFormat(accept: string | undefined): ExplanationFormat {
  if (accept === undefined || accept.trim() === "") return "text";
  const ranges = rangesOf(accept);
  let chosen: ExplanationFormat = "text";
  let best = -1;
  for (const [format, [type, subtype]] of MEDIA) {
    const q = weightOf(ranges, [type, subtype]);
    const named = ranges.some((r) => r.type === type && r.subtype === subtype && r.q > 0);
    // Named beats wildcard at the same weight; text wins wildcard ties (it is listed last, so only `>` moves off it).
    const score = q * 2 + (named ? 1 : 0);
    if (q > 0 && (score > best || (score === best && format === "text"))) {
      best = score;
      chosen = format;
    }
  }
  return chosen;
}

/** One reason in words. */
export interface Advice {
  /** The problem type's short name (RFC 9457 `title`). */
  readonly title: string;
  /** What is wrong with this request (RFC 9457 `detail`). */
  readonly problem: string;
  /** What to change. */
  readonly fix: string;
  /** A path to follow instead, when there is one. */
  readonly suggestion?: string;
}

/** The problem type URI of a reason (RFC 9457 §3.1.1): its row in docs/features.md. */
export function problemType(reason: Reason): string {
  return `https://github.com/wharf-server/wharf/blob/main/docs/features.md#problem-${reason.kind}`;
}

/** Each reason's problem and fix: the one place they are worded. */
export function adviceFor(reason: Reason): Advice {
  switch (reason.kind) {
    case "bad-encoding":
      return {
        title: "Bad encoding in the path",
        problem: `The path is not correctly percent-encoded UTF-8 (${reason.detail}).`,
        fix: "Percent-encode the path as UTF-8 (RFC 3986 §2.1): a space is %20, é is %C3%A9, a % sign itself is %25.",
      };
    case "above-root":
      return {
        title: "Path above the root",
        problem: "The path has a .. segment that climbs above the top of the site.",
        fix: "Remove the extra ../ segments: nothing above / is served. Browsers resolve them before sending, so this came from a script or a hand-written URL.",
      };
    case "bad-path":
      return {
        title: "Malformed path",
        problem: `The path cannot be read (${reason.detail}).`,
        fix: "Separate segments with / and percent-encode everything else (a backslash is %5C).",
      };
    case "dotfile":
      return {
        title: "Hidden dotfile",
        problem: `${reason.path} is a dotfile or inside a dot-directory, and those are hidden.`,
        fix: 'Start wharf with --dotfiles (library: dotfiles: "allow") to serve them, but only if the folder holds nothing private (.env, .git/).',
      };
    case "symlink-outside":
      return {
        title: "Symlink out of the root",
        problem: `${reason.path} is a symbolic link to something outside the served folder.`,
        fix: 'Start wharf with --follow-symlinks (library: symlinks: "follow") if you trust every link in the folder, or copy the target into it.',
      };
    case "hidden-file":
      return {
        title: "Hidden file",
        problem: `${reason.path} is a configuration or password file, which wharf never serves.`,
        fix: "Nothing to change: the file is hidden on purpose. Put what should be public in another file.",
      };
    case "no-index":
      return {
        title: "No index file",
        problem: `${reason.path} is a folder without ${reason.index.join(" or ")}, and listings are off.`,
        fix: "Add an index.html to the folder, or start wharf without --no-listing to list it.",
      };
    case "not-found":
      return reason.suggestion === undefined
        ? {
            title: "Not found",
            problem: `Nothing at ${reason.path}.`,
            fix: "Check the spelling, and that the file is inside the folder wharf serves.",
          }
        : {
            title: "Wrong case",
            problem: `No ${reason.path}; did you mean ${reason.suggestion}?`,
            fix: `Names are case-sensitive here (and on most servers): link to ${reason.suggestion}, or rename the file.`,
            suggestion: reason.suggestion,
          };
    case "file-as-directory":
      return {
        title: "File with a trailing slash",
        problem: `${reason.path} ends with a slash, which names a folder, but ${reason.file} is a file.`,
        fix: `Link to ${reason.file}, without the slash.`,
        suggestion: reason.file,
      };
    case "special-file":
      return {
        title: "Not a regular file",
        problem: `${reason.path} is a FIFO, socket or device, which wharf never opens.`,
        fix: "Serve a regular file instead.",
      };
    case "spa-asset":
      return {
        title: "Asset, not a page",
        problem: `${reason.path} has a file extension, so the single-page-app fallback treats it as an asset and keeps its 404 (a script given the app's page would fail in a confusing way).`,
        fix: "Check where the build put the file and the app's base URL.",
      };
    case "spa-not-html":
      return {
        title: "Not a page navigation",
        problem: "The single-page-app fallback answers page navigations only, and this request does not accept text/html.",
        fix: "A browser's page load gets the app's page; with curl, add -H 'Accept: text/html'.",
      };
    case "spa-page-missing":
      return {
        title: "Fallback page missing",
        problem: `The single-page-app fallback tried ${reason.page}, which is not there either.`,
        fix: `Add ${reason.page}, or name the app's page with -s FILE.`,
      };
    case "clean-urls-htm":
      return {
        title: "Clean URLs map .html only",
        problem: `--clean-urls serves ${reason.path} from ${reason.path}.html only, and there is ${reason.htm}.`,
        fix: `Rename the file to .html, or link to ${reason.htm}.`,
        suggestion: reason.htm,
      };
    case "rewrite-missing":
      return {
        title: "Rewrite to a missing path",
        problem: `A rewrite sends ${reason.path} to ${reason.destination}, which is not there.`,
        fix: "Correct the rewrite's destination, or add the file.",
      };
  }
}

/** Says who sees this, so that nobody wonders why a colleague's browser shows less. */
const WHO =
  "This explanation is shown to clients on this machine (or to all with --explain on); others get the plain page. --explain off turns it off.";

const HEADERS = { "x-content-type-options": "nosniff", "cache-control": "no-store", vary: addVary(undefined, "Accept") };

/**
 * The explained reply: `status` as it was, the body in `format`, naming the
 * request path `instance` (already a URL path or the raw target, printable
 * ASCII). `reasons` must not be empty. `plain` is the reply it replaces: its
 * headers are kept (a `Vary` the SPA fallback added, say), the body's own
 * replaced.
 */
export function explainedReply(plain: Reply, reasons: readonly Reason[], format: ExplanationFormat, instance: string): Reply {
  const { status } = plain;
  const advice = reasons.map(adviceFor);
  const { "content-type": _type, "content-length": _length, ...kept } = plain.headers;
  const headers = { ...kept, ...HEADERS, vary: addVary(plain.headers["vary"], "Accept") };
  let reply: Reply;
  if (format === "problem") {
    const [first, ...more] = reasons.map((reason, i) => ({ reason, advice: advice[i]! }));
    const member = ({ reason, advice: a }: { reason: Reason; advice: Advice }) => ({
      type: problemType(reason),
      title: a.title,
      detail: a.problem,
      fix: a.fix,
      ...(a.suggestion === undefined ? {} : { suggestion: a.suggestion }),
    });
    const body = {
      ...member(first!),
      status,
      instance,
      ...(more.length === 0 ? {} : { also: more.map(member) }),
    };
    // RFC 9457 §3: the media type is application/problem+json; JSON is UTF-8 (RFC 8259 §8.1).
    reply = bytesReply(status, `${JSON.stringify(body, null, 2)}\n`, "application/problem+json", headers);
  } else if (format === "text") {
    const lines = [`${status} ${reasonPhrase(status) ?? "Error"}: ${instance}`, ""];
    for (const a of advice) lines.push(a.problem, `Fix: ${a.fix}`, "");
    lines.push(WHO, "");
    reply = text(status, lines.join("\n"), headers);
  } else {
    let inner = "";
    for (const a of advice) {
      const problem = a.suggestion === undefined ? escapeHtml(a.problem) : linked(a.problem, a.suggestion);
      inner += `<p><strong>${escapeHtml(a.title)}.</strong> ${problem}</p>\n<p>Fix: ${escapeHtml(a.fix)}</p>\n`;
    }
    inner += `<p><small>${escapeHtml(WHO)}</small></p>\n`;
    reply = html(status, errorPage(status, inner), headers);
  }
  return plain.miss === true ? { ...reply, miss: true } : reply;
}

/** `text` escaped, with the first mention of `path` made a link to it (a URL path, so a same-origin link). */
function linked(text: string, path: string): string {
  const at = text.lastIndexOf(path);
  if (at < 0) return escapeHtml(text);
  return `${escapeHtml(text.slice(0, at))}<a href="${escapeHtml(path)}">${escapeHtml(path)}</a>${escapeHtml(text.slice(at + path.length))}`;
}
