/**
 * `--live` (issue 14): pages reload, or swap their stylesheets, when a file
 * under the root changes. Built once from the options; off, it adds nothing to
 * the chain (the hot path is decided at startup).
 *
 * - watch-tree.ts follows the tree; notify() takes changes from build tools;
 * - batch.ts makes one event of a burst of changes;
 * - events.ts sends it to every page's event stream;
 * - middleware.ts answers the routes and puts the tag in pages (page.ts, inject.ts);
 * - hosts.ts is the Host allow-list `--live` turns on.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { OptionError } from "../../core/errors.js";
import { globMatcher } from "../../core/glob.js";
import type { Middleware } from "../../core/types.js";
import type { FileSystem } from "../../fs/types.js";
import { Batcher, type LiveEvent } from "./batch.js";
import { EventHub, eventBlock } from "./events.js";
import { type HostList, hostEntryProblem, hostList } from "./hosts.js";
import { allowedHosts, liveMiddleware, SCRIPT_PATH } from "./middleware.js";
import { PageInjector } from "./page.js";
import { type TreeState, TreeWatcher, type WatchDirectory } from "./watch-tree.js";

/** The most event streams per handler, beside the server's `--max-connections`. */
export const MAX_STREAMS = 10_000;

/** Live reload's options: documented on {@link import("../index.js").FeatureOptions}. */
export interface LiveOptions {
  readonly live?: boolean;
  readonly liveIgnore?: readonly string[];
  readonly livePoll?: number;
  readonly allowedHosts?: readonly string[];
}

/** What the rest of the site tells live reload. */
export interface LiveSite {
  readonly root: string;
  readonly fs: FileSystem;
  /** Dotfiles are watched only when served. */
  readonly dotfiles: "ignore" | "deny" | "allow";
  readonly compression: boolean;
  /** Names a `--tls` certificate is for: allowed hosts too. */
  readonly certificateNames?: readonly string[];
  /** Lines for the operator. */
  readonly warn?: (line: string) => void;
  /** Tests: a directory watch that fails. */
  readonly watchDirectory?: WatchDirectory;
}

/** Live reload as built: its middleware and its controls. */
export interface Live {
  /** Outermost middleware: Host allow-list, then the live routes and tag. */
  readonly middleware: readonly Middleware[];
  /** Whether live reload is on (the allow-list may be on alone). */
  readonly on: boolean;
  /**
   * The names this server answers to (this machine's, the certificate's, the
   * operator's `allowedHosts`), built whether or not the allow-list is on:
   * uploads refuse writes without credentials from any other `Host` (a rebound
   * page, src/features/upload).
   */
  readonly hosts: HostList;
  /** Tells the pages that these paths changed (file-system paths, absolute or relative to the root). */
  notify(paths: readonly string[]): void;
  /** Stops watching and ends every event stream with a last event. */
  close(): void;
  /** Settles when the tree is watched: how, and how many directories. */
  readonly ready: Promise<TreeState | undefined>;
}

function stringList(name: string, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== ""))
    throw new OptionError(name, "must be a list of non-empty strings");
  return value as readonly string[];
}

/**
 * Checks the options and builds live reload and the Host allow-list; nothing
 * when both are off. `gate`: the authentication the site is behind, which the
 * live routes pass too.
 */
export function buildLive(o: LiveOptions, site: LiveSite, gate?: Middleware): Live {
  if (o.live !== undefined && typeof o.live !== "boolean") throw new OptionError("live", "must be true or false");
  const ignore = stringList("liveIgnore", o.liveIgnore);
  const poll = o.livePoll ?? 0;
  if (!Number.isSafeInteger(poll) || poll < 0 || (poll > 0 && poll < 50))
    throw new OptionError("livePoll", "must be 0 or a whole number of milliseconds from 50");
  const hosts = o.allowedHosts === undefined ? undefined : stringList("allowedHosts", o.allowedHosts);
  for (const h of hosts ?? []) {
    const problem = hostEntryProblem(h);
    if (problem !== undefined) throw new OptionError("allowedHosts", problem);
  }
  const live = o.live === true;
  const middleware: Middleware[] = [];
  const name = hostname().toLowerCase();
  const known = hostList([...(hosts ?? []), name, `${name}.local`, ...(site.certificateNames ?? [])]);
  if (hosts !== undefined || live) middleware.push(allowedHosts(known));
  if (!live) {
    return { middleware, on: false, hosts: known, notify: () => undefined, close: () => undefined, ready: Promise.resolve(undefined) };
  }

  const warn = site.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const instance = randomBytes(6).toString("base64url");
  const hub = new EventHub(instance, MAX_STREAMS);
  const batcher = new Batcher((event: LiveEvent) => {
    hub.send(event.kind === "css" ? eventBlock("css", JSON.stringify(event.paths)) : eventBlock("reload", "{}"));
  });
  const ignored = ignore.map((g) => globMatcher(g, { dot: true }));
  const skip = (rel: string, name: string): boolean =>
    name === "node_modules" ||
    (site.dotfiles !== "allow" && name.startsWith(".") && !(rel === ".well-known" || rel.startsWith(".well-known/"))) ||
    ignored.some((m) => m(rel));
  const watcher = new TreeWatcher({
    root: site.root,
    skip,
    changed: (rel) => batcher.add(`/${rel}`),
    warn,
    pollMs: poll,
    ...(site.watchDirectory === undefined ? {} : { watchDirectory: site.watchDirectory }),
  });
  const injector = new PageInjector(site.fs, `${SCRIPT_PATH}?v=${instance}`, site.compression, warn);
  middleware.push(liveMiddleware({ hub, injector, ...(gate === undefined ? {} : { gate }) }));
  return {
    middleware,
    on: true,
    hosts: known,
    notify(paths) {
      if (!Array.isArray(paths)) throw new TypeError("notify takes a list of paths");
      for (const p of paths) {
        if (typeof p !== "string") continue;
        // A URL path ("/css/a.css") or a file-system path inside the root.
        const abs = isAbsolute(p) ? p : resolve(site.root, p);
        const rel = relative(site.root, abs);
        if (rel.startsWith("..") || isAbsolute(rel)) {
          if (p.startsWith("/")) batcher.add(p);
          continue;
        }
        batcher.add(`/${rel.split(sep).join("/")}`);
      }
    },
    close() {
      watcher.close();
      batcher.close();
      hub.close();
    },
    ready: watcher.ready,
  };
}
