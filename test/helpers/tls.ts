/**
 * Certificates for tests, made by the openssl command line the way a person makes
 * one (`openssl req -x509 ...`), so that the TLS flags are tested against files
 * wharf did not write itself.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * A self-signed P-256 certificate for localhost, 127.0.0.1 and ::1, valid for a
 * day, written to `dir` as `NAME-cert.pem` and `NAME-key.pem`. With `password`,
 * the key is encrypted (PKCS#8, AES-256) and the password is written, with a
 * trailing newline as an editor would leave it, to `NAME-password.txt`.
 */
export function opensslCertificate(dir: string, name: string, password?: string): TestCertificate & { passwordFile: string } {
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  const passwordFile = join(dir, `${name}-password.txt`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-sha256",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      ...(password === undefined ? ["-nodes"] : ["-passout", `pass:${password}`]),
    ],
    { stdio: "ignore" },
  );
  if (password !== undefined) writeFileSync(passwordFile, `${password}\n`);
  return { certFile, keyFile, passwordFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}
