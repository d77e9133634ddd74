/**
 * The status for a request Node's HTTP/1.x parser (llhttp) refused before any
 * handler saw it: one pure function of the error code and the bytes the parser
 * was reading, so the answer (and the access-log line for it) is decided in one
 * place. Codes checked on Node 20, 22 and 24, which agree.
 *
 * llhttp knows every method in `http.METHODS` and refuses any other token with
 * `HPE_INVALID_METHOD`; it accepts versions 0.9, 1.0, 1.1 and 2.0 and refuses any
 * other with `HPE_INVALID_VERSION`. A refusal of a well-formed token is a method
 * or version this server does not implement, not a malformed request, and RFC 9110
 * has a status for each: 501 and 505. Anything malformed stays 400.
 */

/** What a parser error is answered with (always with `Connection: close`). */
export type ClientErrorStatus = 400 | 408 | 413 | 431 | 501 | 505;

/** `tchar` of RFC 9110 §5.6.2. */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3), version `HTTP/DIGIT.DIGIT` (§2.3). */
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ ]+ HTTP\/\d\.\d$/;

/**
 * The status for a parser error: `code` is the error's `code` (`HPE_*`, or Node's
 * `ERR_HTTP_REQUEST_TIMEOUT`); `rawPacket` and `bytesParsed` are the error's own
 * fields, the bytes being parsed and where the parser stopped, from which the
 * request line in question is read. Without them, a method or version error is 400.
 */
export function clientErrorStatus(code: string | undefined, rawPacket?: Uint8Array, bytesParsed?: number): ClientErrorStatus {
  switch (code) {
    // Node's own answers, which a 'clientError' listener replaces.
    case "HPE_HEADER_OVERFLOW":
      return 431;
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return 413;
    case "HPE_INVALID_METHOD": {
      // RFC 9110 §9.1: a method the origin server does not recognise is 501 (Not
      // Implemented); methods it knows but does not allow (POST, PUT...) reach the
      // handler, which answers 405 with Allow. Only a well-formed token is a method:
      // `G(T` or a TLS handshake on the plain port is a bad request.
      // `GARBAGE` alone is no request line at all: a method needs a target after it.
      const line = requestLine(rawPacket, bytesParsed);
      if (line === undefined) return 400;
      const space = line.indexOf(" ");
      return space > 0 && line.length > space + 1 && line[space + 1] !== " " && TCHAR.test(line.slice(0, space)) ? 501 : 400;
    }
    case "HPE_INVALID_VERSION": {
      // RFC 9110 §15.6.6: 505 (HTTP Version Not Supported) for a well-formed
      // version we do not speak (`HTTP/9.9`, `HTTP/3.0`); `HTTP/1.x` is malformed.
      const line = requestLine(rawPacket, bytesParsed);
      return line !== undefined && REQUEST_LINE.test(line) ? 505 : 400;
    }
    default:
      return 400;
  }
}

/** Longest request line looked at: past it, the parser's own limits decide. */
const MAX_LINE = 8192 + 64;

/** The line that holds byte `at` of `packet` (without its CR LF), as latin1; `undefined` if unknown. */
function requestLine(packet: Uint8Array | undefined, at: number | undefined): string | undefined {
  if (packet === undefined || at === undefined || !Number.isInteger(at) || at < 0) return undefined;
  const stop = Math.min(at, packet.length);
  // Both scans stop after MAX_LINE bytes: a packet can be 64 KiB of one "line".
  let start = stop;
  while (start > 0 && packet[start - 1] !== 0x0a && stop - start <= MAX_LINE) start--;
  let end = stop;
  while (end < packet.length && packet[end] !== 0x0d && packet[end] !== 0x0a && end - start <= MAX_LINE) end++;
  if (end - start > MAX_LINE) return undefined;
  return Buffer.from(packet.buffer, packet.byteOffset + start, end - start).toString("latin1");
}
