/**
 * Uploads, the request flow (docs/features.md "Uploads", docs/security.md): a
 * middleware outside every other feature but the secret path (a write must
 * know the secret as a read must) that takes `PUT` (the raw body, as
 * `curl -T` sends it), `POST` (`multipart/form-data`, the listing page's form)
 * and, with `delete`, `DELETE`. Every other request goes on unchanged, so reads
 * cost one method comparison more; with uploads off the middleware is not there
 * at all and PUT, POST and DELETE answer 405 as before.
 *
 * In order, cheapest and least revealing first:
 * 1. the cross-origin check (CSRF, rules.ts `crossOriginCheck`): 403;
 * 2. credentials: the `auth` accounts, or `uploadAuth` for writes only; with
 *    none configured, only loopback peers unless `uploadAnonymous`;
 * 3. the target from the URL (rules.ts `writeTarget`): 400, 403;
 * 4. the body's declared length against the limit: 413 before any byte is read;
 * 5. the directory, as a read would reach it, after realpath (store.ts): 403, 404;
 * 6. the body, streamed to a temporary file with the limit and any digest
 *    checked as it comes: 413, 400;
 * 7. publishing: 409 when the name exists and `onConflict` is `error`.
 * Writes never get CORS headers: this runs outside the CORS middleware and
 * answers writes itself.
 */
import { createHash, type Hash } from "node:crypto";
import { empty, errorReply, json, mapReply } from "../../core/reply.js";
import type { Middleware, Reply, WharfRequest } from "../../core/types.js";
import { type DigestAlgorithm, digestFields, type ExpectedDigests, NODE_HASH } from "../../http/digest.js";
import { FormDataError, type FormEvent, formBoundary, formEvents } from "../../http/form-data.js";
import { encodePathname, resolveRequestPath } from "../../path/resolve.js";
import type { VisibilityRules } from "../../path/visibility.js";
import { type HostList, hostDecision } from "../live/hosts.js";
import {
  crossOriginCheck,
  declaredLength,
  inUploadArea,
  isLoopback,
  nameProblem,
  type UploadSettings,
  uploadAreaDepth,
  writeTarget,
} from "./rules.js";
import {
  discard,
  publish,
  publishProblem,
  removeFile,
  unpublish,
  uploadDirectory,
  WriteError,
  type WriteFailure,
  type Written,
  writeTemp,
} from "./store.js";

export type { OnConflict, UploadOptions, UploadSettings } from "./rules.js";
export { DEFAULT_UPLOAD_MAX_SIZE, uploadSettings } from "./rules.js";

/** What the upload middleware needs besides its settings. */
export interface UploadContext {
  /** The read rules (root, dotfiles, symlinks, hidden files), built once. */
  readonly rules: () => Promise<VisibilityRules>;
  /** Files up to this size get the content ETag reads give them (file-contents.ts). */
  readonly hashLimit: number;
  /** Checks credentials and calls its `next` only when they hold (auth.ts `authMiddleware`). */
  readonly gate: Middleware | undefined;
  /**
   * The names this server answers to (live/hosts.ts): a write without
   * credentials must be sent to one of them (DNS rebinding, below).
   */
  readonly hosts: HostList;
}

/**
 * A problem details reply (RFC 9457) for API clients, or the HTML error page for
 * a browser's form post (the page works without JavaScript).
 */
function problem(
  req: WharfRequest,
  status: number,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Reply {
  const all = { ...headers, "cache-control": "no-store" };
  if (wantsHtml(req)) return errorReply(status, all, detail);
  const body = JSON.stringify({ type: "about:blank", status, title: TITLES[status] ?? "Error", detail, ...extra });
  const bytes = new TextEncoder().encode(body);
  return {
    status,
    headers: { ...all, "content-type": "application/problem+json", "content-length": String(bytes.length) },
    body: { kind: "chunks", chunks: [bytes], length: bytes.length },
  };
}

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  501: "Not Implemented",
  507: "Insufficient Storage",
};

/** A browser navigating (the no-JavaScript form): HTML answers and a redirect back to the listing. */
function wantsHtml(req: WharfRequest): boolean {
  const accept = req.header("accept");
  return accept !== undefined && /\btext\/html\b/i.test(accept);
}

/**
 * An answer sent before the body was read in full: `Connection: close`, so what
 * is left of the body is not read as the next request (Node drops it and closes).
 */
const closing = (reply: Reply): Reply => ({ ...reply, headers: { ...reply.headers, connection: "close" } });

/**
 * The URL of `path` (encoded, as this handler sees paths) as a client reaches it:
 * under the request's `base` (a secret path, a mount point), which this handler's
 * paths no longer carry. For URLs in a body; a `Location` gets the base on its
 * way out (secret-path.ts, handler/create.ts), so it is `path` itself.
 */
function urlOf(req: WharfRequest, path: string): string {
  return (req.base ?? "") + path;
}

function failureReply(req: WharfRequest, f: WriteFailure, parent: readonly string[]): Reply {
  switch (f.kind) {
    case "exists": {
      const url = urlOf(req, encodePathname([...parent, f.name], false));
      return problem(req, 409, `${url} already exists`, { existing: url });
    }
    case "stands-in": {
      const url = urlOf(req, encodePathname([...parent, f.of], false));
      const name = urlOf(req, encodePathname([...parent, f.name], false));
      return problem(req, 409, `${name} would be served in place of ${url}, which exists`, { existing: url });
    }
    case "too-large":
      return closing(problem(req, 413, "The upload is larger than this server accepts."));
    case "digest-mismatch":
      return closing(problem(req, 400, `The body does not match its ${f.algorithm} digest.`, { algorithm: f.algorithm }));
    case "short":
      return closing(problem(req, 400, "The body ended before its declared length."));
    case "unstorable":
      return closing(problem(req, 400, "The file system here cannot store this name or path (too long, or a character it refuses)."));
    case "no-space":
      return closing(problem(req, 507, "The server has no space left for this upload."));
    case "forbidden":
      return closing(problem(req, 403, `Writing here is not allowed: ${f.reason}.`));
    case "not-found":
      return closing(problem(req, 404, `Nothing to write into: ${f.reason}.`));
  }
}

/** The body bytes, counted against the limit and hashed for the request's digests (a form post's). */
function checkedBody(
  body: AsyncIterable<Uint8Array>,
  maxSize: number,
  digests: ExpectedDigests | undefined,
): { readonly bytes: AsyncIterable<Uint8Array>; mismatch(): DigestAlgorithm | undefined } {
  const hashes: [DigestAlgorithm, Hash, Uint8Array][] = [...(digests ?? [])].map(([a, d]) => [a, createHash(NODE_HASH[a]), d]);
  return {
    bytes: (async function* () {
      let size = 0;
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > maxSize) throw new WriteError({ kind: "too-large" });
        for (const [, hash] of hashes) hash.update(chunk);
        yield chunk;
      }
    })(),
    mismatch: () => hashes.find(([, hash, expected]) => !hash.digest().equals(expected))?.[0],
  };
}

/** The data of the current part, ending at its end. */
async function* partData(events: AsyncGenerator<FormEvent>): AsyncGenerator<Uint8Array> {
  for (let e = await events.next(); e.done !== true; e = await events.next()) {
    if (e.value.kind === "data") yield e.value.bytes;
    else if (e.value.kind === "end") return;
  }
  throw new FormDataError("the body ended inside a part");
}

/** Node's streams end a request whose client went away with one of these. */
export function isAbort(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (error as Error | null)?.message === "aborted";
}

/** The ETag reads will give the file (file-contents.ts): content-derived up to hashLimit. */
function etagOf(w: Written, hashLimit: number): string {
  return w.size <= hashLimit
    ? `"${w.sha256.subarray(0, 16).toString("base64url")}"`
    : `"${w.size.toString(16)}-${Math.floor(w.mtimeMs).toString(16)}"`;
}

/** The upload middleware, and a way to wait for the writes in progress. */
export interface UploadMiddleware extends Middleware {
  /**
   * Settles once no write is in progress. serve() awaits it when it stops, after
   * cutting the connections: each cut upload then removes its temporary file
   * before the process may exit (the CLI exits as soon as close() settles).
   */
  settled(): Promise<void>;
}

/** The upload middleware; see the module comment for what it checks, in which order. */
export function uploads(s: UploadSettings, ctx: UploadContext): UploadMiddleware {
  const writes = new Set(s.delete ? ["PUT", "POST", "DELETE"] : ["PUT", "POST"]);

  // Writes in progress, so that a server stopping can wait for their temporary
  // files to be removed (see UploadMiddleware.settled).
  const pending = new Set<Promise<Reply>>();
  const write = (req: WharfRequest): Promise<Reply> => {
    const done = writing(req);
    pending.add(done);
    done.then(
      () => pending.delete(done),
      () => pending.delete(done),
    );
    return done;
  };

  const writing = async (req: WharfRequest): Promise<Reply> => {
    const rules = await ctx.rules();
    const dotfiles = rules.dotfiles === "allow";
    const target = writeTarget(req.pathname, req.method, s, dotfiles);
    if (target.kind === "refused") return closing(problem(req, target.status, `Writing here is not allowed: ${target.reason}.`));
    if (req.method === "DELETE") {
      if (target.kind !== "file") return problem(req, 400, "DELETE needs a file name.");
      const dir = await uploadDirectory(rules, target.parent, false, uploadAreaDepth(s.areas, target.parent));
      if (dir.kind !== "ok") return failureReply(req, dir, target.parent);
      const removed = await removeFile(rules, dir.real, target.name);
      return removed === "removed" ? empty(204) : failureReply(req, removed, target.parent);
    }
    // The page's check before it sends any byte: credentials (the gate ran
    // already), origin and directory, answered without a body.
    if (req.method === "POST" && req.search === "?check") {
      const segments = target.kind === "file" ? target.parent : target.segments;
      const dir = await uploadDirectory(rules, segments, false, uploadAreaDepth(s.areas, segments));
      return dir.kind === "ok" ? empty(204, { "cache-control": "no-store" }) : failureReply(req, dir, []);
    }
    // Uploads take the bytes as they are: a coded body would be stored coded.
    const coding = req.header("content-encoding");
    if (coding !== undefined && coding.trim().toLowerCase() !== "identity") {
      return closing(problem(req, 415, "Content-Encoding is not accepted on uploads; send the bytes as they are."));
    }
    const length = declaredLength(req.header("content-length"), s.maxSize);
    if (length.kind === "too-large")
      return closing(problem(req, 413, "The upload is larger than this server accepts.", { limit: s.maxSize }));
    const digests = digestFields(req.header("content-digest"), req.header("repr-digest"));
    if (digests.kind === "malformed") return closing(problem(req, 400, `${digests.field} is not a valid RFC 9530 digest field.`));
    const expected = digests.kind === "check" ? digests.expected : undefined;
    // Opened only once everything the head decides is decided: opening it sends an
    // awaited `100 Continue` (adapters/node.ts), after which the client sends the bytes.
    if (req.body === undefined) return problem(req, 501, "This server's adapter gives no request body.");
    const body = (): AsyncIterable<Uint8Array> => req.body!();
    const parent = target.kind === "file" ? target.parent : target.segments;
    const dir = await uploadDirectory(rules, parent, s.mkdir, uploadAreaDepth(s.areas, parent));
    if (dir.kind !== "ok") return failureReply(req, dir, parent);

    try {
      if (target.kind === "file") {
        // What can be known before the body is read: a hidden or configuration name
        // (403 whether or not it exists: a GET answers 404 for both, and a 409 would
        // tell which hidden names are there), then, with `error`, a name or a file it
        // would stand in for that exists (409). publish() decides again, atomically.
        const early = await publishProblem(rules, dir.real, target.name, s.onConflict);
        if (early !== undefined) return closing(failureReply(req, early, parent));
        const written = await writeTemp(dir.real, body(), { maxSize: s.maxSize, expected: length.length, digests: expected });
        const done = await publish(rules, written, target.name, s.onConflict);
        const path = encodePathname([...parent, done.name], false);
        // RFC 9110 §9.3.4: 201 with the new resource's Location; 200 when one was replaced.
        return json(
          done.replaced ? 200 : 201,
          { name: done.name, url: urlOf(req, path), size: written.size },
          { location: path, etag: etagOf(written, ctx.hashLimit), "cache-control": "no-store" },
        );
      }
      return await formPost(req, body, parent, dir.real, expected, rules);
    } catch (error) {
      if (error instanceof WriteError) return failureReply(req, error.failure, parent);
      if (error instanceof FormDataError) return closing(problem(req, 400, `The form data is malformed: ${error.message}.`));
      // The client went away mid-body: nobody is left to read an answer.
      if (isAbort(error)) return failureReply(req, { kind: "short" }, parent);
      throw error;
    }
  };

  const formPost = async (
    req: WharfRequest,
    body: () => AsyncIterable<Uint8Array>,
    parent: readonly string[],
    dir: string,
    digests: ExpectedDigests | undefined,
    rules: VisibilityRules,
  ): Promise<Reply> => {
    const boundary = formBoundary(req.header("content-type"));
    if (boundary === undefined) return closing(problem(req, 415, "POST takes multipart/form-data (a form with a file input)."));
    const checked = checkedBody(body(), s.maxSize, digests);
    const events = formEvents(checked.bytes, boundary);
    // Every file of the form is written first and published only once the whole
    // body is in and its digest checked; a failure removes every one of them.
    const written: { readonly file: Written; readonly name: string }[] = [];
    let published = 0;
    try {
      for (let e = await events.next(); e.done !== true; e = await events.next()) {
        const event = e.value;
        if (event.kind !== "part") continue;
        // A field that is not a file (or a file input left empty) is read past.
        if (event.filename === undefined || event.filename === "") {
          for await (const _ of partData(events)) {
            /* dropped */
          }
          continue;
        }
        const problemText = nameProblem(event.filename, rules.dotfiles === "allow");
        if (problemText !== undefined) return closing(problem(req, 400, `File name refused: ${problemText}.`));
        const file = await writeTemp(dir, partData(events), { maxSize: Number.POSITIVE_INFINITY });
        written.push({ file, name: event.filename });
      }
      const mismatch = checked.mismatch();
      if (mismatch !== undefined) throw new WriteError({ kind: "digest-mismatch", algorithm: mismatch });
      if (written.length === 0) return problem(req, 400, "The form carried no file.");
      // All or nothing: every name is checked before any is published (two files of
      // one name are a conflict unless renamed or overwritten), and a file that still
      // fails to publish takes back those published before it (none was replaced:
      // only `overwrite` replaces, and it fails only as checked here).
      const names = new Set<string>();
      for (const { name } of written) {
        if (s.onConflict === "error" && names.has(name)) throw new WriteError({ kind: "exists", name });
        names.add(name);
        const failure = await publishProblem(rules, dir, name, s.onConflict);
        if (failure !== undefined) throw new WriteError(failure);
      }
      const files: { name: string; url: string; size: number }[] = [];
      let first: string | undefined;
      try {
        for (const { file, name } of written) {
          published++;
          const done = await publish(rules, file, name, s.onConflict);
          const path = encodePathname([...parent, done.name], false);
          first ??= path;
          files.push({ name: done.name, url: urlOf(req, path), size: file.size });
        }
      } catch (error) {
        if (s.onConflict !== "overwrite") for (const f of files) await unpublish(dir, f.name);
        throw error;
      }
      // A browser's plain form post: back to the listing, which now shows the files (RFC 9110 §15.4.4).
      if (wantsHtml(req)) return empty(303, { location: "./", "content-length": "0", "cache-control": "no-store" });
      return json(201, { files }, { location: first!, "cache-control": "no-store" });
    } finally {
      await events.return(undefined);
      for (const { file } of written.slice(published)) await discard(file);
    }
  };

  // RFC 9110 §10.2.1: `Allow` lists what the resource takes; in an upload directory that is the writes too.
  const allow = `GET, HEAD, OPTIONS, ${[...writes].join(", ")}`;
  const withWrites = (reply: Reply): Reply =>
    reply.headers["allow"] === undefined ? reply : { ...reply, headers: { ...reply.headers, allow } };

  const middleware: Middleware = (req, next) => {
    if (!writes.has(req.method)) {
      if (req.method === "GET" || req.method === "HEAD") return next();
      // OPTIONS (204) and the 405 of another method, in an upload directory: say what is allowed.
      const path = resolveRequestPath(req.pathname);
      const dir = path.kind === "ok" ? (path.trailingSlash ? path.segments : path.segments.slice(0, -1)) : undefined;
      return dir !== undefined && inUploadArea(s.areas, dir) ? mapReply(next(), withWrites) : next();
    }
    // 1. CSRF, before anything else: a cross-site request learns nothing, not even whether to sign in.
    const origin = crossOriginCheck(req.header("sec-fetch-site"), req.header("origin"), req.header("host") ?? req.header(":authority"));
    if (origin.kind === "cross-origin") return closing(problem(req, 403, "Cross-site writes are refused."));
    // 2. Credentials.
    if (ctx.gate !== undefined) return ctx.gate(req, () => write(req));
    // No credentials asked: the browser's same-origin rule is all that keeps other
    // sites out, and DNS rebinding defeats it: a page on `evil.example` re-pointed
    // at this server is same-origin to itself (`Sec-Fetch-Site: same-origin`,
    // `Origin: http://evil.example:PORT`, and a loopback peer when the browser is on
    // this machine). Its `Host` is the one thing it cannot choose: only the names
    // this server answers to (IP literals, localhost, this machine's names,
    // `--allowed-hosts`) may write without credentials, as live reload's allow-list decides.
    const host = hostDecision(ctx.hosts, req.header("host") ?? req.header(":authority"));
    if (host.kind !== "allowed") {
      const named = host.kind === "refused" ? ` (start wharf with --allowed-hosts ${host.name} to allow it)` : "";
      return closing(problem(req, 403, `Writes without credentials are refused for this Host${named}.`));
    }
    // A loopback peer that forwards for someone else (a reverse proxy on this
    // machine) is not this machine's user: its header says so, and proxies add it.
    const local = isLoopback(req.remoteAddress) && req.header("forwarded") === undefined && req.header("x-forwarded-for") === undefined;
    if (!s.anonymous && !local) {
      return closing(problem(req, 403, "Uploads from another machine need credentials (--upload-auth, --auth) or --upload-anonymous."));
    }
    return write(req);
  };
  return Object.assign(middleware, {
    settled: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  });
}
