/**
 * What a configuration file or the environment can set: a part of
 * {@link import("../server/serve.js").ServeOptions}, by the same names.
 */
import type { ServeOptions } from "../server/serve.js";

/** The options a wharf.json, a serve.json or WHARF_* variables may set. */
export type ConfigOptions = Partial<
  Pick<
    ServeOptions,
    | "port"
    | "host"
    | "root"
    | "single"
    | "cleanUrls"
    | "trailingSlash"
    | "cors"
    | "headers"
    | "coopCoep"
    | "live"
    | "liveIgnore"
    | "livePoll"
    | "allowedHosts"
    | "notFound"
    | "redirects"
    | "rewrites"
    | "auth"
    | "authFile"
    | "dotfiles"
    | "symlinks"
    | "listing"
    | "unlisted"
    | "compression"
    | "precompressed"
    | "cache"
    | "logFormat"
    | "insecureAuth"
    | "archive"
    | "archiveMaxBytes"
  >
>;

/** A configuration file or variable that cannot be used: exit code 2, one line. */
export class ConfigError extends Error {
  readonly code = "WHARF_CONFIG";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
