/**
 * From the command line, the environment and the configuration file to the
 * options wharf serves with (flags > environment > file > defaults; see
 * src/config/merge.ts), plus what the banner says about them.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fromEnvironment } from "../config/env.js";
import { type ConfigFile, loadConfig } from "../config/load.js";
import { mergeSettings, serveSettings, withCliDefaults } from "../config/merge.js";
import { OPTIONS, type Settings } from "../config/registry.js";
import type { ServeOptions } from "../server/serve.js";
import type { TlsCredentials } from "../tls/credentials.js";

/** What {@link settle} decided. */
export interface Settled {
  /** What serve() gets. */
  readonly options: ServeOptions & { readonly root: string };
  /** Every source merged, with the command line's own defaults (workers, open...). */
  readonly settings: Settings;
  readonly config: ConfigFile | undefined;
  /** Extra banner lines: the configuration file. */
  readonly lines: readonly string[];
}

const PATHS = OPTIONS.filter((o) => o.path).map((o) => o.name);

/** The command line's paths (`-d`, `--auth-file`) made absolute against `cwd`, as the environment's are. */
export function located(cli: Settings, cwd: string): Settings {
  const out: Record<string, unknown> = { ...cli };
  for (const name of PATHS) if (typeof out[name] === "string") out[name] = resolve(cwd, out[name] as string);
  return out as Settings;
}

/**
 * Merges `cli` (what the command line wrote, nothing more) with the environment
 * and the configuration file, and `tls` (the credentials the TLS flags made).
 * Throws ConfigError (exit 2).
 */
export async function settle(cli: Settings, tls: TlsCredentials | undefined, env: NodeJS.ProcessEnv, cwd: string): Promise<Settled> {
  // Flags over variables first: they say where the configuration file is.
  const given = mergeSettings(fromEnvironment(env, cwd), located(cli, cwd));
  const config = await loadConfig({ cwd, directory: given.root ?? cwd, explicit: given.config });
  const settings = withCliDefaults(mergeSettings(config?.options, given));
  const root = resolve(settings.root ?? cwd);
  // The command line's 404 page: 404.html when the site has one (checked once, so
  // that a site without one keeps the plain chain).
  const notFound = settings.notFound ?? (existsSync(resolve(root, "404.html")) ? "404.html" : undefined);
  // Never serve the configuration file from the site itself (the password file is
  // hidden by the handler): by its real path, so no rewrite, listing or sidecar
  // reaches it, and with no middleware, so the synchronous fast path stays on.
  const hiddenFiles = [...(settings.hiddenFiles ?? []), ...(config === undefined ? [] : [config.path])];
  const { tls: _dev, ...served } = serveSettings(settings);
  const options = {
    ...served,
    root,
    ...(tls === undefined ? {} : { tls }),
    ...(notFound === undefined ? {} : { notFound }),
    ...(hiddenFiles.length === 0 ? {} : { hiddenFiles }),
  };
  const lines = config === undefined ? [] : [`  config: ${config.path}${config.kind === "serve" ? " (serve.json)" : ""}`];
  return { options, settings, config, lines };
}
