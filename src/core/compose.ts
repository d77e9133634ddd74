/**
 * Runs a list of middleware as an onion: each one may answer, or call `next()` to
 * run the rest and then change or replace the result.
 */
import type { Middleware, Reply, WharfRequest } from "./types.js";

/**
 * Chains `middleware` into one. The last one's `next()` calls `last`.
 *
 * `next(other)` runs the rest of the chain for `other` instead of the current
 * request (a rewrite or a fallback), and may be called again with another request.
 * Calling a bare `next()` twice from the same middleware is a programming error
 * (usually a missing `return`) and throws.
 */
export function compose(middleware: readonly Middleware[], last: Middleware): (req: WharfRequest) => Promise<Reply> {
  const stack = [...middleware, last];
  const run = async (i: number, req: WharfRequest): Promise<Reply> => {
    const current = stack[i];
    if (current === undefined) throw new Error("wharf: the last handler called next()");
    let called = false;
    return current(req, (other?: WharfRequest) => {
      if (called && other === undefined) return Promise.reject(new Error("wharf: next() called twice"));
      called = true;
      return run(i + 1, other ?? req);
    });
  };
  return (req) => run(0, req);
}
