/**
 * Finding and reading the configuration file:
 *
 * 1. `-c/--config FILE` (or `WHARF_CONFIG`): that file, relative to the working
 *    directory; a name ending in `serve.json` is read as a serve.json.
 * 2. Else `wharf.json` in the working directory (the project, like
 *    package.json), checked against schema/wharf.schema.json.
 * 3. Else `serve.json` in the served directory, where serve looks for it.
 *
 * Paths in a wharf.json (`directory`, `authFile`) are relative to the file.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { fromServeJson, SERVE_SCHEMA } from "./serve-json.js";
import type { ConfigOptions } from "./types.js";
import { ConfigError } from "./types.js";
import { compile, type Validate } from "./validate.js";

/** A configuration file, read and checked. */
export interface ConfigFile {
  /** Absolute path. */
  readonly path: string;
  readonly kind: "wharf" | "serve";
  readonly options: ConfigOptions;
  /** Keys wharf read but cannot honour exactly (serve.json), one line each. */
  readonly notes: readonly string[];
}

/** serve.json keys someone may carry into a wharf.json, and what they are called here. */
const SERVE_HINTS: Readonly<Record<string, string>> = {
  public: 'serve.json\'s "public" is "directory" here',
  directoryListing: 'serve.json\'s "directoryListing" is "listing" here',
  etag: "wharf always sends ETags",
  renderSingle: "not supported",
};

/** Where the published schema is: next to dist/ when installed, one level further up when run from build/. */
async function readSchema(): Promise<object> {
  for (const up of ["../../schema/wharf.schema.json", "../../../schema/wharf.schema.json"]) {
    try {
      return JSON.parse(await readFile(new URL(up, import.meta.url), "utf8")) as object;
    } catch {
      // Not there; try the next place.
    }
  }
  throw new Error("wharf: schema/wharf.schema.json is missing from the installation");
}

let wharfValidator: Promise<Validate> | undefined;
let serveValidator: Promise<Validate> | undefined;

/** Parses JSON, turning the parser's "at position N" into a line and column. */
export function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    if (position === undefined) throw new ConfigError(`${name}: not valid JSON: ${message}`);
    const before = text.slice(0, Number(position));
    const line = before.split("\n").length;
    const column = Number(position) - before.lastIndexOf("\n");
    throw new ConfigError(
      `${name}: not valid JSON at line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, "")}`,
    );
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new ConfigError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
}

/** Reads a wharf.json's text into options. */
export async function fromWharfJson(text: string, path: string): Promise<ConfigOptions> {
  const name = basename(path);
  const json = parseJson(text, name);
  wharfValidator ??= readSchema().then((schema) => compile(schema, SERVE_HINTS));
  const problem = (await wharfValidator)(json);
  if (problem !== undefined) throw new ConfigError(`${name}: ${problem}`);
  const { $schema: _schema, directory, authFile, ...rest } = json as ConfigOptions & { $schema?: string; directory?: string };
  const base = dirname(path);
  return {
    ...rest,
    ...(directory === undefined ? {} : { root: resolve(base, directory) }),
    ...(authFile === undefined ? {} : { authFile: resolve(base, authFile) }),
  };
}

/** Reads a serve.json's text into options and notes. `directory` is the served directory. */
export async function fromServeJsonText(
  text: string,
  path: string,
  directory: string,
): Promise<{ options: ConfigOptions; notes: string[] }> {
  const name = basename(path);
  const json = parseJson(text, name);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ConfigError(`${name}: must be a JSON object`);
  serveValidator ??= compile(SERVE_SCHEMA);
  const problem = (await serveValidator)(json);
  if (problem !== undefined) throw new ConfigError(`${name}: ${problem}`);
  return fromServeJson(json as Record<string, unknown>, directory);
}

/**
 * Finds and reads the configuration (see the module comment); `undefined` when
 * there is none. Throws {@link ConfigError}.
 */
export async function loadConfig(o: {
  readonly cwd: string;
  readonly directory: string;
  readonly explicit?: string | undefined;
}): Promise<ConfigFile | undefined> {
  let path: string;
  let text: string | undefined;
  if (o.explicit !== undefined) {
    path = resolve(o.cwd, o.explicit);
    text = await readIfPresent(path);
    if (text === undefined) throw new ConfigError(`config file not found: ${path}`);
  } else {
    path = resolve(o.cwd, "wharf.json");
    text = await readIfPresent(path);
    if (text === undefined) {
      path = resolve(o.cwd, o.directory, "serve.json");
      text = await readIfPresent(path);
      if (text === undefined) return undefined;
    }
  }
  if (basename(path).endsWith("serve.json")) {
    const { options, notes } = await fromServeJsonText(text, path, dirname(path));
    return { path, kind: "serve", options, notes };
  }
  return { path, kind: "wharf", options: await fromWharfJson(text, path), notes: [] };
}
