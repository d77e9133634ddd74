/**
 * From the command line, the environment and the configuration file to the
 * options wharf serves with (flags > environment > file > defaults; see
 * src/config/merge.ts), plus what the banner says about them.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fromEnvironment } from "../config/env.js";
import { type ConfigFile, loadConfig } from "../config/load.js";
import { mergeOptions } from "../config/merge.js";
import type { ServeOptions } from "../server/serve.js";
import type { CliApp, CliOptions } from "./flags.js";

/** The options of the app flags, by the library's names. */
export function appOptions(app: CliApp | undefined, cwd: string): ServeOptions {
  if (app === undefined) return {};
  return {
    ...(app.single === undefined ? {} : { single: app.single }),
    ...(app.cleanUrls === undefined ? {} : { cleanUrls: true }),
    ...(app.trailingSlash === undefined ? {} : { trailingSlash: app.trailingSlash }),
    ...(app.cors === undefined ? {} : { cors: app.cors }),
    ...(app.headers === undefined ? {} : { headers: [{ source: "**", headers: Object.fromEntries(app.headers.map((h) => [h.name, h.value])) }] }),
    ...(app.coopCoep === undefined ? {} : { coopCoep: true }),
    ...(app.notFound === undefined ? {} : { notFound: app.notFound }),
    ...(app.auth === undefined ? {} : { auth: app.auth }),
    ...(app.authFile === undefined ? {} : { authFile: resolve(cwd, app.authFile) }),
    ...(app.insecureAuth === undefined ? {} : { insecureAuth: true }),
    ...(app.logFormat === undefined ? {} : { logFormat: app.logFormat }),
  };
}

/** What {@link settle} decided. */
export interface Settled {
  readonly options: ServeOptions & { readonly root: string };
  readonly config: ConfigFile | undefined;
  /** Extra banner lines: the configuration file, the features on. */
  readonly lines: readonly string[];
}

/**
 * Merges `cli` (what {@link import("./main.js")} made of the flags alone) with the
 * environment and the configuration file. Throws ConfigError (exit 2).
 */
export async function settle(
  cli: ServeOptions & { readonly root: string },
  cliOptions: CliOptions,
  given: ReadonlySet<string>,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Settled> {
  const fromEnv = fromEnvironment(env, cwd);
  const directory = given.has("directory") ? cli.root : fromEnv.options.root ?? cli.root;
  const config = await loadConfig({ cwd, directory, explicit: cliOptions.app?.config ?? fromEnv.config });
  const merged = mergeOptions(cli, given, fromEnv.options, config?.options);
  const root = resolve(merged.root ?? cli.root);
  // The command line's 404 page: 404.html when the site has one (checked once, so
  // that a site without one keeps the plain chain).
  const notFound = merged.notFound ?? (existsSync(resolve(root, "404.html")) ? "404.html" : undefined);
  // Never serve the configuration file from the site itself (the password file is
  // hidden by the handler): by its real path, so no rewrite, listing or sidecar
  // reaches it, and with no middleware, so the synchronous fast path stays on.
  const hiddenFiles = [...(merged.hiddenFiles ?? []), ...(config === undefined ? [] : [config.path])];
  const options = {
    ...merged,
    root,
    ...(notFound === undefined ? {} : { notFound }),
    ...(hiddenFiles.length === 0 ? {} : { hiddenFiles }),
  };
  const lines = config === undefined ? [] : [`  config: ${config.path}${config.kind === "serve" ? " (serve.json)" : ""}`];
  return { options, config, lines };
}
