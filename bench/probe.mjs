// Small HTTP client helpers: one request at a time, a fresh connection each, always to 127.0.0.1.
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";

export const HOST = "127.0.0.1";

/** GET (or another method) and read the whole body; resolves { status, headers, bodyBytes }. */
export function request(port, path, headers = {}, { method = "GET", timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: HOST, port, path, method, headers, agent: false }, (res) => {
      let bodyBytes = 0;
      res.on("data", (chunk) => (bodyBytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, bodyBytes }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer to ${method} ${path} in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** A TCP port that is free right now on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `path` until the server answers (with `status`, when given). Gives up when
 * `failed()` returns a reason (the process exited) or after `timeoutMs`.
 */
export async function waitForAnswer(port, path, { status, timeoutMs = 15_000, intervalMs = 5, failed = () => undefined }) {
  const deadline = performance.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    const reason = failed();
    if (reason) throw new Error(reason);
    try {
      const res = await request(port, path, {}, { timeoutMs: Math.max(100, deadline - performance.now()) });
      if (status === undefined || res.status === status) return res;
      last = `answered ${res.status}`;
    } catch (e) {
      last = e.code ?? e.message;
    }
    if (performance.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms (${last})`);
    await sleep(intervalMs);
  }
}
