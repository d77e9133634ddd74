/**
 * What the responders are built from: the handler's options after validation
 * (src/handler/options.ts `resolveOptions` produces them, with every default
 * applied), as far as serving files reads them. Declared here, in the layer
 * that reads them, so that the responders do not import the layer above.
 */
import type { Middleware } from "../core/types.js";
import type { FileSystem } from "../fs/types.js";
import type { CachePolicy } from "../http/cache-policy.js";
import type { DotfilePolicy, SymlinkPolicy } from "../path/visibility.js";
import type { ArchiveFormat } from "./archive/route.js";
import type { ListingSettings } from "./listing/resource.js";

/** The static handler's settings, every value checked; see `StaticOptions` for each. */
export interface StaticFilesOptions {
  readonly root: string;
  readonly dotfiles: DotfilePolicy;
  readonly symlinks: SymlinkPolicy;
  readonly index: readonly string[];
  readonly listing: boolean;
  /** How listings are made: formats, default order, page size, README. */
  readonly listingSettings: ListingSettings;
  readonly cacheControl: string;
  readonly compression: boolean;
  readonly precompressed: boolean;
  /** Cache-Control by path (decoded, relative to the root), compiled from `cache`. */
  readonly cachePolicy: CachePolicy;
  readonly hashLimit: number;
  /** Repr-Digest and Content-Digest (RFC 9530) on files' responses. */
  readonly digest: boolean;
  readonly maxRanges: number;
  readonly revalidateMs: number;
  readonly cacheFileBytes: number;
  readonly cacheBytes: number;
  /** The user's middleware around the static handler: with any, cached replies are copied. */
  readonly use: readonly Middleware[];
  readonly fs: FileSystem;
  /** Whether a listing leaves an entry out, compiled from `unlisted`. */
  readonly unlisted: (name: string) => boolean;
  /** Absolute paths of the files never served (`hiddenFiles` and `authFile`), not yet canonical. */
  readonly hiddenFiles: readonly string[];
  /** Archive formats offered on directory URLs (`?download=`); none when empty. */
  readonly archive: readonly ArchiveFormat[];
  /** The most uncompressed bytes one archive may carry; `0`: no limit. */
  readonly archiveMaxBytes: number;
}
