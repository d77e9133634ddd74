/**
 * What `--tls` and `--tls-cert/--tls-key/--tls-password-file` turn into: the
 * credentials to serve, the banner lines that say which certificate a client will
 * see (its SHA-256 fingerprint, to compare with what the browser shows), and
 * warnings such as an expired certificate.
 *
 * With `--workers`, the primary makes or renews the development certificate
 * before any worker starts; workers only read it, so they never race to write it.
 */

import type { Settings } from "../config/registry.js";
import { type CertificateInfo, checkCredentials, readTlsFiles, type TlsCredentials } from "../tls/credentials.js";
import { ensureDevCertificate, readDevCertificate } from "../tls/dev-cert.js";
import { docLocation } from "./about.js";

/** The TLS part of a start. */
export interface CliTls {
  readonly credentials: TlsCredentials;
  /** Printed before "Press Ctrl+C to stop." */
  readonly lines: readonly string[];
  /** Printed on stderr as `wharf: warning: ...`. */
  readonly warnings: readonly string[];
}

const CREATED: Record<string, string> = {
  new: "new",
  expired: "new: the previous one expired",
  "names changed": "new: this machine has a name or address the previous one lacked",
};

const PROTOCOLS = "  HTTP/2 and HTTP/1.1 over TLS (plain http:// is redirected)";

function fingerprint(info: CertificateInfo): string[] {
  return [
    `  certificate SHA-256 ${info.fingerprint256}`,
    // What Chromium's --ignore-certificate-errors-spki-list takes (docs/tls.md).
    `  public key SPKI SHA-256 ${info.spki256}`,
  ];
}

/**
 * Resolves the TLS flags; `undefined` for plain HTTP. `worker`: read the
 * development certificate the primary made instead of checking or making it.
 * Throws a coded error (one line, exit 1) for a file that is missing or wrong.
 */
export async function cliTls(
  o: Pick<Settings, "tls" | "tlsCert" | "tlsKey" | "tlsPasswordFile">,
  worker: boolean,
): Promise<CliTls | undefined> {
  if (o.tlsCert !== undefined) {
    const { credentials, info } = await readTlsFiles({ cert: o.tlsCert, key: o.tlsKey, passwordFile: o.tlsPasswordFile });
    return { credentials, lines: [PROTOCOLS, ...fingerprint(info)], warnings: info.warnings };
  }
  if (o.tls !== "dev") return undefined;
  if (worker) return { credentials: await readDevCertificate(), lines: [], warnings: [] };
  const dev = await ensureDevCertificate();
  const info = checkCredentials(dev.credentials, { cert: dev.certFile, key: dev.keyFile });
  const made = dev.created === undefined ? "" : ` (${CREATED[dev.created]})`;
  return {
    credentials: dev.credentials,
    lines: [
      PROTOCOLS,
      `  development certificate ${dev.certFile}${made}`,
      ...fingerprint(info),
      // The installed docs/tls.md (or the published one): a bare `docs/tls.md`
      // means nothing in the directory being served.
      `  trust it: curl --cacert ${dev.certFile}; browsers: see ${docLocation("tls.md")}`,
    ],
    warnings: info.warnings,
  };
}
