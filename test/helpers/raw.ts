/**
 * Raw-socket requests: clients like fetch or curl clean up `..`, encodings and
 * framing before sending, so security and framing tests write the bytes themselves.
 */
import { connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Sends `bytes` and collects everything until the server closes the connection. */
export function rawExchange(port: number, bytes: string | Buffer, host = "127.0.0.1", timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw exchange timed out; got ${JSON.stringify(Buffer.concat(chunks).toString("latin1"))}`));
    }, timeoutMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(bytes); // not end(): a half-closed client may lose its response
  });
}

/**
 * Splits a byte stream into HTTP/1.1 responses (Content-Length framing only, which
 * is all wharf sends). `headRequests` marks which responses answer HEAD (no body).
 */
export function parseResponses(data: Buffer, headRequests: readonly boolean[] = []): RawResponse[] {
  const out: RawResponse[] = [];
  let offset = 0;
  while (offset < data.length) {
    const end = data.indexOf("\r\n\r\n", offset);
    if (end < 0) throw new Error(`incomplete head: ${JSON.stringify(data.subarray(offset).toString("latin1"))}`);
    const [statusLine = "", ...lines] = data.subarray(offset, end).toString("latin1").split("\r\n");
    const status = Number(statusLine.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const noBody = headRequests[out.length] === true || status === 204 || status === 304 || (status >= 100 && status < 200);
    const length = noBody ? 0 : Number(headers["content-length"] ?? 0);
    const body = data.subarray(end + 4, end + 4 + length);
    out.push({ status, headers, body });
    offset = end + 4 + length;
  }
  return out;
}

/** One request with `Connection: close`, parsed. */
export async function rawRequest(port: number, method: string, target: string, extra = ""): Promise<RawResponse> {
  const data = await rawExchange(port, `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`);
  const [response] = parseResponses(data, [method === "HEAD"]);
  if (response === undefined) throw new Error(`no response to ${method} ${target}`);
  return response;
}
