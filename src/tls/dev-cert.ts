/**
 * `--tls` without files: a self-signed certificate for this machine, made once and
 * kept in the user's configuration folder, so that a browser or curl told to
 * trust it once keeps trusting it. It is made again only when it has expired (or
 * is about to) or when this machine has a name or address it does not cover.
 *
 * Several wharf processes may start at once (`--workers`, two terminals): a lock
 * file makes one of them create the pair while the others wait and then read it,
 * so a certificate is never paired with another process's key.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir, hostname, networkInterfaces } from "node:os";
import { isAbsolute, join } from "node:path";
import { codeOf, ServeError } from "../core/errors.js";
import type { TlsCredentials } from "./credentials.js";
import { generateCertificate, ipBytes } from "./generate.js";

/** Where the development certificate lives, and whether this start made it. */
export interface DevCertificate {
  readonly credentials: TlsCredentials;
  readonly certFile: string;
  readonly keyFile: string;
  /** Why it was made now: `undefined` when the one on disk was reused. */
  readonly created: "new" | "expired" | "names changed" | undefined;
}

/** Options of {@link ensureDevCertificate}, for tests and unusual setups. */
export interface DevCertificateOptions {
  /** @default `$XDG_CONFIG_HOME/wharf`, else `~/.config/wharf` (`%APPDATA%\wharf` on Windows) */
  readonly dir?: string;
  /** @default localhost, this machine's host name, its loopback and network addresses */
  readonly names?: { readonly dns: readonly string[]; readonly ips: readonly string[] };
  /** @default the current time */
  readonly now?: Date;
}

const DAY = 24 * 60 * 60 * 1000;
/** A year: long enough not to bother anyone, within the 825 days Apple accepts for any TLS certificate. */
const VALIDITY_DAYS = 365;
/** Made again this long before it expires, so a server started today does not expire next week. */
const RENEW_DAYS = 7;

/** The user's configuration folder for wharf (XDG Base Directory Specification). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env["XDG_CONFIG_HOME"];
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "wharf");
  if (process.platform === "win32" && env["APPDATA"]) return join(env["APPDATA"], "wharf");
  return join(homedir(), ".config", "wharf");
}

const DNS_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/** The names a browser on this machine or the local network may use to reach it. */
export function machineNames(): { dns: string[]; ips: string[] } {
  const dns = ["localhost"];
  const host = hostname().toLowerCase();
  if (DNS_NAME.test(host) && host !== "localhost") dns.push(host);
  const ips = ["127.0.0.1", "::1"];
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      // Link-local IPv6 needs a zone id that no browser accepts in a URL.
      if (i.internal || (i.family === "IPv6" && /^fe80:/i.test(i.address))) continue;
      if (!ips.includes(i.address)) ips.push(i.address);
    }
  }
  return { dns, ips };
}

/** Why the pair on disk cannot be reused, or `undefined` when it can. */
function staleness(cert: string, key: string, names: NonNullable<DevCertificateOptions["names"]>, now: Date): DevCertificate["created"] {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return "new";
  } catch {
    return "new"; // unreadable or half-written: make a new one
  }
  if (new Date(x509.validTo).getTime() - now.getTime() < RENEW_DAYS * DAY || new Date(x509.validFrom) > now) return "expired";
  const covered = new Set(
    (x509.subjectAltName ?? "").split(", ").map((entry) => {
      const [kind, ...rest] = entry.split(":");
      const value = rest.join(":");
      return kind === "IP Address" ? `ip:${Buffer.from(ipBytes(value)).toString("hex")}` : `dns:${value.toLowerCase()}`;
    }),
  );
  const wanted = [
    ...names.dns.map((d) => `dns:${d.toLowerCase()}`),
    ...names.ips.map((ip) => `ip:${Buffer.from(ipBytes(ip)).toString("hex")}`),
  ];
  // A name that went away (a Wi-Fi address) is no reason to make the user trust a new certificate.
  return wanted.every((w) => covered.has(w)) ? undefined : "names changed";
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
  } catch (err) {
    if (codeOf(err) === "ENOENT") return undefined;
    throw new ServeError("WHARF_TLS_DEV_UNREADABLE", `cannot read the development certificate in ${certFile}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Takes the lock file (waiting for another process that holds it); returns its release. */
async function lock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, "dev.lock");
  for (const start = Date.now(); ; await new Promise((r) => setTimeout(r, 50))) {
    try {
      await (await open(path, "wx")).close();
      return () => rm(path, { force: true });
    } catch (err) {
      if (codeOf(err) !== "EEXIST") throw err;
      // A process killed while holding it leaves it behind; making a pair takes milliseconds.
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 10_000 || Date.now() - start > 20_000) await rm(path, { force: true });
    }
  }
}

/** Writes `text` so that no reader ever sees half of it. */
async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // whatever the umask
  await rename(tmp, path);
}

/**
 * The development certificate: the one on disk when it is still good, else a new
 * one, written with the key readable by the user only (0600).
 */
export async function ensureDevCertificate(options: DevCertificateOptions = {}): Promise<DevCertificate> {
  const dir = options.dir ?? configDir();
  const names = options.names ?? machineNames();
  const now = options.now ?? new Date();
  const certFile = join(dir, "dev-cert.pem");
  const keyFile = join(dir, "dev-key.pem");
  const existing = await readPair(certFile, keyFile);
  let why = existing === undefined ? "new" : staleness(existing.cert, existing.key, names, now);
  if (existing !== undefined && why === undefined) return { credentials: existing, certFile, keyFile, created: undefined };
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const release = await lock(dir);
    try {
      // Another process may have made it while this one waited for the lock.
      const again = await readPair(certFile, keyFile);
      why = again === undefined ? "new" : staleness(again.cert, again.key, names, now);
      if (again !== undefined && why === undefined) return { credentials: again, certFile, keyFile, created: undefined };
      const made = await generateCertificate({
        dns: names.dns,
        ips: names.ips,
        notBefore: new Date(now.getTime() - 60 * 60 * 1000), // an hour of slack for clocks that are behind
        notAfter: new Date(now.getTime() + VALIDITY_DAYS * DAY),
      });
      // Key first: a reader that sees the new certificate must also find its key.
      await writeAtomically(keyFile, made.key, 0o600);
      await writeAtomically(certFile, made.cert, 0o644);
      return { credentials: made, certFile, keyFile, created: why };
    } finally {
      await release();
    }
  } catch (err) {
    if (err instanceof ServeError) throw err;
    throw new ServeError("WHARF_TLS_DEV_FAILED", `cannot create the development certificate in ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Reads the pair {@link ensureDevCertificate} made, without checking or making it (workers). */
export async function readDevCertificate(dir = configDir()): Promise<TlsCredentials> {
  const pair = await readPair(join(dir, "dev-cert.pem"), join(dir, "dev-key.pem"));
  if (pair === undefined) throw new ServeError("WHARF_TLS_DEV_MISSING", `no development certificate in ${dir}`);
  return pair;
}
