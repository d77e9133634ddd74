/**
 * The machine-readable listings. Pure.
 *
 * JSON is nginx's `autoindex_format json` (ngx_http_autoindex_module.c
 * `ngx_http_autoindex_json`), so clients written for nginx read it unchanged:
 * an array of `{"name", "type", "mtime", "size"}`, `type` `"directory"` or
 * `"file"` (nginx's `"other"` never occurs: such entries are never listed),
 * `mtime` as an IMF-fixdate (RFC 9110 §5.6.7, what nginx prints with
 * `ngx_http_time`), `size` in bytes for files only.
 *
 * Text is one name per line, directories with a trailing `/`, for `xargs` and
 * scripts. A name may hold any byte but `/` and NUL, so a line break or a
 * terminal escape inside one is written escaped: `\\` for a backslash, `\xHH` for
 * C0 and C1 controls and DEL; every other character as itself.
 */
import type { ListedEntry } from "./order.js";

/** Past ±8.64e15 ms a Date is invalid; a corrupt mtime is left out rather than thrown on. */
const MAX_DATE_MS = 8.64e15;

/** `Mon, 30 Nov 2026 12:00:00 GMT` (the IMF-fixdate nginx writes), or `undefined` for a time a Date cannot hold. */
export function imfDate(mtimeMs: number | undefined): string | undefined {
  if (mtimeMs === undefined || !Number.isFinite(mtimeMs) || Math.abs(mtimeMs) > MAX_DATE_MS) return undefined;
  return new Date(mtimeMs).toUTCString();
}

/** One JSON object per line inside the array, as nginx writes it. */
export function renderJson(entries: readonly ListedEntry[]): string {
  const lines = entries.map((e) => {
    let line = `{ "name":${JSON.stringify(e.name)}, "type":"${e.kind}"`;
    const mtime = imfDate(e.mtimeMs);
    if (mtime !== undefined) line += `, "mtime":"${mtime}"`;
    if (e.kind === "file" && e.size !== undefined && Number.isFinite(e.size)) line += `, "size":${e.size}`;
    return `${line} }`;
  });
  return `[\n${lines.join(",\n")}${lines.length > 0 ? "\n" : ""}]\n`;
}

/** A name made safe for one line of a terminal: backslash and controls escaped. */
export function escapeLine(name: string): string {
  return /[\\\u0000-\u001f\u007f-\u009f]/.test(name)
    ? name.replace(/[\\\u0000-\u001f\u007f-\u009f]/g, (c) => (c === "\\" ? "\\\\" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`))
    : name;
}

export function renderText(entries: readonly ListedEntry[]): string {
  let out = "";
  for (const e of entries) out += `${escapeLine(e.name)}${e.kind === "directory" ? "/" : ""}\n`;
  return out;
}
