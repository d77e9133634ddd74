/**
 * Waiting in tests, with one rule: wait for an event (or for a state to hold)
 * under a generous deadline, never for a length of time. A deadline is there so
 * that a broken build fails instead of hanging; a busy machine only uses more of
 * it. Prefer {@link nextEvent} and {@link Output.until}, which wake on the event
 * itself; {@link waitFor} polls, for states that no event announces (a count in
 * /proc, a file another process writes).
 */
import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";

/** How long to wait at most, and (for polling) how often to look. */
export interface WaitOptions {
  /** Give up after this many ms. @default 10_000 */
  readonly deadline?: number;
  /** Poll every this many ms (polling only). @default 20 */
  readonly interval?: number;
}

/**
 * Resolves true as soon as `predicate` holds, or false once `deadline` ms have
 * passed without it holding. The caller asserts, with a message that says what
 * it waited for.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<boolean> {
  const { deadline = 10_000, interval = 20 } = options;
  const end = performance.now() + deadline;
  for (;;) {
    if (await predicate()) return true;
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Resolves with the arguments of `emitter`'s next `event`; rejects after `deadline` ms. */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, options: WaitOptions = {}): Promise<T> {
  const { deadline = 10_000 } = options;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no '${event}' event within ${deadline} ms`));
    }, deadline);
    const on = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    emitter.once(event, on);
  });
}

/** Text a stream has produced so far, and a wait that wakes on each chunk. */
export interface Output {
  /** Everything read so far. */
  text(): string;
  /** Resolves true once the text matches `want` (checked on every chunk), false at the deadline or the stream's end. */
  until(want: RegExp | ((text: string) => boolean), options?: WaitOptions): Promise<boolean>;
}

/** Collects `stream` as UTF-8 text. */
export function collect(stream: Readable): Output {
  let text = "";
  const waiting = new Set<() => void>();
  let ended = false;
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    text += chunk;
    for (const wake of waiting) wake();
  });
  stream.once("close", () => {
    ended = true;
    for (const wake of waiting) wake();
  });
  return {
    text: () => text,
    until(want, options = {}) {
      const { deadline = 10_000 } = options;
      const holds = (): boolean => (typeof want === "function" ? want(text) : want.test(text));
      if (holds()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (result: boolean): void => {
          clearTimeout(timer);
          waiting.delete(wake);
          resolve(result);
        };
        const wake = (): void => {
          if (holds()) done(true);
          else if (ended) done(false);
        };
        const timer = setTimeout(() => done(false), deadline);
        waiting.add(wake);
        if (ended) done(false);
      });
    },
  };
}

/** `promise`'s value, or `fallback` if it has not settled within `deadline` ms (default 10 s). */
export async function within<T, F>(promise: Promise<T>, fallback: F, options: WaitOptions = {}): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), options.deadline ?? 10_000)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
