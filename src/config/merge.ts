/**
 * Who wins: a flag on the command line, then an environment variable, then the
 * configuration file, then the default of the layer that takes the option. Each
 * source is a partial {@link Settings} holding only what it says, so precedence
 * is a plain merge; no source needs to know which flags were written. Rule lists
 * join instead where that is what a person means (the registry's `combine`):
 * `-H` headers come after the file's rules (so they win for the same name),
 * `--cache` rules before the file's (first match wins).
 */
import { CLI_ONLY, type CliOnly, OPTIONS, type SettingName, type Settings } from "./registry.js";

const COMBINE = new Map(OPTIONS.filter((o) => o.combine !== undefined).map((o) => [o.name, o.combine!]));

/**
 * Merges partial settings, lowest precedence first: `mergeSettings(file, env, flags)`.
 * A key no source sets stays absent (so serve() still moves off a busy 8000 when
 * no port was asked for anywhere).
 */
export function mergeSettings(...sources: readonly (Settings | undefined)[]): Settings {
  const out: Record<string, unknown> = {};
  for (const source of sources) {
    if (source === undefined) continue;
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) continue;
      const combine = COMBINE.get(key as SettingName);
      const before = out[key];
      if (combine !== undefined && Array.isArray(before) && Array.isArray(value)) {
        out[key] = combine === "later-wins" ? [...before, ...value] : [...value, ...before];
      } else {
        out[key] = value;
      }
    }
  }
  return out as Settings;
}

/** The command line's own defaults, applied once, to what the sources left unset. */
export function withCliDefaults(settings: Settings): Settings {
  const defaults = Object.fromEntries(OPTIONS.filter((o) => o.layer === "cli" && o.default !== undefined).map((o) => [o.name, o.default]));
  return mergeSettings(defaults as Settings, settings);
}

/** The settings serve() takes: all but the command line's own. */
export function serveSettings(settings: Settings): Omit<Settings, keyof CliOnly> {
  return Object.fromEntries(Object.entries(settings).filter(([key]) => !CLI_ONLY.has(key as SettingName))) as Settings;
}
