/**
 * Binding sockets the way people expect: `::` dual-stack by default (falling back
 * to `0.0.0.0` without IPv6), both loopbacks for `localhost`, and listen errors a
 * person can act on.
 */
import { isIP, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { codeOf, ServeError } from "../core/errors.js";

/** One socket the server listens on. */
export interface BoundAddress {
  /** The address as the socket reports it (`127.0.0.1`, `::`). */
  readonly address: string;
  readonly family: "IPv4" | "IPv6";
  /** The port bound (the one the system chose, for port 0). */
  readonly port: number;
}

const UNAVAILABLE = new Set(["EAFNOSUPPORT", "EADDRNOTAVAIL"]);
export const WILDCARD = new Set(["::", "0.0.0.0"]);

export function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host.replace(/%/g, "%25")}]` : host;
}

/** The error a person can act on, for a failed `listen()`. */
function listenError(err: unknown, host: string, port: number): Error {
  const code = codeOf(err) ?? "WHARF_LISTEN_FAILED";
  const where = WILDCARD.has(host) ? "all interfaces" : host;
  if (code === "EADDRINUSE") return new ServeError(code, `port ${port} is already in use on ${where}`, { cause: err });
  if (code === "EACCES") return new ServeError(code, `permission denied to listen on port ${port}`, { cause: err });
  // getaddrinfo failed: the name does not resolve (ENOTFOUND), or not now (EAI_AGAIN).
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
    return new ServeError(code, `cannot resolve host name ${host}`, { cause: err });
  }
  if (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT") {
    return new ServeError(code, `cannot bind to address ${host}`, { cause: err });
  }
  return new ServeError(code, `cannot listen on ${hostForUrl(host)}:${port}: ${(err as Error).message}`, { cause: err });
}

/**
 * Whether this Node can bind with `SO_REUSEPORT` (`reusePort`, Node 22.12 and
 * 23.1), on a system where the kernel then spreads connections over the sockets
 * (Linux 3.9, FreeBSD 12). Earlier versions ignore the option, so a second bind
 * would fail with EADDRINUSE.
 */
export function reusePortAvailable(version = process.versions.node, platform = process.platform): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const node = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  return node && (platform === "linux" || platform === "freebsd");
}

function listen(server: Server, host: string, port: number, reusePort: boolean): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => reject(listenError(err, host, port));
    server.once("error", fail);
    // ipv6Only false: on `::` one socket takes IPv4 too, whatever the OS default.
    // reusePort: a socket of this process's own (exclusive: not the cluster
    // primary's shared one), which other processes may bind too.
    server.listen({ host, port, ipv6Only: false, ...(reusePort ? { reusePort: true, exclusive: true } : {}) }, () => {
      server.off("error", fail);
      const a = server.address();
      if (a === null || typeof a === "string") return fail(new Error("not a TCP socket"));
      resolve({ address: a.address, family: String(a.family).endsWith("6") ? "IPv6" : "IPv4", port: a.port });
    });
  });
}

/**
 * Binds as {@link ServeOptions.host} promises. `make()` creates (and registers) a
 * server for each socket; `discard()` closes them all before a retry.
 */
export async function bind(
  make: () => Server,
  discard: () => Promise<unknown>,
  host: string | undefined,
  port: number,
  reusePort = false,
): Promise<BoundAddress[]> {
  if (host === undefined) {
    try {
      return [await listen(make(), "::", port, reusePort)];
    } catch (err) {
      if (!UNAVAILABLE.has(codeOf(err) ?? "")) throw err;
      await discard(); // no IPv6 on this machine
      return [await listen(make(), "0.0.0.0", port, reusePort)];
    }
  }
  if (host.toLowerCase() !== "localhost") return [await listen(make(), host, port, reusePort)];
  // Node would bind whichever address `localhost` resolves to first, and a browser
  // trying the other one would find nothing there (or someone else's server).
  for (let attempt = 1; ; attempt++) {
    const v4 = await listen(make(), "127.0.0.1", port, reusePort);
    try {
      return [v4, await listen(make(), "::1", v4.port, reusePort)];
    } catch (err) {
      const code = codeOf(err) ?? "";
      if (UNAVAILABLE.has(code)) return [v4]; // no IPv6 loopback on this machine
      // The free port we got on 127.0.0.1 is taken on ::1: try another.
      if (code !== "EADDRINUSE" || port !== 0 || attempt === 5) throw err;
      await discard();
    }
  }
}

/** Non-loopback addresses of this machine, to click from another device. */
export function networkUrls(ipv6: boolean, port: number, scheme: "http" | "https" = "http"): string[] {
  const urls: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      // Link-local IPv6 needs a zone id no browser accepts in a URL.
      if (i.internal || (i.family === "IPv6" && (!ipv6 || /^fe80:/i.test(i.address)))) continue;
      urls.push(`${scheme}://${hostForUrl(i.address)}:${port}/`);
    }
  }
  return urls;
}

/**
 * URLs a person can open, with the real port: `localhost` and, for a wildcard
 * bind, this machine's network addresses; else the host name or addresses asked for.
 */
export function urlsOf(addresses: readonly BoundAddress[], host: string | undefined, scheme: "http" | "https"): string[] {
  const realPort = addresses[0]!.port;
  const wildcard = addresses.find((a) => WILDCARD.has(a.address));
  return wildcard !== undefined
    ? [`${scheme}://localhost:${realPort}/`, ...networkUrls(wildcard.family === "IPv6", realPort, scheme)]
    : host !== undefined && isIP(host) === 0
      ? [`${scheme}://${host}:${realPort}/`]
      : addresses.map((a) => `${scheme}://${hostForUrl(a.address)}:${a.port}/`);
}
