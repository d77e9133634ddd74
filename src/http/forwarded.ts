/**
 * Who the client is behind a proxy: the `Forwarded` header (RFC 7239),
 * `X-Forwarded-For`, or a single-address header (`X-Real-IP`), believed only
 * when the peer itself is a trusted proxy. Pure functions; the adapter asks
 * {@link clientAddressOf} once per request, and only when `trustProxy` is set.
 *
 * Every proxy appends the address it received the request from, so a list reads
 * client, proxy 1, proxy 2, ... and only its right end was written by the proxy
 * talking to us: everything to the left of the first proxy we trust is whatever
 * the client chose to send. So the list is walked from the right, past trusted
 * addresses, and the first address not trusted is the client (static-web-server
 * 494: trusting the left end let any client forge its logged address).
 */
import { type IpBytes, parseIp, rangeMatcher } from "./ip.js";

/**
 * The most hops a forwarding header is read for: past this many trusted hops,
 * or `Forwarded` elements, the client is not known (the peer is used). Real
 * chains have a handful of proxies; without a cap, a client whose own address
 * is trusted (`--trust-proxy private` on a LAN) could send 2,000 trusted hops in
 * 16 KiB and cost 7-10 ms of parsing per request.
 */
export const MAX_HOPS = 32;

/** One hop named in a forwarding header. */
export type ForwardedNode =
  | { readonly kind: "address"; readonly address: string; readonly bytes: IpBytes }
  /** `unknown` (RFC 7239 §6.2), or an element that names no `for`: a hop that did not say. */
  | { readonly kind: "unknown" }
  /** An obfuscated identifier (`_hidden`, RFC 7239 §6.3): a hop that chose not to say. */
  | { readonly kind: "obfuscated" };

// RFC 7239 §6: obfnode = "_" 1*( ALPHA / DIGIT / "." / "_" / "-" ), and the same for obfport.
const OBFUSCATED = /^_[A-Za-z0-9._-]+$/;
const PORT = /^(?:\d{1,5}|_[A-Za-z0-9._-]+)$/;

/**
 * A node (RFC 7239 §6): `192.0.2.43`, `[2001:db8::17]`, `unknown` or `_obf`, each
 * with an optional `:port`. `bareIpv6` also takes an IPv6 address without
 * brackets (and then without a port), as `X-Forwarded-For` writes it. `undefined`
 * when malformed.
 */
export function parseNode(text: string, bareIpv6 = false): ForwardedNode | undefined {
  let name = text;
  let port: string | undefined;
  if (name.startsWith("[")) {
    const close = name.indexOf("]");
    if (close < 0) return undefined;
    const rest = name.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return undefined;
      port = rest.slice(1);
    }
    name = name.slice(1, close);
    if (!name.includes(":")) return undefined;
  } else if (!(bareIpv6 && name.indexOf(":") !== name.lastIndexOf(":"))) {
    const colon = name.indexOf(":");
    if (colon >= 0) {
      port = name.slice(colon + 1);
      name = name.slice(0, colon);
    }
    // An IPv6 address outside brackets (RFC 7239 §6: "MUST be enclosed in square brackets").
    if (name.includes(":")) return undefined;
  }
  if (port !== undefined && !PORT.test(port)) return undefined;
  // (Each test only where it can match: this runs for every hop of every request
  // from a trusted proxy.)
  if (name.length === 7 && name.toLowerCase() === "unknown") return { kind: "unknown" };
  if (name.startsWith("_") && OBFUSCATED.test(name)) return { kind: "obfuscated" };
  const bytes = parseIp(name);
  if (bytes === undefined || name.includes("%")) return undefined;
  return { kind: "address", address: name.includes(":") ? name.toLowerCase() : name, bytes };
}

// RFC 9110 §5.6.2: tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const OWS = /[ \t]/;

/**
 * The `for` node of each element of a `Forwarded` value, in order (left is
 * farthest from us); `undefined` when the value is malformed anywhere (RFC 7239
 * §4: pairs are `token=token` or `token="quoted string"`, separated by `;`,
 * elements by `,`; a parameter at most once per element). An element without
 * `for` is an unknown hop. More than {@link MAX_HOPS} elements: `undefined` too.
 */
export function parseForwarded(value: string): ForwardedNode[] | undefined {
  const nodes: ForwardedNode[] = [];
  let i = 0;
  const n = value.length;
  const skipOws = (): void => {
    while (i < n && OWS.test(value[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TCHAR.test(value[i]!)) i++;
    return value.slice(start, i);
  };
  // RFC 9110 §5.6.4: quoted-string with quoted-pairs; undefined when unterminated or holding a control.
  const quoted = (): string | undefined => {
    let out = "";
    i++;
    while (i < n) {
      const c = value[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\") {
        i++;
        if (i >= n) return undefined;
      }
      const code = value.charCodeAt(i);
      if ((code < 0x20 && code !== 0x09) || code === 0x7f) return undefined;
      out += value[i];
      i++;
    }
    return undefined;
  };
  let params = new Set<string>();
  let forNode: ForwardedNode | undefined;
  let pairs = 0;
  const endElement = (): void => {
    // An empty list element (`a, , b`) is no hop at all (RFC 9110 §5.6.1).
    if (pairs > 0) nodes.push(forNode ?? { kind: "unknown" });
    params = new Set();
    forNode = undefined;
    pairs = 0;
  };
  skipOws();
  while (i < n) {
    const c = value[i]!;
    if (c === ",") {
      endElement();
      if (nodes.length >= MAX_HOPS) return undefined;
      i++;
      skipOws();
      continue;
    }
    if (c === ";") {
      i++;
      skipOws();
      continue;
    }
    const name = token().toLowerCase();
    if (name === "" || value[i] !== "=") return undefined;
    i++;
    const text = value[i] === '"' ? quoted() : token();
    if (text === undefined || (text === "" && value[i - 1] !== '"')) return undefined;
    if (params.has(name)) return undefined;
    params.add(name);
    pairs++;
    if (name === "for") {
      const node = parseNode(text);
      if (node === undefined) return undefined;
      forNode = node;
    }
    skipOws();
    if (i < n && value[i] !== "," && value[i] !== ";") return undefined;
  }
  endElement();
  return nodes;
}

/** Where the client's address is read from, behind trusted proxies. */
export type ClientSource =
  /** `Forwarded` or `X-Forwarded-For`, whichever the request has; neither believed when it has both. */
  | { readonly kind: "either" }
  | { readonly kind: "forwarded" }
  | { readonly kind: "x-forwarded-for" }
  /** A header holding one address (`x-real-ip`, `cf-connecting-ip`), lower-case. */
  | { readonly kind: "single"; readonly header: string };

/** Which peers are trusted proxies, and which header they write. */
export interface ProxyTrust {
  readonly trusted: (address: IpBytes) => boolean;
  readonly source: ClientSource;
}

/**
 * `--trust-proxy` and `--client-ip-header` checked: a {@link ProxyTrust}, or what
 * is wrong. `header` `forwarded` and `x-forwarded-for` read that list alone; any
 * other name is a single-address header; unset, either list.
 */
export function proxyTrust(
  list: readonly string[],
  header?: string,
): ProxyTrust | { readonly problem: string; readonly option: "trustProxy" | "clientIpHeader" } {
  const matcher = rangeMatcher(list);
  if ("invalid" in matcher) {
    return { option: "trustProxy", problem: `'${matcher.invalid}' is not an address, a CIDR range, 'loopback' or 'private'` };
  }
  if (header !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(header)) {
    return { option: "clientIpHeader", problem: `'${header}' is not a header name` };
  }
  const name = header?.toLowerCase();
  const source: ClientSource =
    name === undefined
      ? { kind: "either" }
      : name === "forwarded" || name === "x-forwarded-for"
        ? { kind: name }
        : { kind: "single", header: name };
  return { trusted: matcher.match, source };
}

/**
 * The client in a list of `count` hops, `nodeAt(k)` the k-th from the left:
 * walking from the right past trusted addresses, the first one not trusted; the
 * leftmost when every one is trusted. `undefined` when the walk meets a hop that
 * is malformed, unknown or obfuscated before that, or passes {@link MAX_HOPS}
 * trusted ones (the client is then not known).
 * Hops left of the client are never looked at.
 */
function walk(count: number, nodeAt: (k: number) => ForwardedNode | undefined, trust: ProxyTrust): string | undefined {
  let last: string | undefined;
  for (let k = count - 1; k >= 0; k--) {
    if (count - k > MAX_HOPS) return undefined;
    const node = nodeAt(k);
    if (node === undefined || node.kind !== "address") return undefined;
    if (!trust.trusted(node.bytes)) return node.address;
    last = node.address;
  }
  return last;
}

/** The client's address from the peer's and a header lookup: {@link clientAddressOf} with its trust decided. */
export type ClientAddressFn = (peer: string | undefined, header: (name: string) => string | undefined) => string | undefined;

/**
 * The client's address for a request from `peer`: the peer itself unless it is a
 * trusted proxy; then the address the headers name (see the module comment).
 * Whatever cannot be read — a malformed value, `unknown`, an obfuscated hop, a
 * request carrying both `Forwarded` and `X-Forwarded-For` (one of them the
 * client's own) — is the peer: a proxy that says nothing usable is all we know.
 */
export function clientAddressOf(
  peer: string | undefined,
  header: (name: string) => string | undefined,
  trust: ProxyTrust,
): string | undefined {
  if (peer === undefined) return undefined;
  const peerBytes = parseIp(peer);
  if (peerBytes === undefined || !trust.trusted(peerBytes)) return peer;
  const source = trust.source;
  let found: string | undefined;
  if (source.kind === "single") {
    const value = header(source.header);
    const node = value === undefined ? undefined : parseNode(value.trim(), true);
    found = node?.kind === "address" ? node.address : undefined;
  } else {
    const forwarded = source.kind === "x-forwarded-for" ? undefined : header("forwarded");
    const xff = source.kind === "forwarded" ? undefined : header("x-forwarded-for");
    if (forwarded !== undefined && xff !== undefined) return peer;
    if (forwarded !== undefined) {
      const nodes = parseForwarded(forwarded);
      found = nodes === undefined ? undefined : walk(nodes.length, (k) => nodes[k], trust);
    } else if (xff !== undefined) {
      // Each element parsed only when the walk reaches it: garbage the client put on
      // the left is never read once an untrusted address is found.
      const parts = xff.split(",");
      found = walk(parts.length, (k) => parseNode(parts[k]!.trim(), true), trust);
    }
  }
  return found ?? peer;
}
