/**
 * The host names and addresses a TLS server answers for: its certificate's names
 * (RFC 6125), its addresses, and `localhost` when it listens on loopback or on
 * every interface. Used to decide whether a plain-HTTP request's `Host` may be
 * sent back in a redirect: reflecting any `Host` makes this server an open
 * redirector for whoever can make a browser send it one.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { ipBytes } from "./generate.js";

/** Names and addresses, normalised: DNS names in lower case (maybe `*.` wildcards), IPs as hex bytes. */
export interface HostNames {
  readonly dns: ReadonlySet<string>;
  readonly ips: ReadonlySet<string>;
}

/** An IP literal as hex bytes, with IPv4-mapped IPv6 (`::ffff:127.0.0.1`) as its IPv4 address. */
function ipKey(ip: string): string {
  const bytes = ipBytes(ip);
  const mapped = bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return Buffer.from(mapped ? bytes.subarray(12) : bytes).toString("hex");
}

/** `0.0.0.0` and `::`: every address of the machine, none in particular. */
const WILDCARD = new Set(["00000000", "0".repeat(32)]);
/** `::1`; all of 127.0.0.0/8 is loopback too. */
const IPV6_LOOPBACK = `${"0".repeat(31)}1`;

/**
 * The names in `cert` (PEM; the first certificate of a chain): its subjectAltName
 * DNS and IP entries, or, for an old certificate without them, its subject CN
 * (RFC 6125 §6.4.4).
 */
export function certificateNames(cert: string | Uint8Array): HostNames {
  const dns = new Set<string>();
  const ips = new Set<string>();
  let x509: X509Certificate | undefined;
  try {
    x509 = new X509Certificate(Buffer.from(cert));
  } catch {
    x509 = undefined; // checked at startup; nothing to add if it cannot be read here
  }
  // OpenSSL's form: "DNS:localhost, IP Address:127.0.0.1"; an entry with a comma is quoted and skipped.
  for (const entry of (x509?.subjectAltName ?? "").split(", ")) {
    if (entry.startsWith("DNS:")) dns.add(entry.slice(4).toLowerCase());
    else if (entry.startsWith("IP Address:") && isIP(entry.slice(11)) !== 0) ips.add(ipKey(entry.slice(11)));
  }
  if (dns.size === 0 && ips.size === 0) {
    const cn = /^CN=(.+)$/m.exec(x509?.subject ?? "")?.[1];
    if (cn !== undefined) dns.add(cn.toLowerCase());
  }
  return { dns, ips };
}

/**
 * `names` and the `addresses` this server listens on or was reached at, with
 * `localhost` when one of them is loopback or the wildcard (`::`, `0.0.0.0`).
 */
export function withAddresses(names: HostNames, addresses: readonly string[]): HostNames {
  const dns = new Set(names.dns);
  const ips = new Set(names.ips);
  for (const address of addresses) {
    if (isIP(address.replace(/%.*$/, "")) === 0) continue;
    const key = ipKey(address);
    if (!WILDCARD.has(key)) ips.add(key);
    if (WILDCARD.has(key) || key === IPV6_LOOPBACK || (key.length === 8 && key.startsWith("7f"))) dns.add("localhost");
  }
  return { dns, ips };
}

/**
 * Whether `host` (a `Host` field's host, without port; an IPv6 literal in
 * brackets) is one of `names`. A wildcard covers exactly one left-most label
 * (RFC 6125 §6.4.3: `*.example.com` covers `a.example.com`, not `example.com`
 * or `a.b.example.com`). One trailing dot (`localhost.`) is the same name.
 */
export function coversHost(names: HostNames, host: string): boolean {
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return (literal === host) === (isIP(literal) === 4) && names.ips.has(ipKey(literal));
  const name = host.toLowerCase().replace(/\.$/, "");
  if (names.dns.has(name)) return true;
  const dot = name.indexOf(".");
  return dot > 0 && names.dns.has(`*${name.slice(dot)}`);
}
