/**
 * A certificate and its key, checked once at startup so that every mistake a
 * person can make is one line they can act on: a missing file, a key that belongs
 * to another certificate, a wrong password. An expired certificate is still served
 * (a test setup may want exactly that) but reported as a warning.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import { codeOf, ServeError } from "../core/errors.js";

/** A certificate and private key, as PEM text (the same shapes as `node:https`). */
export interface TlsCredentials {
  /** The certificate chain in PEM, the server's own certificate first. */
  readonly cert: string | Uint8Array;
  /** The private key in PEM (PKCS#8, PKCS#1 or SEC1), possibly encrypted. */
  readonly key: string | Uint8Array;
  /**
   * The password of an encrypted key.
   * @default undefined (the key is not encrypted)
   */
  readonly passphrase?: string;
}

/** What the server tells about the certificate it serves. */
export interface CertificateInfo {
  /** SHA-256 of the DER certificate, colon-separated upper-case hex, as browsers show it. */
  readonly fingerprint256: string;
  /** Base64 SHA-256 of the public key (SPKI), for `--ignore-certificate-errors-spki-list` and pinning. */
  readonly spki256: string;
  /** The names and addresses it is valid for, as OpenSSL prints them (`DNS:localhost, IP Address:127.0.0.1`). */
  readonly subjectAltName: string;
  /** ISO 8601. */
  readonly validFrom: string;
  /** ISO 8601. */
  readonly validTo: string;
  /** Problems that do not stop the server, such as an expired certificate; each one line. */
  readonly warnings: readonly string[];
}

/** How the files (or the library's arguments) are named in error messages. */
export interface CredentialNames {
  readonly cert: string;
  readonly key: string;
}

const DEFAULT_NAMES: CredentialNames = { cert: "the TLS certificate", key: "the TLS key" };

function tlsError(code: string, message: string, cause?: unknown): ServeError {
  return new ServeError(code, message, cause === undefined ? undefined : { cause });
}

// PKCS#8 (`ENCRYPTED PRIVATE KEY`) or OpenSSL's traditional form (`Proc-Type: 4,ENCRYPTED`).
// Read from the text because OpenSSL's error for a missing password differs between versions.
const ENCRYPTED = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

function privateKey(creds: TlsCredentials, names: CredentialNames): KeyObject {
  const text = Buffer.from(creds.key);
  const encrypted = ENCRYPTED.test(text.toString("latin1"));
  if (encrypted && creds.passphrase === undefined) {
    throw tlsError("WHARF_TLS_PASSWORD_NEEDED", `${names.key} is encrypted and no password was given`);
  }
  try {
    return createPrivateKey({ key: text, format: "pem", ...(creds.passphrase === undefined ? {} : { passphrase: creds.passphrase }) });
  } catch (err) {
    if (encrypted) throw tlsError("WHARF_TLS_WRONG_PASSWORD", `wrong password for ${names.key}`, err);
    throw tlsError("WHARF_TLS_BAD_KEY", `no usable private key in ${names.key}`, err);
  }
}

/** `Nov 26 10:21:19 2027 GMT` (OpenSSL's form) as a Date. */
function opensslDate(text: string): Date {
  return new Date(text.replace(/\s+/g, " "));
}

/**
 * Checks that `creds` can be served: the certificate parses, the key opens (with
 * the password, if any) and belongs to the certificate, and OpenSSL accepts the
 * pair. Throws a {@link ServeError} with a one-line message; returns what the
 * banner shows.
 */
export function checkCredentials(creds: TlsCredentials, names: CredentialNames = DEFAULT_NAMES, now = new Date()): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(creds.cert));
  } catch (err) {
    throw tlsError("WHARF_TLS_BAD_CERT", `no PEM certificate in ${names.cert}`, err);
  }
  const key = privateKey(creds, names);
  if (!cert.checkPrivateKey(key)) {
    throw tlsError("WHARF_TLS_KEY_MISMATCH", `${names.key} does not match ${names.cert} (it is the key of another certificate)`);
  }
  try {
    createSecureContext({
      cert: Buffer.from(creds.cert),
      key: Buffer.from(creds.key),
      ...(creds.passphrase === undefined ? {} : { passphrase: creds.passphrase }),
    });
  } catch (err) {
    throw tlsError("WHARF_TLS_REJECTED", `OpenSSL refuses ${names.cert}: ${(err as Error).message}`, err);
  }
  const validFrom = opensslDate(cert.validFrom);
  const validTo = opensslDate(cert.validTo);
  const warnings: string[] = [];
  if (validTo.getTime() < now.getTime()) {
    warnings.push(`${names.cert} expired on ${validTo.toISOString().slice(0, 10)}: clients will refuse it`);
  } else if (validFrom.getTime() > now.getTime()) {
    warnings.push(`${names.cert} is not valid before ${validFrom.toISOString()}: clients will refuse it`);
  }
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return {
    fingerprint256: cert.fingerprint256,
    spki256: createHash("sha256").update(spki).digest("base64"),
    subjectAltName: cert.subjectAltName ?? "",
    validFrom: validFrom.toISOString(),
    validTo: validTo.toISOString(),
    warnings,
  };
}

/** Where {@link readTlsFiles} reads from; the names Python 3.14's http.server uses. */
export interface TlsFiles {
  /** `--tls-cert`: the certificate chain, PEM. May also hold the key. */
  readonly cert: string;
  /** `--tls-key`: the private key, PEM. Unset: the key is read from the certificate file. */
  readonly key?: string | undefined;
  /** `--tls-password-file`: a file whose text (trimmed, as Python does) is the key's password. */
  readonly passwordFile?: string | undefined;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = codeOf(err);
    if (code === "ENOENT") throw tlsError("WHARF_TLS_FILE_NOT_FOUND", `${what} not found: ${path}`, err);
    if (code === "EACCES" || code === "EPERM") throw tlsError("WHARF_TLS_FILE_NOT_READABLE", `${what} not readable: ${path}`, err);
    if (code === "EISDIR") throw tlsError("WHARF_TLS_FILE_NOT_READABLE", `${what} is a directory: ${path}`, err);
    throw tlsError(code ?? "WHARF_TLS_FILE_NOT_READABLE", `cannot read ${what} ${path}: ${(err as Error).message}`, err);
  }
}

/**
 * Reads and checks certificate, key and password files, with messages that name
 * the file at fault. Returns the credentials and what the banner shows.
 */
export async function readTlsFiles(files: TlsFiles, now = new Date()): Promise<{ credentials: TlsCredentials; info: CertificateInfo }> {
  const cert = await readText(files.cert, "TLS certificate file");
  const key = files.key === undefined ? cert : await readText(files.key, "TLS key file");
  const password = files.passwordFile === undefined ? undefined : (await readText(files.passwordFile, "TLS password file")).trim();
  const credentials: TlsCredentials = { cert, key, ...(password === undefined ? {} : { passphrase: password }) };
  const names = { cert: files.cert, key: files.key ?? `${files.cert} (no separate key file given)` };
  return { credentials, info: checkCredentials(credentials, names, now) };
}
