/**
 * `--health`: the two paths an orchestrator probes, answered by the server before
 * the handler (so before auth, rewrites and the SPA fallback, none of which may
 * turn a probe into a login prompt or an index.html), and left out of the access
 * log (static-web-server 237: a probe every few seconds buried the real lines).
 *
 * - `/__wharf/livez`: 200 while the process runs and answers. A liveness probe
 *   that fails gets the container restarted, so it checks nothing else.
 * - `/__wharf/readyz`: 200 once listening with a readable root; 503 from the
 *   first SIGTERM (see {@link RunningServer.drain}), so a load balancer stops
 *   sending new requests while the ones under way finish.
 *
 * The paths live under `/__wharf/` so that they do not shadow a site's own
 * `/health` (pitfall noted in docs/operations.md); without `--health` they are
 * ordinary paths, served from the root like any other.
 */

/** The liveness path. */
export const LIVEZ = "/__wharf/livez";
/** The readiness path. */
export const READYZ = "/__wharf/readyz";

/** Which probe a request-target asks for; `undefined` for any other path. The query is ignored. */
export function probeOf(target: string | undefined): "livez" | "readyz" | undefined {
  if (target === undefined || !target.startsWith("/__wharf/")) return undefined;
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  return path === LIVEZ ? "livez" : path === READYZ ? "readyz" : undefined;
}

/** What readiness is at the moment of a probe. */
export type Readiness =
  | { readonly kind: "ready" }
  /** SIGTERM (or drain()) came: still serving, but send nothing new. */
  | { readonly kind: "draining" }
  /** The root cannot be read (a volume gone, permissions changed). */
  | { readonly kind: "root-unreadable" };

/** A probe's answer. */
export interface ProbeAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent for GET, not for HEAD. */
  readonly body: string;
}

const headersFor = (body: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({
  "content-type": "text/plain; charset=utf-8",
  // A cached "ok" would hide the drain; RFC 9111 §5.2.2.5.
  "cache-control": "no-store",
  "content-length": String(Buffer.byteLength(body)),
  "x-content-type-options": "nosniff",
  ...extra,
});

/**
 * The answer to a probe: GET and HEAD only (RFC 9110 §15.5.6: 405 with `Allow`
 * for the rest); `readiness` only matters for `readyz`.
 */
export function probeAnswer(probe: "livez" | "readyz", method: string | undefined, readiness: Readiness): ProbeAnswer {
  if (method !== "GET" && method !== "HEAD") {
    const body = "method not allowed\n";
    return { status: 405, headers: headersFor(body, { allow: "GET, HEAD" }), body };
  }
  if (probe === "livez") return { status: 200, headers: headersFor("ok\n"), body: "ok\n" };
  const [status, body] =
    readiness.kind === "ready" ? [200, "ok\n"] : readiness.kind === "draining" ? [503, "draining\n"] : [503, "root not readable\n"];
  return { status, headers: headersFor(body), body };
}
