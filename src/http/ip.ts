/**
 * IP addresses and address ranges as text and bytes, for deciding which peers are
 * trusted proxies (forwarded.ts). Pure: `node:net` would do the parsing, but the
 * HTTP rules load no I/O module (docs/design.md, "Layers").
 *
 * Every address is held as 16 bytes; IPv4 as its IPv4-mapped IPv6 form
 * (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), so one range test covers both, and a
 * dual-stack socket's `::ffff:127.0.0.1` is the same peer as `127.0.0.1`.
 */

/** An address as 16 bytes (IPv4 mapped into IPv6). */
export type IpBytes = Uint8Array;

/** A range: the first `bits` bits of `bytes`. */
export interface IpRange {
  readonly bytes: IpBytes;
  readonly bits: number;
}

/**
 * Dotted-quad IPv4 (`192.0.2.1`) written into `out` from `at`; false when it is not
 * one. Leading zeros are refused: `010.0.0.1` is 8.0.0.1 to some parsers and
 * 10.0.0.1 to others. By hand, a character at a time: with a proxy trusted, every
 * request parses its peer's address and a forwarded one (split and a regular
 * expression per part measured about 0.5 µs an address on Node 20).
 */
function ipv4Into(text: string, out: Uint8Array | number[], at: number): boolean {
  let dots = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return false;
      out[at + dots++] = value;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
      digits++;
    } else return false;
  }
  if (digits === 0 || dots !== 3) return false;
  out[at + 3] = value;
  return true;
}

/** Dotted-quad IPv4 as its four bytes (see {@link ipv4Into}). */
function ipv4Bytes(text: string): number[] | undefined {
  const out = [0, 0, 0, 0];
  return ipv4Into(text, out, 0) ? out : undefined;
}

/** IPv4 text as its 16-byte mapped form, or undefined. */
function mappedIpv4(text: string): IpBytes | undefined {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  return ipv4Into(text, out, 12) ? out : undefined;
}

/** RFC 4291 §2.2 text (`2001:db8::1`, `::ffff:192.0.2.1`) as 16 bytes. */
function ipv6Bytes(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      // The last group may be a dotted quad (RFC 4291 §2.2 form 3).
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = ipv4Bytes(p);
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-f]{1,4}$/i.test(p)) return undefined;
      out.push(Number.parseInt(p, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  // Without "::" there must be exactly 8 groups; with it, "::" stands for at least one.
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * An address written as IPv4 or IPv6 text, as 16 bytes; `undefined` for anything
 * else. A zone (`fe80::1%eth0`, as Node reports link-local peers) is ignored.
 */
export function parseIp(text: string): IpBytes | undefined {
  if (text.length > 64) return undefined;
  if (!text.includes(":")) return mappedIpv4(text);
  // A dual-stack socket's IPv4 peer, `::ffff:192.0.2.1`: the common case, quickly.
  if (MAPPED_TEXT.test(text)) return mappedIpv4(text.slice(7));
  const bytes = ipv6Bytes(text.replace(/%[\w.-]+$/, ""));
  return bytes === undefined ? undefined : Uint8Array.from(bytes);
}

const MAPPED_TEXT = /^::ffff:[\d.]+$/i;

/** Whether `address` lies in `range`. */
export function inRange(address: IpBytes, range: IpRange): boolean {
  const whole = range.bits >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== range.bytes[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole]! & mask) === (range.bytes[whole]! & mask);
}

/**
 * `10.0.0.0/8`, `2001:db8::/32`, or a single address (all its bits). An IPv4
 * prefix length counts IPv4 bits (it is moved past the 96 bits of the mapping).
 * Bits past the prefix may be set (`10.1.2.3/8` is `10.0.0.0/8`), as Go's
 * `netip.ParsePrefix` allows.
 */
export function parseRange(text: string): IpRange | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseIp(address);
  if (bytes === undefined || address.includes("%")) return undefined;
  const v4 = !address.includes(":");
  const max = v4 ? 32 : 128;
  if (slash < 0) return { bytes, bits: 128 };
  const length = text.slice(slash + 1);
  if (!/^(?:0|[1-9]\d{0,2})$/.test(length) || Number(length) > max) return undefined;
  return { bytes, bits: Number(length) + (v4 ? 96 : 0) };
}

/** Named sets of ranges `--trust-proxy` takes besides addresses and CIDRs. */
export const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  // RFC 1122 §3.2.1.3 (127/8) and RFC 4291 §2.5.3 (::1).
  loopback: ["127.0.0.0/8", "::1/128"],
  // RFC 1918 and RFC 4193 unique local addresses: where in-cluster and VPC proxies live.
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/** A set of ranges, as a test of one address; `undefined` and the item at fault when one is not an address, a range or a name. */
export function rangeMatcher(items: readonly string[]): { match: (address: IpBytes) => boolean } | { invalid: string } {
  const ranges: IpRange[] = [];
  for (const raw of items) {
    const item = raw.trim();
    const name = item.toLowerCase();
    for (const text of Object.hasOwn(NAMED_RANGES, name) ? NAMED_RANGES[name]! : [item]) {
      const range = parseRange(text);
      if (range === undefined) return { invalid: raw };
      ranges.push(range);
    }
  }
  return { match: (address) => ranges.some((r) => inRange(address, r)) };
}
