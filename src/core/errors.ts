/**
 * The error every option check throws, in one module of its own so that the
 * feature modules (src/features) and src/options.ts can both use it without
 * importing each other.
 */

/** An option was given a value it cannot take. `code` names the option. */
export class OptionError extends Error {
  readonly code: string;
  constructor(option: string, message: string) {
    super(`wharf: option "${option}" ${message}`);
    this.name = "OptionError";
    this.code = `WHARF_INVALID_${option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
  }
}
