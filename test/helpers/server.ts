/**
 * `serve()` started the way the tests want it: on 127.0.0.1, port 0, no access
 * log, unless the options say otherwise. {@link withServer} closes it when the
 * body is done, pass or fail; {@link startServer} is for servers a whole file
 * shares (close them in `after`).
 */
import { type RunningServer, type ServeOptions, serve } from "../../src/server/serve.js";

/** `serve(options)` on 127.0.0.1, port 0, with no access log unless `options` sets one. */
export function startServer(options: ServeOptions): Promise<RunningServer> {
  return serve({ port: 0, host: "127.0.0.1", log: false, ...options });
}

/** Runs `fn` against a server started with {@link startServer}, and closes it afterwards. */
export async function withServer<T>(options: ServeOptions, fn: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await startServer(options);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}
