/**
 * A cap on the idle connections kept over TLS.
 *
 * A connection is idle between its requests: a keep-alive HTTP/1.1 connection
 * after a response, with no request under way (before its first request,
 * `headersTimeout` bounds it), an HTTP/2 session with no open stream. An idle
 * plain-HTTP connection costs the server about 14 KiB; over TLS, about 54 KiB
 * (measured: 1,000 of them took RSS from 71 to 123 MiB; OpenSSL's state and
 * Node's TLS input buffer, which keeps the 64 KiB it was given for its first
 * read). So 10,000 of them, the default `maxConnections`, would be over half a
 * gigabyte. A client that opens connections, makes one request on each and leaves
 * them open (the attack's `idle` class: about 600 at a time with a 5 s
 * keep-alive) made a TLS server's peak RSS 30-40 MiB higher than the same client
 * over plain HTTP.
 *
 * nginx closes idle keep-alive connections when it runs short of connections
 * (`ngx_drain_connections`); here the idle ones over TLS are capped by count:
 * past {@link IDLE_TLS_CONNECTIONS}, the one idle longest is closed. Closing an
 * idle connection is always allowed (RFC 9112 §9.3; an HTTP/2 session gets a
 * GOAWAY, RFC 9113 §6.8): a client opens a new one when it next wants one, as it
 * does after the keep-alive timeout. Plain HTTP is not capped: its idle
 * connections cost a quarter as much and are bounded by `maxConnections`.
 */

/**
 * Idle connections kept over TLS: about 14 MiB at 54 KiB each. A browser keeps
 * one HTTP/2 session (or up to six HTTP/1.1 connections) per server, so this is
 * a few hundred visitors between two clicks; the ones idle longest go first.
 */
export const IDLE_TLS_CONNECTIONS = 256;

/**
 * The idle connections, oldest first, at most `limit` of them. A pure record:
 * it closes nothing itself, it says which connection to close.
 */
export class IdleBudget<K> {
  /** Insertion order is idleness order: a Set iterates oldest first. */
  readonly #idle = new Set<K>();

  constructor(readonly limit: number) {}

  /**
   * `key` has nothing under way now. Returns the connection idle longest when
   * there are more than `limit` (possibly `key` itself with a limit of 0),
   * already forgotten here, for the caller to close; otherwise undefined.
   */
  idle(key: K): K | undefined {
    this.#idle.delete(key); // idle again: it moves to the end
    this.#idle.add(key);
    if (this.#idle.size <= this.limit) return undefined;
    const oldest = this.#idle.values().next().value as K;
    this.#idle.delete(oldest);
    return oldest;
  }

  /** `key` has a request under way, or has closed: not idle. */
  busy(key: K): void {
    this.#idle.delete(key);
  }

  /** How many are idle right now. */
  get size(): number {
    return this.#idle.size;
  }
}
