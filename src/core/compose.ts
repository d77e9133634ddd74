/**
 * Runs a list of middleware as an onion: each one may answer, or call `next()` to
 * run the rest and then change or replace the result.
 */
import type { Middleware, Reply, WharfRequest } from "./types.js";

/**
 * Chains `middleware` into one. The last one's `next()` calls `last`.
 * Calling `next()` twice from the same middleware is a programming error and throws.
 */
export function compose(middleware: readonly Middleware[], last: Middleware): (req: WharfRequest) => Promise<Reply> {
  const stack = [...middleware, last];
  return (req) => {
    const run = async (i: number): Promise<Reply> => {
      const current = stack[i];
      if (current === undefined) throw new Error("wharf: the last handler called next()");
      let called = false;
      return current(req, () => {
        if (called) return Promise.reject(new Error("wharf: next() called twice"));
        called = true;
        return run(i + 1);
      });
    };
    return run(0);
  };
}
