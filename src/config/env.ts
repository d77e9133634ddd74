/**
 * Environment variables, for containers and platforms that configure by
 * environment (12-factor). Which variables there are, and what each sets, is
 * the registry's `env` (src/config/registry.ts); docs/features.md lists them:
 * `PORT` (as serve, http-server and sirv read it, and Heroku, Cloud Run, Render
 * set it), `WHARF_PORT` over it, `WHARF_HOST`, `WHARF_DIRECTORY`, `WHARF_CONFIG`,
 * `WHARF_AUTH` (kept out of `ps` and shell history), `WHARF_AUTH_FILE`,
 * `WHARF_LOG_FORMAT`.
 *
 * `HOST` is deliberately not read: zsh and some CI images set it to the machine's
 * name, which would quietly change where wharf listens.
 *
 * Flags win over variables, and variables over the configuration file.
 */
import { resolve } from "node:path";
import { OPTIONS, type Settings } from "./registry.js";
import { ConfigError } from "./types.js";

/** The settings the environment makes; paths absolute (against `cwd`). Throws {@link ConfigError}. */
export function fromEnvironment(env: NodeJS.ProcessEnv, cwd: string): Settings {
  const out: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    for (const name of option.env ?? []) {
      const raw = env[name];
      // A password may begin or end with a space; anything else is trimmed.
      const text = option.secret ? raw : raw?.trim();
      if (text === undefined || text === "") continue;
      const got = option.parse!(text);
      if ("problem" in got) throw new ConfigError(`invalid ${name}${option.secret ? "" : ` '${text}'`}: ${got.problem}`);
      out[option.name] = option.path ? resolve(cwd, got.value as string) : got.value;
    }
  }
  return out as Settings;
}
