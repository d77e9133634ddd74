/**
 * The server-sent event streams of `/__wharf/events` (HTML Living Standard
 * §9.2): one small queue per page, a comment ping every 15 s (so proxies and
 * idle timeouts see traffic, and a page that left is noticed at the next write),
 * and a last event to each when the server stops, so none holds up shutdown.
 *
 * Bounded: at most `maxClients` streams (past it, 503), at most `perAddress` of
 * them from one client address (so one client cannot take every slot), each
 * holding at most {@link MAX_QUEUED} bytes not yet written (a page that stops
 * reading is dropped).
 */

/** Between pings. */
export const PING_MS = 15_000;
/** Bytes queued for one stream before it is dropped. */
export const MAX_QUEUED = 64 * 1024;
/**
 * Streams one client address may hold at once. A browser opens one per open page,
 * and over HTTP/1.1 holds at most six connections to a server, so a person's tabs
 * stay far below it; a client opening streams in a loop stops here.
 */
export const MAX_STREAMS_PER_ADDRESS = 64;
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
  /** Open streams per client address; an address with none has no entry. */
  private readonly byAddress = new Map<string, number>();
  private ping: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly instance: string,
    readonly maxClients: number,
    readonly perAddress: number = MAX_STREAMS_PER_ADDRESS,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Whether another stream may open now (from `address`, when given). */
  full(address?: string): boolean {
    if (this.closed || this.clients.size >= this.maxClients) return true;
    return address !== undefined && (this.byAddress.get(address) ?? 0) >= this.perAddress;
  }

  /**
   * A new stream for a client at `address`, starting with `retry` and `hello`; one
   * that ends at once when full (for that address) or closed.
   */
  connect(address?: string): AsyncIterableIterator<Uint8Array> {
    const client = new Client((c) => this.left(c, address));
    if (this.full(address)) {
      client.ended = true;
      return client;
    }
    this.clients.add(client);
    if (address !== undefined) this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    client.push(encoder.encode(`retry: ${RETRY_MS}\n`));
    client.push(eventBlock("hello", JSON.stringify({ id: this.instance })));
    if (this.ping === undefined) {
      this.ping = setInterval(() => this.send(encoder.encode(": ping\n\n")), PING_MS);
      this.ping.unref();
    }
    return client;
  }

  private left(c: Client, address: string | undefined): void {
    this.clients.delete(c);
    if (address !== undefined) {
      const open = (this.byAddress.get(address) ?? 1) - 1;
      if (open > 0) this.byAddress.set(address, open);
      else this.byAddress.delete(address);
    }
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
