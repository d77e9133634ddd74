/**
 * Environment variables, for containers and platforms that configure by
 * environment (12-factor):
 *
 * | variable | meaning |
 * | --- | --- |
 * | `PORT` | the port, as serve, http-server and sirv read it (and Heroku, Cloud Run, Render set it) |
 * | `WHARF_PORT` | the port; wins over `PORT` |
 * | `WHARF_HOST` | the address to listen on (`-b`) |
 * | `WHARF_DIRECTORY` | the directory to serve (`-d`) |
 * | `WHARF_CONFIG` | the configuration file (`-c`) |
 * | `WHARF_AUTH` | `user:password` (`--auth`), kept out of `ps` and shell history |
 * | `WHARF_AUTH_FILE` | an htpasswd file (`--auth-file`) |
 * | `WHARF_LOG_FORMAT` | `default`, `dev`, `common`, `combined` or `json` (`--log-format`) |
 *
 * `HOST` is deliberately not read: zsh and some CI images set it to the machine's
 * name, which would quietly change where wharf listens.
 *
 * Flags win over variables, and variables over the configuration file.
 */
import { resolve } from "node:path";
import type { ConfigOptions } from "./types.js";
import { ConfigError } from "./types.js";

const LOG_FORMATS = ["default", "dev", "common", "combined", "json"] as const;

/** The options the environment sets, and the configuration file it names. */
export function fromEnvironment(env: NodeJS.ProcessEnv, cwd: string): { options: ConfigOptions; config: string | undefined } {
  const options: { -readonly [K in keyof ConfigOptions]: ConfigOptions[K] } = {};
  const value = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  for (const name of ["PORT", "WHARF_PORT"]) {
    const port = value(name);
    if (port === undefined) continue;
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new ConfigError(`invalid ${name} '${port}': must be a whole number from 0 to 65535`);
    options.port = Number(port);
  }
  const host = value("WHARF_HOST");
  if (host !== undefined) options.host = host;
  const directory = value("WHARF_DIRECTORY");
  if (directory !== undefined) options.root = resolve(cwd, directory);
  const auth = env["WHARF_AUTH"];
  if (auth !== undefined && auth !== "") {
    if (auth.indexOf(":") <= 0) throw new ConfigError("invalid WHARF_AUTH: must be user:password");
    options.auth = auth;
  }
  const authFile = value("WHARF_AUTH_FILE");
  if (authFile !== undefined) options.authFile = resolve(cwd, authFile);
  const logFormat = value("WHARF_LOG_FORMAT");
  if (logFormat !== undefined) {
    if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) throw new ConfigError(`invalid WHARF_LOG_FORMAT '${logFormat}': must be one of ${LOG_FORMATS.join(", ")}`);
    options.logFormat = logFormat as (typeof LOG_FORMATS)[number];
  }
  return { options, config: value("WHARF_CONFIG") };
}
