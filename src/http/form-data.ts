/**
 * A streaming `multipart/form-data` parser (RFC 7578 over RFC 2046 §5.1), for
 * uploads. It is pulled, not pushed: the caller iterates, and the next chunk of
 * the body is read only when the caller asks for more, so a slow disk slows the
 * client down (backpressure) instead of filling memory.
 *
 * Memory is bounded whatever the body: between calls it holds less than one
 * delimiter of a part's data (the bytes that may be the start of
 * `CRLF--boundary`), at most {@link FormLimits.maxHeaderBytes} of a part's
 * header block, and the chunk being scanned. Not `src/http/multipart.ts`: that
 * one *writes* `multipart/byteranges` bodies for 206 replies.
 *
 * Pure: no I/O; the body is any async iterable of bytes.
 */

/** What the parser yields, in order: a part's head, its data in pieces, its end. */
export type FormEvent =
  | {
      readonly kind: "part";
      /** The field name (`name=`), if any. */
      readonly name: string | undefined;
      /** The file name (`filename=`) as the client sent it, for file fields; not yet checked. */
      readonly filename: string | undefined;
      readonly contentType: string | undefined;
    }
  | { readonly kind: "data"; readonly bytes: Uint8Array }
  | { readonly kind: "end" };

/** A body that is not well-formed multipart: the caller answers 400. */
export class FormDataError extends Error {}

/** Bounds of {@link formEvents}. */
export interface FormLimits {
  /** The largest header block of one part. Browsers send about 150 bytes. */
  readonly maxHeaderBytes: number;
  /** The most parts one body may have (a form of 10,000 empty parts is work for nothing). */
  readonly maxParts: number;
}

export const FORM_LIMITS: FormLimits = { maxHeaderBytes: 8 * 1024, maxParts: 1000 };

/**
 * The boundary of a `multipart/form-data` Content-Type (RFC 2046 §5.1.1: 1 to 70
 * characters of a restricted set, quoted or not), or `undefined` when the type
 * is another or the boundary is missing or malformed.
 */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const semicolon = contentType.indexOf(";");
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (type !== "multipart/form-data" || semicolon < 0) return undefined;
  const boundary = headerParameters(contentType).get("boundary");
  if (boundary === undefined || !/^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/.test(boundary)) return undefined;
  return boundary;
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");
const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * The parameters of a header value (`; name=...; filename=...` of a
 * Content-Disposition, `; boundary=...` of a Content-Type), each a
 * quoted string or a token, scanned by hand in one pass (no pattern built at
 * run time). The HTML standard (§4.10.21.8, "multipart/form-data encoding
 * algorithm") has browsers send a name's `"`, CR and LF as `%22`, `%0D`, `%0A`,
 * and nothing else escaped; older curl escaped `"` with a backslash. Both are
 * undone; the result is checked by the caller like any name. The first value
 * of a parameter wins.
 */
function headerParameters(value: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = value.indexOf(";");
  while (i >= 0 && i < value.length) {
    i++; // past ";"
    while (value[i] === " " || value[i] === "\t") i++;
    const eq = value.indexOf("=", i);
    if (eq < 0) break;
    const key = value.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (value[i] === " " || value[i] === "\t") i++;
    let raw = "";
    if (value[i] === '"') {
      for (i++; i < value.length && value[i] !== '"'; i++) {
        if (value[i] === "\\" && i + 1 < value.length) i++;
        raw += value[i];
      }
      i = value.indexOf(";", i);
    } else {
      const semicolon = value.indexOf(";", i);
      raw = (semicolon < 0 ? value.slice(i) : value.slice(i, semicolon)).trim();
      i = semicolon;
    }
    if (!out.has(key))
      out.set(
        key,
        raw.replace(/%(22|0D|0A)/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      );
  }
  return out;
}

/** Reads one part's header block (without its final CRLF CRLF). */
function partHead(block: Uint8Array): FormEvent {
  let disposition: string | undefined;
  let contentType: string | undefined;
  // Header names are ASCII; values are UTF-8 as browsers send them (RFC 7578 §5.1.3).
  for (const line of utf8.decode(block).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new FormDataError("a part header without a colon");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-disposition") disposition = value;
    else if (name === "content-type") contentType = value;
  }
  if (disposition === undefined || !/^form-data\s*(;|$)/i.test(disposition)) {
    throw new FormDataError("a part without Content-Disposition: form-data");
  }
  const parameters = headerParameters(disposition);
  return { kind: "part", name: parameters.get("name"), filename: parameters.get("filename"), contentType };
}

type State = "preamble" | "after-delimiter" | "head" | "data" | "epilogue";

/**
 * The parts of a `multipart/form-data` body with `boundary`, as events. Throws
 * {@link FormDataError} on a malformed or truncated body (no close delimiter).
 * Data events are views valid until the next event is asked for.
 */
export async function* formEvents(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  limits: FormLimits = FORM_LIMITS,
): AsyncGenerator<FormEvent, void, undefined> {
  // Every delimiter, the first included, is searched as CRLF--boundary: the body
  // is scanned as if it began with CRLF (RFC 2046 §5.1.1 makes that CRLF part of
  // the delimiter; a body that starts with the delimiter has none before it).
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let pending: Buffer = Buffer.from(CRLF);
  let state: State = "preamble";
  let parts = 0;
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      // Work through what is held; ask for more only when nothing more can be decided.
      let progress = true;
      while (progress) {
        progress = false;
        if (state === "preamble") {
          const at = pending.indexOf(delimiter);
          if (at < 0) {
            // The preamble is ignored (§5.1.1); keep what may be the delimiter's start.
            if (pending.length >= delimiter.length) pending = pending.subarray(pending.length - delimiter.length + 1);
          } else {
            pending = pending.subarray(at + delimiter.length);
            state = "after-delimiter";
            progress = true;
          }
        } else if (state === "after-delimiter") {
          // `--` closes; otherwise optional transport padding (LWSP), then CRLF.
          let i = 0;
          if (pending.length >= 2 && pending[0] === 0x2d && pending[1] === 0x2d) {
            state = "epilogue";
            progress = true;
            continue;
          }
          while (i < pending.length && (pending[i] === 0x20 || pending[i] === 0x09)) i++;
          if (i > 200) throw new FormDataError("padding after a delimiter");
          if (pending.length - i < 2) continue;
          if (pending[i] !== 0x0d || pending[i + 1] !== 0x0a) throw new FormDataError("no CRLF after a delimiter");
          pending = pending.subarray(i + 2);
          if (++parts > limits.maxParts) throw new FormDataError(`more than ${limits.maxParts} parts`);
          state = "head";
          progress = true;
        } else if (state === "head") {
          // A part with no header at all starts with its blank line.
          const end = pending[0] === 0x0d && pending[1] === 0x0a ? -2 : pending.indexOf(HEADER_END);
          if (end === -1) {
            if (pending.length > limits.maxHeaderBytes) throw new FormDataError("a part header block too large");
            continue;
          }
          if (end > limits.maxHeaderBytes) throw new FormDataError("a part header block too large");
          if (end === -2) throw new FormDataError("a part without Content-Disposition: form-data");
          const head = partHead(pending.subarray(0, end));
          pending = pending.subarray(end + HEADER_END.length);
          state = "data";
          yield head;
          progress = true;
        } else if (state === "data") {
          const at = pending.indexOf(delimiter);
          if (at >= 0) {
            if (at > 0) yield { kind: "data", bytes: pending.subarray(0, at) };
            yield { kind: "end" };
            pending = pending.subarray(at + delimiter.length);
            state = "after-delimiter";
            progress = true;
          } else {
            // Everything but what could be the start of a delimiter is data.
            const safe = pending.length - delimiter.length + 1;
            if (safe > 0) {
              yield { kind: "data", bytes: pending.subarray(0, safe) };
              pending = pending.subarray(safe);
            }
          }
        }
      }
      if (state === "epilogue") {
        // §5.1.1: the epilogue is ignored; it is still read so the connection can be reused.
        for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
          /* dropped */
        }
        return;
      }
      const next = await iterator.next();
      if (next.done === true) throw new FormDataError("the body ended before the close delimiter");
      const chunk = next.value;
      pending = pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([pending, chunk]);
    }
  } finally {
    await iterator.return?.();
  }
}
