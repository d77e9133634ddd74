/**
 * Uploads, the decisions: which options mean what, whether a request may write
 * where it asks, what the new file is called, whether a browser request comes
 * from this site. Pure: the file system is ./store.ts's, the request flow
 * ./index.ts's.
 */
import { OptionError } from "../../core/errors.js";
import { resolveRequestPath } from "../../path/resolve.js";
import { UPLOAD_TEMP_PREFIX } from "../../path/visibility.js";

/** What to do when the name uploaded to already exists. */
export type OnConflict =
  /** 409, naming the file that is there; nothing changes. */
  | "error"
  /** Keep both: the upload takes the next free `name (1).ext`. */
  | "rename"
  /** Replace it, atomically: readers see the old file or the new one, never a mix. */
  | "overwrite";

export const ON_CONFLICT: readonly OnConflict[] = ["error", "rename", "overwrite"];

/**
 * The default `uploadMaxSize`: 1 GiB. Large enough for what people move between
 * their own machines (photos, documents, a phone's video of several minutes),
 * small enough that one mistaken or hostile request cannot take a whole
 * ordinary disk. A full disk answers 507 whatever the limit; `0` lifts it.
 */
export const DEFAULT_UPLOAD_MAX_SIZE = 1024 * 1024 * 1024;

/** The upload options of `createHandler` and `serve()` (docs/features.md, "Uploads"). */
export interface UploadOptions {
  /**
   * Accept uploads (`--upload [URLPATH]`): `true` for the whole tree, or the URL
   * paths of the directories (and everything below them) that take them. Off,
   * nothing is ever written and PUT, POST and DELETE answer 405.
   * @default false
   */
  readonly upload?: boolean | string | readonly string[];
  /**
   * Uploads may create the directories they name (`--mkdir`): `PUT /a/b/c.txt`
   * makes `a/b/`, and a folder dropped on the listing page keeps its tree.
   * @default false
   */
  readonly mkdir?: boolean;
  /**
   * `DELETE` removes a file in an upload directory (`--delete`). Never a directory.
   * @default false
   */
  readonly delete?: boolean;
  /**
   * When the name exists (`--on-conflict`): `"error"` (409), `"rename"` (`name (1).ext`)
   * or `"overwrite"`.
   * @default "error"
   */
  readonly onConflict?: OnConflict;
  /**
   * The largest upload in bytes (`--upload-max-size`); `0` for no limit. A larger
   * `Content-Length` is refused with 413 before any byte is read, and a body
   * without one is cut at the limit.
   * @default 1073741824
   */
  readonly uploadMaxSize?: number;
  /**
   * Accounts for writes only (`--upload-auth USER:PASSWORD`), so that reads can
   * stay public; `"user:password"` or a list (the password may contain `:`).
   * Without it, writes take the `auth`/`authFile` accounts, if any.
   * @default undefined
   */
  readonly uploadAuth?: string | readonly string[];
  /**
   * Accept writes without credentials from other machines (`--upload-anonymous`).
   * Without it, a write with no account configured is accepted from loopback
   * peers only.
   * @default false
   */
  readonly uploadAnonymous?: boolean;
}

/** The options checked, with defaults applied. */
export interface UploadSettings {
  /** The upload directories as decoded URL segments; `[[]]` for the whole tree. */
  readonly areas: readonly (readonly string[])[];
  readonly mkdir: boolean;
  readonly delete: boolean;
  readonly onConflict: OnConflict;
  /** `Infinity` when there is no limit. */
  readonly maxSize: number;
  readonly accounts: readonly string[];
  readonly anonymous: boolean;
}

const flag = (name: string, value: unknown): boolean => {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new OptionError(name, "must be true or false");
  return value;
};

/** Checks the upload options once; `undefined` when uploads are off. Throws {@link OptionError}. */
export function uploadSettings(o: UploadOptions): UploadSettings | undefined {
  const upload = o.upload ?? false;
  if (upload === false) {
    for (const name of ["mkdir", "delete", "onConflict", "uploadMaxSize", "uploadAuth", "uploadAnonymous"] as const) {
      if (o[name] !== undefined && o[name] !== false) throw new OptionError(name, "needs upload (--upload)");
    }
    return undefined;
  }
  let paths: readonly string[];
  if (upload === true) paths = ["/"];
  else if (typeof upload === "string") paths = [upload];
  else if (Array.isArray(upload) && upload.length > 0 && upload.every((p) => typeof p === "string")) paths = upload as readonly string[];
  else throw new OptionError("upload", "must be true, a URL path, or a list of URL paths");
  const areas = paths.map((path) => {
    const resolved = resolveRequestPath(path.startsWith("/") ? encodeURI(path) : "");
    if (resolved.kind !== "ok") throw new OptionError("upload", `not a URL path starting with /: ${JSON.stringify(path)}`);
    return resolved.segments;
  });
  const onConflict = o.onConflict ?? "error";
  if (!ON_CONFLICT.includes(onConflict)) throw new OptionError("onConflict", `must be one of ${ON_CONFLICT.join(", ")}`);
  const max = o.uploadMaxSize ?? DEFAULT_UPLOAD_MAX_SIZE;
  if (typeof max !== "number" || !Number.isSafeInteger(max) || max < 0)
    throw new OptionError("uploadMaxSize", "must be a whole number of bytes (0: no limit)");
  const accounts = o.uploadAuth === undefined ? [] : typeof o.uploadAuth === "string" ? [o.uploadAuth] : o.uploadAuth;
  if (!Array.isArray(accounts) || !accounts.every((a) => typeof a === "string" && a.indexOf(":") > 0)) {
    throw new OptionError("uploadAuth", 'must be "user:password" or a list of them');
  }
  return {
    areas,
    mkdir: flag("mkdir", o.mkdir),
    delete: flag("delete", o.delete),
    onConflict,
    maxSize: max === 0 ? Number.POSITIVE_INFINITY : max,
    accounts,
    anonymous: flag("uploadAnonymous", o.uploadAnonymous),
  };
}

/** The length of the longest upload area `segments` is in or below (0 for the whole tree), or -1 for none. */
export function uploadAreaDepth(areas: UploadSettings["areas"], segments: readonly string[]): number {
  let depth = -1;
  for (const area of areas) {
    if (area.length > depth && area.length <= segments.length && area.every((s, i) => segments[i] === s)) depth = area.length;
  }
  return depth;
}

/** Whether `segments` is an upload area or below one (segment by segment: `/up` does not cover `/upload`). */
export function inUploadArea(areas: UploadSettings["areas"], segments: readonly string[]): boolean {
  return areas.some((area) => area.length <= segments.length && area.every((s, i) => segments[i] === s));
}

/** Why a name cannot be written, or `undefined` when it can. */
export function nameProblem(name: string, dotfiles: boolean): string | undefined {
  if (name === "" || name === "." || name === "..") return "not a file name";
  // One segment: no separator of any platform, no NUL, no control (a name with a
  // newline forges lines in every log and listing that prints it): C0, DEL and C1
  // (U+0085 is a newline to some readers, U+009B a terminal's CSI), the line and
  // paragraph separators, and the bidirectional embeddings, overrides and isolates
  // (U+202E turns `photo\u202Egnp.exe` into what reads as `photoexe.png` in a
  // listing: extension spoofing, against people who download what others upload).
  if (/[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(name)) {
    return "a separator or control character in the name";
  }
  if (name.startsWith(UPLOAD_TEMP_PREFIX)) return "a reserved name";
  if (name.startsWith(".") && !dotfiles) return "a dotfile (--dotfiles allows them)";
  // NAME_MAX on Linux, macOS and Windows alike.
  if (Buffer.byteLength(name, "utf8") > 255) return "a name longer than 255 bytes";
  return undefined;
}

/**
 * The names wharf reads its own configuration from when it starts (config/load.ts:
 * `wharf.json` in the working directory, `serve.json` in the served one). Where
 * none existed, nothing hides the name; an upload of one would configure the next
 * start (rewrites, headers, `directory`, `dotfiles`, `upload`...). Refused
 * everywhere, in any case: the working directory may be any directory of the tree,
 * and a case-insensitive file system reads `Serve.JSON` as `serve.json`.
 */
const CONFIG_NAMES = new Set(["wharf.json", "serve.json"]);

/** Whether `name` is one wharf reads its configuration from (see {@link CONFIG_NAMES}). */
export function isConfigName(name: string): boolean {
  return CONFIG_NAMES.has(name.toLowerCase());
}

/**
 * Suffixes of the files wharf serves *in place of* another: precompressed
 * sidecars (responders/encoders.ts `SIDECAR_SUFFIX`: `x.br` is sent for `x` to a
 * client that accepts br) and digest sidecars (responders/digest-sidecar.ts:
 * `x.sha256` gives a large `x` its ETag and Repr-Digest). Each is used when it is
 * not older than `x`, which an upload never is.
 */
const STAND_IN_SUFFIXES = [".br", ".zst", ".gz", ".sha256"] as const;

/**
 * The name `name` would stand in for, when it has a sidecar's suffix
 * (case-insensitively: a case-insensitive file system finds `x.GZ` as `x.gz`), or
 * `undefined`. `x.gz` → `x`.
 */
export function standsInFor(name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const suffix of STAND_IN_SUFFIXES) {
    if (lower.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length);
  }
  return undefined;
}

/** Where a write goes, decided from its URL alone. */
export type WriteTarget =
  | { readonly kind: "file"; readonly parent: readonly string[]; readonly name: string }
  | { readonly kind: "directory"; readonly segments: readonly string[] }
  | { readonly kind: "refused"; readonly status: 400 | 403; readonly reason: string };

/**
 * `PUT /a/b/name` → a file `name` in `/a/b/`; `POST /a/b/` → the directory. The
 * path is decoded and normalised once (path/resolve.ts, as for reads); the
 * directory must be in an upload area and the name one acceptable segment.
 */
export function writeTarget(pathname: string, method: string, s: UploadSettings, dotfiles: boolean): WriteTarget {
  const resolved = resolveRequestPath(pathname);
  if (resolved.kind !== "ok") return { kind: "refused", status: 400, reason: "a malformed path" };
  const { segments } = resolved;
  // Dot-directories on the way are as closed to writes as to reads.
  const dirs = method === "POST" || resolved.trailingSlash ? segments : segments.slice(0, -1);
  for (const d of dirs) {
    if (d.startsWith(".") && !dotfiles && !(d === ".well-known" && d === segments[0])) {
      return { kind: "refused", status: 403, reason: "a dot-directory" };
    }
  }
  if (!inUploadArea(s.areas, dirs)) return { kind: "refused", status: 403, reason: "not an upload directory" };
  if (method === "POST") {
    if (!resolved.trailingSlash && segments.length > 0)
      return { kind: "refused", status: 400, reason: "POST to a directory, with its slash" };
    return { kind: "directory", segments };
  }
  if (resolved.trailingSlash || segments.length === 0) return { kind: "refused", status: 400, reason: `${method} needs a file name` };
  const name = segments.at(-1)!;
  const problem = nameProblem(name, dotfiles);
  if (problem !== undefined) return { kind: "refused", status: 400, reason: problem };
  // Replaced, it would change how the next start is configured (removed: store.ts
  // `removeFile` refuses it after its hidden-file check, which answers 404).
  if (method !== "DELETE" && isConfigName(name))
    return { kind: "refused", status: 403, reason: "a name wharf reads its configuration from" };
  return { kind: "file", parent: dirs, name };
}

/**
 * The `n`th alternative of a name: `photo.jpg` → `photo (1).jpg`; a dotfile's
 * or extensionless name gets the number at its end (`.env (1)`, `README (1)`).
 */
export function renamed(name: string, n: number): string {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? `${name} (${n})` : `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}

/** Whether a state-changing request comes from this site (see {@link crossOriginCheck}). */
export type OriginVerdict = { readonly kind: "same-origin" } | { readonly kind: "cross-origin"; readonly reason: string };

const SAME: OriginVerdict = { kind: "same-origin" };

/**
 * CSRF protection without tokens, as Go 1.25's `http.CrossOriginProtection`
 * decides it (and the reason simple-http-server PR 57 was needed: any web page
 * could make the user's browser upload to a server on their machine):
 * 1. `Sec-Fetch-Site` (Fetch Metadata, sent by every current browser):
 *    `same-origin` or `none` (typed in, a bookmark) passes, anything else
 *    (`same-site`, `cross-site`) is refused.
 * 2. Without it, `Origin` (RFC 6454 §7, sent by browsers on every POST, PUT and
 *    DELETE): it must be this server's (`http://` or `https://` and the `Host`
 *    the request was sent to); `null` (a sandboxed frame, a `file:` page) is refused.
 * 3. Neither: not a browser (curl, Python), which no other site can drive; it passes.
 */
export function crossOriginCheck(secFetchSite: string | undefined, origin: string | undefined, host: string | undefined): OriginVerdict {
  if (secFetchSite !== undefined) {
    const site = secFetchSite.trim().toLowerCase();
    return site === "same-origin" || site === "none" ? SAME : { kind: "cross-origin", reason: `Sec-Fetch-Site: ${site}` };
  }
  if (origin === undefined) return SAME;
  if (host === undefined) return { kind: "cross-origin", reason: "Origin without Host" };
  const o = origin.trim().toLowerCase();
  const h = host.trim().toLowerCase();
  return o === `http://${h}` || o === `https://${h}` ? SAME : { kind: "cross-origin", reason: "Origin of another site" };
}

/** What a declared body length means for the limit. */
export type LengthVerdict =
  | { readonly kind: "ok"; readonly length: number | undefined }
  | { readonly kind: "too-large"; readonly length: number };

/** RFC 9110 §15.5.14: a Content-Length above the limit is refused before the body is read. */
export function declaredLength(contentLength: string | undefined, maxSize: number): LengthVerdict {
  if (contentLength === undefined) return { kind: "ok", length: undefined };
  const n = Number.parseInt(contentLength, 10);
  if (!Number.isFinite(n)) return { kind: "ok", length: undefined };
  return n > maxSize ? { kind: "too-large", length: n } : { kind: "ok", length: n };
}

/** Whether `address` is a loopback peer (127.0.0.0/8, ::1, and IPv4 mapped into IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}
