/**
 * The address another device on the same network opens: for `--qr`, the first
 * private LAN address among the bound interfaces. Never `localhost` (a phone
 * would open itself) and never the `Host` a page was requested with (a proxy's
 * or a tunnel's name, which the request chose, not the server).
 */
import { isIP } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import { type BoundAddress, hostForUrl, WILDCARD } from "./bind.js";

/**
 * Whether `address` is private: IPv4 in RFC 1918's blocks (10/8, 172.16/12,
 * 192.168/16), the addresses home and office routers hand out; IPv6 a unique
 * local address (RFC 4193, fc00::/7). Public, loopback, link-local (a phone
 * cannot use a zone id in a URL), CGNAT and documentation ranges are not.
 */
export function isPrivateAddress(address: string): boolean {
  const kind = isIP(address);
  if (kind === 4) {
    const [a = 0, b = 0] = address.split(".").map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (kind === 6) return /^f[cd][0-9a-f]{2}:/i.test(address);
  return false;
}

/** The interfaces as `os.networkInterfaces()` reports them (what is read of them). */
export type Interfaces = NodeJS.Dict<readonly Pick<NetworkInterfaceInfo, "address" | "family" | "internal">[]>;

/**
 * The first private address a device on the LAN reaches this server at, or
 * `undefined`: for a wildcard bind, among the machine's interfaces (IPv4 first:
 * a phone on Wi-Fi nearly always has IPv4, not always a ULA route; IPv6 only on
 * a dual-stack `::` socket); for specific binds, the first of those that is
 * private. In the interfaces' order, as the system lists them.
 */
export function lanAddress(bound: readonly BoundAddress[], interfaces: Interfaces): string | undefined {
  const wildcard = bound.find((a) => WILDCARD.has(a.address));
  const candidates =
    wildcard === undefined
      ? bound.map((a) => ({ address: a.address, family: a.family }))
      : Object.values(interfaces)
          .flatMap((list) => list ?? [])
          .filter((i) => !i.internal && (i.family === "IPv4" || wildcard.family === "IPv6"));
  const privates = candidates.filter((c) => isPrivateAddress(c.address));
  return (privates.find((c) => c.family === "IPv4") ?? privates[0])?.address;
}

/** `scheme://address:port/` for {@link lanAddress}'s answer. */
export function lanUrl(address: string, port: number, scheme: "http" | "https"): string {
  return `${scheme}://${hostForUrl(address)}:${port}/`;
}
