/**
 * What a batch of changes means to a page, and the batching itself: a 100 ms
 * trailing debounce, so an editor's atomic save (write a temporary file, rename
 * it over the old one: three or four events) or a `git checkout` of a thousand
 * files is one reload, not many.
 */

/** What the pages are told. */
export type LiveEvent = { readonly kind: "reload" } | { readonly kind: "css"; readonly paths: readonly string[] };

/** The trailing debounce: events closer than this are one batch. */
export const DEBOUNCE_MS = 100;
/** A batch that keeps growing (a build writing for seconds) is sent after this at the latest. */
export const MAX_WAIT_MS = 3000;
/** Paths kept per batch; more means "reload" (a stylesheet swap of hundreds of files is no longer a swap). */
export const MAX_PATHS = 256;
/**
 * The most bytes of paths (as JSON) a `css` event carries; past it, `reload`.
 * Each stream queues at most events.ts `MAX_QUEUED` (64 KiB) and is dropped when
 * one event would not fit: 256 long paths (or one from notify()) made a `css`
 * event bigger than that, which ended every page's stream without the change,
 * and the pages reconnected to the same instance and never reloaded.
 */
export const MAX_CSS_EVENT_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/**
 * The event for a batch of changed URL paths: `css` when every one is a
 * stylesheet (the page decides whether it links them all), else `reload`.
 */
export function eventFor(paths: ReadonlySet<string>, overflow: boolean): LiveEvent {
  if (overflow || paths.size === 0) return { kind: "reload" };
  for (const p of paths) if (!p.toLowerCase().endsWith(".css")) return { kind: "reload" };
  const sorted = [...paths].sort();
  if (encoder.encode(JSON.stringify(sorted)).length > MAX_CSS_EVENT_BYTES) return { kind: "reload" };
  return { kind: "css", paths: sorted };
}

/** Collects URL paths and calls `flush` once per batch. */
export class Batcher {
  private paths = new Set<string>();
  private overflow = false;
  private timer: NodeJS.Timeout | undefined;
  private first = 0;

  constructor(
    private readonly flush: (event: LiveEvent) => void,
    private readonly delayMs = DEBOUNCE_MS,
  ) {}

  add(path: string): void {
    if (this.paths.size < MAX_PATHS) this.paths.add(path);
    else if (!this.paths.has(path)) this.overflow = true;
    const now = Date.now();
    if (this.timer === undefined) this.first = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.delayMs, this.first + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => this.send(), wait);
    this.timer.unref();
  }

  private send(): void {
    const event = eventFor(this.paths, this.overflow);
    this.paths = new Set();
    this.overflow = false;
    this.timer = undefined;
    this.flush(event);
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
