/**
 * One request over any of the three protocols wharf speaks, with the answer in
 * one shape, so that a table of rows can be run over HTTP/1.1, HTTPS/1.1 and
 * HTTP/2 alike. Paths are sent exactly as given (no URL parsing cleans them up).
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { type ClientHttp2Session, connect } from "node:http2";
import { request as httpsRequest } from "node:https";

export type Protocol = "http/1.1" | "https/1.1" | "h2";
export const PROTOCOLS: readonly Protocol[] = ["http/1.1", "https/1.1", "h2"];

export interface Answer {
  readonly status: number;
  /** Lower-case names, repeated fields joined with ", ", no pseudo-headers. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** "1.1" or "2.0". */
  readonly httpVersion: string;
}

export interface Target {
  readonly protocol: Protocol;
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** The certificate to trust (PEM) for https/1.1 and h2. */
  readonly ca?: string;
}

function flatten(headers: IncomingHttpHeaders | Record<string, string | string[] | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

// One h2 connection per origin, as a browser would keep; closed by closeClients().
const sessions = new Map<string, ClientHttp2Session>();

function session(t: Target): ClientHttp2Session {
  const origin = `https://${t.host ?? "127.0.0.1"}:${t.port}`;
  let s = sessions.get(origin);
  if (s === undefined || s.closed || s.destroyed) {
    s = connect(origin, { ...(t.ca === undefined ? {} : { ca: t.ca }), servername: "localhost" });
    s.on("error", () => undefined);
    sessions.set(origin, s);
  }
  return s;
}

/** Closes the h2 connections kept by {@link request}. */
export function closeClients(): void {
  for (const s of sessions.values()) s.close();
  sessions.clear();
}

/** Sends one request and collects the whole answer (bounded by `timeoutMs`). */
export function request(
  t: Target,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Answer> {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return new Promise<Answer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${t.protocol} ${method} ${path}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const done = (a: Answer): void => {
      clearTimeout(timer);
      resolve(a);
    };
    const fail = (e: Error): void => {
      clearTimeout(timer);
      reject(e);
    };
    if (t.protocol === "h2") {
      const stream = session(t).request({ ":method": method, ":path": path, ...lower }, { endStream: true });
      const chunks: Buffer[] = [];
      let status = 0;
      let head: Record<string, string> = {};
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        head = flatten(h);
      });
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => done({ status, headers: head, body: Buffer.concat(chunks), httpVersion: "2.0" }));
      stream.on("error", fail);
      return;
    }
    const send = t.protocol === "http/1.1" ? httpRequest : httpsRequest;
    const req = send(
      {
        host: t.host ?? "127.0.0.1",
        port: t.port,
        method,
        path,
        headers: lower,
        agent: false,
        ...(t.protocol === "https/1.1" ? { ca: t.ca, servername: "localhost" } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          done({ status: res.statusCode ?? 0, headers: flatten(res.headers), body: Buffer.concat(chunks), httpVersion: res.httpVersion }),
        );
        res.on("error", fail);
      },
    );
    req.on("error", fail);
    req.end();
  });
}
