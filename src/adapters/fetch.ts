/**
 * The Fetch API adapter: web `Request` in, `Response` out, for runtimes and
 * frameworks built on the web-standard handler shape.
 */
import type { Reply, WharfRequest } from "../core/types.js";
import type { FileSystem } from "../fs/types.js";
import { formatHttpDate } from "../http/dates.js";
import { prepare } from "./body.js";

/** A {@link WharfRequest} view of a web `Request`. Its URL is already normalised by the URL parser. */
export function fromWebRequest(request: Request): WharfRequest {
  const url = new URL(request.url);
  return {
    method: request.method,
    target: url.pathname + url.search,
    pathname: url.pathname,
    search: url.search,
    header: (name) => request.headers.get(name) ?? undefined,
    remoteAddress: undefined,
    body: () => request.body ?? emptyBody(),
  };
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}

/** Runs `handle` for `request` and streams the reply as a `Response`. */
export async function fetchResponse(handle: (req: WharfRequest) => Promise<Reply>, fs: FileSystem, request: Request): Promise<Response> {
  const { reply, body } = await prepare(handle, fromWebRequest(request), fs);
  const headers = new Headers(reply.headers);
  if (!headers.has("date")) headers.set("date", formatHttpDate(Date.now()));
  if (body === undefined) return new Response(null, { status: reply.status, headers });
  // Cached bodies are never SharedArrayBuffer-backed, which is all this cast rules out.
  if (body instanceof Uint8Array) return new Response(body as Uint8Array<ArrayBuffer>, { status: reply.status, headers });
  const chunks = body.bytes[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done === true) {
          await body.close();
          controller.close();
        } else {
          controller.enqueue(next.value);
        }
      } catch (error) {
        await body.close();
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return?.();
      await body.close();
    },
  });
  return new Response(stream, { status: reply.status, headers });
}
