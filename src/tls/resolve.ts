/**
 * The `tls` option of `serve()`: checked once, at startup, into the credentials to
 * serve and what {@link import("../server/serve.js").RunningServer.certificate}
 * tells about them.
 */
import { OptionError } from "../core/errors.js";
import { type CertificateInfo, checkCredentials, type TlsCredentials } from "./credentials.js";
import { type DevCertificate, ensureDevCertificate } from "./dev-cert.js";

/** The certificate a TLS server presents, as {@link RunningServer.certificate} describes it. */
export interface ServedCertificate extends CertificateInfo {
  /** For `tls: "dev"`: where the certificate is kept, and whether this start made it. */
  readonly dev: Pick<DevCertificate, "certFile" | "keyFile" | "created"> | undefined;
}

/** Checks the `tls` option and makes or reads the development certificate. */
export async function resolveTls(
  tls: TlsCredentials | "dev" | undefined,
): Promise<{ credentials: TlsCredentials; certificate: ServedCertificate } | undefined> {
  if (tls === undefined) return undefined;
  if (tls === "dev") {
    const dev = await ensureDevCertificate();
    const info = checkCredentials(dev.credentials, { cert: dev.certFile, key: dev.keyFile });
    return {
      credentials: dev.credentials,
      certificate: { ...info, dev: { certFile: dev.certFile, keyFile: dev.keyFile, created: dev.created } },
    };
  }
  const pem = (v: unknown): boolean => typeof v === "string" || v instanceof Uint8Array;
  if (
    typeof tls !== "object" ||
    tls === null ||
    !pem(tls.cert) ||
    !pem(tls.key) ||
    (tls.passphrase !== undefined && typeof tls.passphrase !== "string")
  ) {
    throw new OptionError("tls", 'must be "dev" or { cert, key, passphrase? } with PEM text');
  }
  return { credentials: tls, certificate: { ...checkCredentials(tls), dev: undefined } };
}
