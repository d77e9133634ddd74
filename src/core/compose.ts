/**
 * Runs a list of middleware as an onion: each one may answer, or call `next()` to
 * run the rest and then change or replace the result.
 */
import type { Middleware, Reply, WharfRequest } from "./types.js";

const lastNext = (): never => {
  throw new Error("wharf: the last handler called next()");
};

/**
 * Chains `middleware` into one. The last one's `next()` calls `last`.
 *
 * `next(other)` runs the rest of the chain for `other` instead of the current
 * request (a rewrite or a fallback), and may be called again with another request.
 * Calling a bare `next()` twice from the same middleware is a programming error
 * (usually a missing `return`) and throws.
 *
 * Nothing here adds a promise: when every step answers synchronously (the static
 * handler with a cached file, and middleware that return `next()` or map it with
 * `withHeader`), the chain returns the {@link Reply} itself and the adapter writes
 * it in the same tick. Only a step that returns a promise (an `async` middleware,
 * a file not yet cached) makes the result a promise. A step that throws
 * synchronously throws from here; callers catch both (handler/create.ts).
 */
export function compose(middleware: readonly Middleware[], last: Middleware): (req: WharfRequest) => Reply | Promise<Reply> {
  // No middleware: the last handler itself, with no frame or closure per request.
  if (middleware.length === 0) return (req) => last(req, lastNext);
  const stack = [...middleware, last];
  const run = (i: number, req: WharfRequest): Reply | Promise<Reply> => {
    const current = stack[i];
    if (current === undefined) throw new Error("wharf: the last handler called next()");
    let called = false;
    return current(req, (other?: WharfRequest) => {
      if (called && other === undefined) throw new Error("wharf: next() called twice");
      called = true;
      return run(i + 1, other ?? req);
    });
  };
  return (req) => run(0, req);
}
