/**
 * What keeps one HTTP/2 connection from holding what it has not paid for: the
 * header list it may send, the responses (and so the open files) it may have in
 * progress, and how long output may wait for a client that does not read.
 *
 * A client controls how fast the server may send: with SETTINGS_INITIAL_WINDOW_SIZE
 * 0 (RFC 9113 §6.9.2) no DATA frame can leave, and a response that opened its file
 * holds the descriptor until the client lets it finish. 100 such streams on one
 * connection pinned 100 descriptors for as long as it stayed open. So responses per
 * connection are capped ({@link ResponseGate}) and output that makes no progress for
 * the send timeout ends the stream or the connection ({@link SendWatch}).
 */

/**
 * RFC 9113 §6.5.2: the size of a header list is the sum of each field's name and
 * value length in octets plus 32 (RFC 7541 §4.1), pseudo-header fields included.
 * `rawHeaders` alternates names and values as Node gives them; Node decodes
 * each octet to one character, so length is octets.
 */
export function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  for (const field of rawHeaders) size += field.length;
  return size + 16 * rawHeaders.length; // 32 per name-value pair
}

/** How a watched output (a stream, a connection) is doing at one look. */
export type SendState =
  /**
   * Nothing waits to be sent, or what waits changed since the last look; `moved`
   * when bytes that waited then have left (what waits only grows when the
   * writer is not blocked: it writes more once it has drained).
   */
  | { readonly kind: "progress"; readonly moved: boolean }
  /** Output waits, unchanged, for less than the send timeout so far. */
  | { readonly kind: "waiting"; readonly sinceMs: number }
  /** Output has waited, unchanged, for the whole send timeout: the client is not reading. */
  | { readonly kind: "stalled"; readonly sinceMs: number };

/**
 * Send progress seen from outside, by sampling how many bytes wait to be sent
 * (`Http2Stream.bufferSize`, `Socket.writableLength`): nginx's `send_timeout`,
 * "between two successive write operations". Node exposes no per-stream count of
 * bytes sent, but a writer whose output leaves sees the amount waiting change
 * (or reach 0) between looks; one blocked by a closed window or a full socket sees
 * the same number look after look.
 */
export class SendWatch {
  #waiting = 0;
  #since: number;
  constructor(now: number) {
    this.#since = now;
  }

  /** Records one look: `waiting` bytes are buffered at time `now` (ms). */
  look(waiting: number, now: number, timeoutMs: number): SendState {
    if (waiting === 0 || waiting !== this.#waiting) {
      const moved = this.#waiting > 0 && waiting !== this.#waiting;
      this.#waiting = waiting;
      this.#since = now;
      return { kind: "progress", moved };
    }
    const sinceMs = now - this.#since;
    return sinceMs >= timeoutMs ? { kind: "stalled", sinceMs } : { kind: "waiting", sinceMs };
  }

  /** When output last moved (or the watch started), in ms. */
  get lastProgress(): number {
    return this.#since;
  }
}

/**
 * At most `limit` responses in progress per connection; the streams past it wait,
 * in order, without being handed to the handler (so without opening a file).
 *
 * Why a cap and not "open the file only when the stream can send": Node does not
 * expose a stream's send window, only the connection's, and a client can open a
 * stream's window by one byte at a time to pass any such test. A cap bounds
 * descriptors per connection by construction: each response holds at most one
 * open file, so a connection costs at most `limit` files plus its socket.
 */
export class ResponseGate<T> {
  readonly #limit: number;
  readonly #start: (item: T, done: () => void) => void;
  readonly #queue: T[] = [];
  #active = 0;

  /** `start(item, done)` begins a response; it calls `done` when the response is over (more calls are ignored). */
  constructor(limit: number, start: (item: T, done: () => void) => void) {
    this.#limit = limit;
    this.#start = start;
  }

  /** Starts `item` now if a slot is free, else when one is. */
  admit(item: T): void {
    if (this.#active >= this.#limit) this.#queue.push(item);
    else this.#run(item);
  }

  /** Responses in progress. */
  get active(): number {
    return this.#active;
  }

  /** Streams waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  #run(item: T): void {
    this.#active++;
    let released = false;
    this.#start(item, () => {
      if (released) return;
      released = true;
      this.#active--;
      const next = this.#queue.shift();
      if (next !== undefined) this.#run(next);
    });
  }
}
