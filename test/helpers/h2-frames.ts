/**
 * Raw HTTP/2 frames (RFC 9113 §4, §6) over TLS, for what no well-behaved client
 * does: Node's own client respects the server's concurrent-stream limit and never
 * sends a reset for a stream it has not sent yet, so it cannot reproduce
 * CVE-2023-44487 ("rapid reset": HEADERS then RST_STREAM, again and again).
 */
import { type TLSSocket, connect } from "node:tls";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; // RFC 9113 §3.4

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
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

/** A HEADERS frame (END_STREAM | END_HEADERS) for a GET, and the RST_STREAM (CANCEL) that takes it back. */
export function headersAndReset(streamId: number, path: string): Buffer {
  const cancel = Buffer.alloc(4);
  cancel.writeUInt32BE(0x8); // CANCEL
  return Buffer.concat([frame(0x1, 0x1 | 0x4, streamId, requestBlock("localhost", path)), frame(0x3, 0, streamId, cancel)]);
}

/** A TLS connection that has negotiated h2 and sent the preface and an empty SETTINGS. */
export function rawH2(port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", servername: "localhost", ca, ALPNProtocols: ["h2"] }, () => {
      if (socket.alpnProtocol !== "h2") return reject(new Error(`ALPN chose ${String(socket.alpnProtocol)}`));
      socket.write(Buffer.concat([Buffer.from(PREFACE), frame(0x4, 0, 0, Buffer.alloc(0))]));
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** The error code of the first GOAWAY frame in `data`, if any (frames parsed from the start). */
export function goawayCode(data: Buffer): number | undefined {
  for (let at = 0; at + 9 <= data.length;) {
    const length = data.readUIntBE(at, 3);
    if (data[at + 3] === 0x7 && at + 9 + 8 <= data.length) return data.readUInt32BE(at + 9 + 4);
    at += 9 + length;
  }
  return undefined;
}
