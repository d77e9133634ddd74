/**
 * The checks that options given as values (createHandler's, serve()'s, the
 * features') share, so that one kind of value is checked and worded one way
 * everywhere. Each returns the value (or the default when it is `undefined`) or
 * throws an {@link OptionError} naming the option. The command line's and
 * environment's text parsers are another matter (src/config/registry.ts): they
 * turn text into these values first.
 */
import { OptionError } from "./errors.js";

/** `true` or `false`; `fallback` when not given. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  throw new OptionError(name, "must be true or false");
}

/** A safe integer from `min` to `max` (no upper bound unless given); `fallback` when not given. */
export function wholeOption(name: string, value: unknown, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw new OptionError(
    name,
    max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`,
  );
}

/** A list (its items are the caller's to check); empty when not given. */
export function listOption<T>(name: string, value: unknown): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OptionError(name, "must be a list");
  return value as readonly T[];
}
