/**
 * The server-sent event streams of `/__wharf/events` (HTML Living Standard
 * §9.2): one small queue per page, a comment ping every 15 s (so proxies and
 * idle timeouts see traffic, and a page that left is noticed at the next write),
 * and a last event to each when the server stops, so none holds up shutdown.
 *
 * Bounded: at most `maxClients` streams (past it, 503), each holding at most
 * {@link MAX_QUEUED} bytes not yet written (a page that stops reading is dropped).
 */

/** Between pings. */
export const PING_MS = 15_000;
/** Bytes queued for one stream before it is dropped. */
export const MAX_QUEUED = 64 * 1024;
/** Reconnection delay asked of the browser (the `retry` field). */
export const RETRY_MS = 500;

const encoder = new TextEncoder();

/** One `event:`/`data:` block; data is one line (JSON). */
export function eventBlock(event: string, data: string): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${data}\n\n`);
}

class Client implements AsyncIterableIterator<Uint8Array> {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private waiting: ((r: IteratorResult<Uint8Array>) => void) | undefined;
  ended = false;

  constructor(private readonly leave: (c: Client) => void) {}

  push(bytes: Uint8Array): void {
    if (this.ended) return;
    if (this.queued + bytes.length > MAX_QUEUED) {
      this.end();
      return;
    }
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w({ value: bytes, done: false });
      return;
    }
    this.queue.push(bytes);
    this.queued += bytes.length;
  }

  /** Ends the stream after what is queued. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.leave(this);
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const bytes = this.queue.shift();
    if (bytes !== undefined) {
      this.queued -= bytes.length;
      return Promise.resolve({ value: bytes, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** The adapter stops reading (the client went away). */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.queue = [];
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Every open stream, and what is sent to all of them. */
export class EventHub {
  private readonly clients = new Set<Client>();
  private ping: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly instance: string,
    readonly maxClients: number,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Whether another stream may open now. */
  get full(): boolean {
    return this.closed || this.clients.size >= this.maxClients;
  }

  /** A new stream, starting with `retry` and `hello`; one that ends at once when full or closed. */
  connect(): AsyncIterableIterator<Uint8Array> {
    const client = new Client((c) => this.left(c));
    if (this.full) {
      client.ended = true;
      return client;
    }
    this.clients.add(client);
    client.push(encoder.encode(`retry: ${RETRY_MS}\n`));
    client.push(eventBlock("hello", JSON.stringify({ id: this.instance })));
    if (this.ping === undefined) {
      this.ping = setInterval(() => this.send(encoder.encode(": ping\n\n")), PING_MS);
      this.ping.unref();
    }
    return client;
  }

  private left(c: Client): void {
    this.clients.delete(c);
    if (this.clients.size === 0 && this.ping !== undefined) {
      clearInterval(this.ping);
      this.ping = undefined;
    }
  }

  send(bytes: Uint8Array): void {
    for (const c of [...this.clients]) c.push(bytes);
  }

  /** A last event (`bye`) to every stream, which then ends; no stream opens after. */
  close(): void {
    this.closed = true;
    const bye = eventBlock("bye", "{}");
    for (const c of [...this.clients]) {
      c.push(bye);
      c.end();
    }
  }
}
