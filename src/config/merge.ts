/**
 * Who wins: a flag on the command line, then an environment variable, then the
 * configuration file, then wharf's default. Lists merge instead where that is
 * what a person means: `-H` headers come after the file's rules (so they win for
 * the same name), `--cache` rules before the file's (first match wins).
 */
import type { ServeOptions } from "../server/listen.js";
import type { ConfigOptions } from "./types.js";

/** For each option a file or variable can set, the flags that set it on the command line. */
const FLAGS_FOR: { readonly [K in keyof Required<ConfigOptions>]: readonly string[] } = {
  port: ["port"],
  host: ["bind"],
  root: ["directory"],
  single: ["single"],
  cleanUrls: ["clean-urls"],
  trailingSlash: ["trailing-slash"],
  cors: ["cors"],
  headers: [],
  coopCoep: ["coop-coep"],
  notFound: ["404"],
  redirects: [],
  rewrites: [],
  auth: ["auth"],
  authFile: ["auth-file"],
  dotfiles: ["dotfiles"],
  symlinks: ["follow-symlinks"],
  listing: ["no-listing", "readme"],
  unlisted: [],
  compression: ["no-compression"],
  precompressed: ["no-compression"],
  cache: [],
  logFormat: ["log-format"],
  insecureAuth: ["insecure-auth"],
};

/**
 * `cli` is what the command line alone means (with wharf's defaults for what it
 * does not say); `given` names the flags actually written (`"port"` for the
 * positional port). Returns the options to serve with.
 */
export function mergeOptions(
  cli: ServeOptions,
  given: ReadonlySet<string>,
  env: ConfigOptions,
  file: ConfigOptions | undefined,
): ServeOptions {
  const out: Record<string, unknown> = { ...cli };
  for (const key of Object.keys(FLAGS_FOR) as (keyof ConfigOptions)[]) {
    if (FLAGS_FOR[key].some((flag) => given.has(flag))) continue;
    const value = env[key] !== undefined ? env[key] : file?.[key];
    if (value !== undefined) out[key] = value;
  }
  // Lists: the file's rules with the command line's.
  if (file?.headers !== undefined) out["headers"] = [...file.headers, ...(cli.headers ?? [])];
  if (file?.cache !== undefined) out["cache"] = [...(cli.cache ?? []), ...file.cache];
  // No port anywhere: serve()'s default, which moves on when 8000 is busy.
  if (!given.has("port") && env.port === undefined && file?.port === undefined) delete out["port"];
  return out as ServeOptions;
}
