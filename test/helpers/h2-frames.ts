/**
 * Raw HTTP/2 frames (RFC 9113 §4, §6) over TLS, for what no well-behaved client
 * does: Node's own client respects the server's concurrent-stream limit and never
 * sends a reset for a stream it has not sent yet, so it cannot reproduce
 * CVE-2023-44487 ("rapid reset": HEADERS then RST_STREAM, again and again).
 */
import { connect, type TLSSocket } from "node:tls";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; // RFC 9113 §3.4

/** Frame types (RFC 9113 §6). */
export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;
/** SETTINGS parameters (RFC 9113 §6.5.2). */
export const SETTING = { INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5, MAX_HEADER_LIST_SIZE: 0x6 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK (RFC 7541): `:method GET`, `:scheme https` from the static table, literal `:authority` and `:path`. */
function requestBlock(authority: string, path: string): Buffer {
  const literal = (index: number, value: string): Buffer => {
    const v = Buffer.from(value);
    if (v.length > 126) throw new Error("value too long for this encoder");
    return Buffer.concat([Buffer.from([0x40 | index, v.length]), v]); // §6.2.1, 7-bit length, no Huffman
  };
  return Buffer.concat([Buffer.from([0x82, 0x87]), literal(1, authority), literal(4, path)]);
}

/** RFC 7541 §5.1: an integer with an N-bit prefix, `flags` in the bits above it. */
function hpackInteger(value: number, prefixBits: number, flags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([flags | value]);
  const out = [flags | max];
  for (value -= max; value >= 128; value = Math.floor(value / 128)) out.push((value % 128) + 128);
  out.push(value);
  return Buffer.from(out);
}

/** RFC 7541 §5.2: a string literal, without Huffman coding. */
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, "latin1");
  return Buffer.concat([hpackInteger(bytes.length, 7, 0), bytes]);
}

/**
 * A GET for `path` with `fields` as literals (RFC 7541 §6.2.2, without indexing),
 * in a HEADERS frame and as many CONTINUATION frames (RFC 9113 §6.10) as a block
 * larger than the default 16 KiB frame needs. END_STREAM unless `endStream` is false.
 */
export function request(streamId: number, path: string, fields: readonly (readonly [string, string])[] = [], endStream = true): Buffer {
  const block = Buffer.concat([
    Buffer.from([0x82, 0x87]), // :method GET, :scheme https
    hpackInteger(1, 6, 0x40),
    hpackString("localhost"), // :authority
    hpackInteger(4, 6, 0x40),
    hpackString(path), // :path
    ...fields.map(([name, value]) => Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)])),
  ]);
  const frames: Buffer[] = [];
  const size = 16_384;
  for (let at = 0; at === 0 || at < block.length; at += size) {
    const last = at + size >= block.length;
    frames.push(
      frame(
        at === 0 ? FRAME.HEADERS : FRAME.CONTINUATION,
        (last ? 0x4 : 0) | (at === 0 && endStream ? 0x1 : 0),
        streamId,
        block.subarray(at, at + size),
      ),
    );
  }
  return Buffer.concat(frames);
}

/** A SETTINGS frame with `params` ([identifier, value] pairs). */
export function settings(params: readonly (readonly [number, number])[] = []): Buffer {
  const payload = Buffer.alloc(6 * params.length);
  params.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

/** The acknowledgement of the server's SETTINGS (RFC 9113 §6.5.3), after which Node applies them. */
export const SETTINGS_ACK = frame(FRAME.SETTINGS, 0x1, 0, Buffer.alloc(0));

/** A WINDOW_UPDATE (RFC 9113 §6.9) for `streamId` (0: the connection). */
export function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, payload);
}

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** The complete frames in `data`, in order. */
export function parseFrames(data: Buffer): Frame[] {
  const frames: Frame[] = [];
  for (let at = 0; at + 9 <= data.length; ) {
    const length = data.readUIntBE(at, 3);
    if (at + 9 + length > data.length) break;
    frames.push({
      type: data[at + 3]!,
      flags: data[at + 4]!,
      streamId: data.readUInt32BE(at + 5) & 0x7fffffff,
      payload: data.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  return frames;
}

// RFC 7541 Appendix B, the codes of the ten digits: all a status code needs.
const DIGIT_CODES = ["00000", "00001", "00010", "011001", "011010", "011011", "011100", "011101", "011110", "011111"];
// RFC 7541 Appendix A: the static table's :status entries.
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

/**
 * The `:status` of a response header block from Node, which starts with it
 * (RFC 9113 §8.3: pseudo-header fields first): either indexed from the static
 * table, or a literal with the static table's name 8 and a value that may be
 * Huffman-coded (RFC 7541 §6.1, §6.2).
 */
export function responseStatus(block: Buffer): number {
  const first = block[0]!;
  if (first & 0x80) return STATIC_STATUS[first & 0x7f] ?? Number.NaN;
  const nameIndex = first & 0x40 ? first & 0x3f : first & 0x0f;
  if (nameIndex < 8 || nameIndex > 14) return Number.NaN;
  const length = block[1]! & 0x7f;
  const value = block.subarray(2, 2 + length);
  if (!(block[1]! & 0x80)) return Number(value.toString("latin1"));
  let bits = [...value].map((b) => b.toString(2).padStart(8, "0")).join("");
  let text = "";
  for (let matched = true; matched; ) {
    matched = false;
    for (let d = 0; d < 10; d++) {
      if (bits.startsWith(DIGIT_CODES[d]!)) {
        text += String(d);
        bits = bits.slice(DIGIT_CODES[d]!.length);
        matched = true;
        break;
      }
    }
  }
  return /^1{0,7}$/.test(bits) ? Number(text) : Number.NaN; // the rest is EOS padding
}

/** A HEADERS frame (END_STREAM | END_HEADERS) for a GET, and the RST_STREAM (CANCEL) that takes it back. */
export function headersAndReset(streamId: number, path: string): Buffer {
  const cancel = Buffer.alloc(4);
  cancel.writeUInt32BE(0x8); // CANCEL
  return Buffer.concat([frame(0x1, 0x1 | 0x4, streamId, requestBlock("localhost", path)), frame(0x3, 0, streamId, cancel)]);
}

/** A TLS connection that has negotiated h2 and sent the preface and SETTINGS (empty unless given). */
export function rawH2(port: number, ca: string, first: Buffer = settings()): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", servername: "localhost", ca, ALPNProtocols: ["h2"] }, () => {
      if (socket.alpnProtocol !== "h2") return reject(new Error(`ALPN chose ${String(socket.alpnProtocol)}`));
      socket.write(Buffer.concat([Buffer.from(PREFACE), first]));
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** The error code of the first GOAWAY frame in `data`, if any (frames parsed from the start). */
export function goawayCode(data: Buffer): number | undefined {
  for (let at = 0; at + 9 <= data.length; ) {
    const length = data.readUIntBE(at, 3);
    if (data[at + 3] === 0x7 && at + 9 + 8 <= data.length) return data.readUInt32BE(at + 9 + 4);
    at += 9 + length;
  }
  return undefined;
}
