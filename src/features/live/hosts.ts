/**
 * The Host allow-list and the same-origin check of the live routes: pure
 * decisions on header values (issue 14).
 *
 * DNS rebinding: a page on `evil.example` whose name is re-pointed at 127.0.0.1
 * reaches a local server with `Host: evil.example`, as same-origin as far as
 * the browser knows, and reads what it serves (Vite GHSA-vg6x-rcgg-rjx6). A
 * server that answers only the names it is known by refuses it: IP literals
 * (a rebinding page cannot have one as its origin's host), `localhost` and
 * `*.localhost` (RFC 6761 §6.3: always loopback), this machine's names, and
 * the operator's `--allowed-hosts`.
 */

/** A checked allow-list: exact names and `*.suffix` patterns, lower-case. */
export interface HostList {
  readonly exact: ReadonlySet<string>;
  /** `.example.com` for `*.example.com`. */
  readonly suffixes: readonly string[];
  /** `all`: the check is off. */
  readonly any: boolean;
}

/** The outcome for one request's `Host`. */
export type HostDecision =
  | { readonly kind: "allowed" }
  | { readonly kind: "malformed" }
  | { readonly kind: "refused"; readonly name: string };

// RFC 3986 §3.2.2 reg-name, as DNS names use it (letters, digits, '-', '.', '_'), and a port.
const REG_NAME = /^[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_.])?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9a-f:.]+(?:%[0-9a-z._~-]+)?$/;

/** The host of an authority (`Host` value, RFC 9110 §7.2), lower-case, or undefined when malformed. */
export function parseAuthority(value: string): { host: string; ip: boolean } | undefined {
  const v = value.toLowerCase();
  let host: string;
  let port: string | undefined;
  if (v.startsWith("[")) {
    const end = v.indexOf("]");
    if (end < 0) return undefined;
    host = v.slice(1, end);
    const rest = v.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return undefined;
    port = rest === "" ? undefined : rest.slice(1);
    if (!IPV6_CHARS.test(host) || !host.includes(":")) return undefined;
    if (port !== undefined && !/^\d{1,5}$/.test(port)) return undefined;
    return { host, ip: true };
  }
  const colon = v.lastIndexOf(":");
  host = colon < 0 ? v : v.slice(0, colon);
  port = colon < 0 ? undefined : v.slice(colon + 1);
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return undefined;
  if (IPV4.test(host)) return { host, ip: true };
  // A trailing dot is the same name (RFC 1034 §3.1): `localhost.` is `localhost`.
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (!REG_NAME.test(name) || name.includes("..")) return undefined;
  return { host: name, ip: false };
}

/** The list made from the operator's entries and the defaults; `all` (or `*`) turns the check off. */
export function hostList(entries: readonly string[]): HostList {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  let any = false;
  for (const raw of entries) {
    const e = raw.trim().toLowerCase().replace(/\.$/, "");
    if (e === "") continue;
    if (e === "all" || e === "*") any = true;
    else if (e.startsWith("*.")) suffixes.push(e.slice(1));
    else if (e.startsWith(".")) suffixes.push(e);
    else exact.add(e);
  }
  return { exact, suffixes, any };
}

/** Whether an operator's entry is acceptable: `all`, a name, `*.name`, or an address. */
export function hostEntryProblem(entry: string): string | undefined {
  const e = entry.trim().toLowerCase();
  if (e === "all" || e === "*") return undefined;
  const name = e.startsWith("*.") ? e.slice(2) : e.startsWith(".") ? e.slice(1) : e;
  return parseAuthority(name) === undefined ? `'${entry}' is not a host name` : undefined;
}

/** The decision for a `Host` header value (undefined: none was sent). */
export function hostDecision(list: HostList, value: string | undefined): HostDecision {
  // HTTP/1.1 requires Host (RFC 9112 §3.2; Node answers 400 itself); HTTP/1.0 may omit it: nothing to rebind.
  if (value === undefined) return { kind: "allowed" };
  const parsed = parseAuthority(value.trim());
  if (parsed === undefined) return { kind: "malformed" };
  if (list.any || parsed.ip) return { kind: "allowed" };
  const { host } = parsed;
  if (host === "localhost" || host.endsWith(".localhost") || list.exact.has(host)) return { kind: "allowed" };
  for (const s of list.suffixes) if (host.endsWith(s)) return { kind: "allowed" };
  return { kind: "refused", name: host };
}

/** The outcome of the live routes' same-origin check. */
export type OriginDecision =
  | { readonly kind: "same-origin" }
  | { readonly kind: "malformed" }
  | { readonly kind: "cross-site"; readonly origin: string };

/**
 * Whether a request to a live route comes from a page of this server. A browser
 * sends `Origin` with an EventSource and any cross-origin fetch; its host and
 * port must be the request's `Host` (RFC 6454 §4). `Sec-Fetch-Site: cross-site`
 * (Fetch Metadata) refuses the rest, a `<script src>` from another site
 * included. Tools that send neither (curl) are let through: they are not a web
 * page reading across origins.
 */
export function originDecision(origin: string | undefined, host: string | undefined, fetchSite: string | undefined): OriginDecision {
  if (fetchSite === "cross-site") return { kind: "cross-site", origin: origin ?? "another site" };
  if (origin === undefined) return { kind: "same-origin" };
  // "null": a sandboxed frame, a file: page, a redirect across origins: never this server's page.
  if (origin === "null") return { kind: "cross-site", origin };
  const m = /^(https?):\/\/([^/?#@\s]+)$/i.exec(origin);
  if (m === null || parseAuthority(m[2]!) === undefined) return { kind: "malformed" };
  const authority = m[2]!.toLowerCase();
  const scheme = m[1]!.toLowerCase();
  const h = (host ?? "").trim().toLowerCase();
  // A default port may be left out on either side.
  const withoutDefault = (a: string): string => a.replace(scheme === "https" ? /:443$/ : /:80$/, "");
  if (withoutDefault(authority) === withoutDefault(h)) return { kind: "same-origin" };
  return { kind: "cross-site", origin };
}
