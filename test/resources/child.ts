/**
 * A wharf server in a process of its own, so that a test can measure it from the
 * outside (/proc/PID/status, /proc/PID/fd) without counting its own sockets.
 * Started by proc.ts: `node --expose-gc child.js '{"root": ...}'`; prints one JSON
 * line `{"port": N}` once listening, and answers IPC messages:
 *   {type: "gc"}     → runs the garbage collector twice, replies {type: "gc", inFlight, errors, memory, arrayBuffers}
 *                      (memory: process.memoryUsage() right after)
 *   {type: "close"}  → closes gracefully, replies {type: "closed"}, exits 0
 */
import { type ServeOptions, serve } from "../../src/server/serve.js";

const options = JSON.parse(process.argv[2] ?? "{}") as ServeOptions;
const errors: string[] = [];
const server = await serve({
  port: 0,
  host: "127.0.0.1",
  ...options,
  // The server reports trouble (an accept() failing with EMFILE) on its log.
  log: (line) => {
    if (line.startsWith("wharf:")) errors.push(line);
  },
});
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);

process.on("message", (message: { type?: string }) => {
  if (message.type === "gc") {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const memory = process.memoryUsage();
    process.send?.({ type: "gc", inFlight: server.inFlight, errors: errors.splice(0), memory, arrayBuffers: memory.arrayBuffers });
  } else if (message.type === "close") {
    void server.close().then(() => {
      process.send?.({ type: "closed" });
      process.exit(0);
    });
  }
});
// The test process went away: do not linger.
process.on("disconnect", () => process.exit(0));
