/**
 * The errors wharf throws to its caller, in the bottom layer so that every layer
 * (option checks in the features and the handler, binding in server/, certificates
 * in tls/) can throw them without importing each other.
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

/** Starting the server failed: `code` is `EADDRINUSE`, `EACCES`, `WHARF_NO_DIRECTORY`, ... */
export class ServeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = "ServeError";
    this.code = code;
  }
}

/** The `code` of a Node system error (`ENOENT`, `EADDRINUSE`), if it has one. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
