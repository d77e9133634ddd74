/**
 * Making the self-signed development certificate: an ECDSA P-256 key from Node's
 * own WebCrypto, and an X.509 v3 certificate (RFC 5280) built and signed with
 * pkijs. pkijs is loaded only here, only when a certificate has to be made, so
 * neither the library nor a plain-HTTP start pays for it.
 */
import { randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";

/** What the certificate is for. */
export interface CertificateSubject {
  /** Host names (`localhost`, this machine's name). */
  readonly dns: readonly string[];
  /** IPv4 and IPv6 addresses. */
  readonly ips: readonly string[];
  /** Validity period. */
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A certificate and its unencrypted PKCS#8 key, both PEM. */
export interface GeneratedCertificate {
  readonly cert: string;
  readonly key: string;
}

/** The 4 or 16 bytes of an IP address, as a SubjectAltName iPAddress holds them (RFC 5280 §4.2.1.6). */
export function ipBytes(ip: string): Uint8Array {
  const address = ip.replace(/%.*$/, ""); // a zone id (fe80::1%eth0) is not part of the address
  if (isIP(address) === 4) return Uint8Array.from(address.split(".").map(Number));
  if (isIP(address) !== 6) throw new Error(`not an IP address: ${ip}`);
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4[1]!.split(".").map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const lines =
    Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der))
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * The certificate's serial number from 16 random octets, as the content octets
 * of a DER INTEGER. RFC 5280 §4.1.2.2: a positive integer of at most 20 octets.
 * X.690 §8.3.2: the encoding is minimal, so the first octet may not be zero
 * when the next one is below 0x80. Clearing the top bit alone once let a zero
 * first octet through (OpenSSL: "illegal padding"), so the top two bits are
 * fixed at 01: positive, never a leading zero, still 126 random bits.
 */
export function serialNumber(random: Uint8Array): Uint8Array {
  const serial = Uint8Array.from(random);
  serial[0] = 0x40 | (serial[0]! & 0x3f);
  return serial;
}

/**
 * Makes a self-signed server certificate for `subject`, with a new key pair
 * unless one is given (tests reuse one: making keys is the slow part).
 */
export async function generateCertificate(subject: CertificateSubject, keyPair?: CryptoKeyPair): Promise<GeneratedCertificate> {
  const pkijs = await import("pkijs");
  const asn1js = await import("asn1js");
  const subtle = webcrypto.subtle;
  const engine = new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as Crypto });
  // P-256: every TLS client supports it, and a key takes a millisecond to make.
  const keys = keyPair ?? (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]));

  const cert = new pkijs.Certificate();
  cert.version = 2; // v3
  cert.serialNumber = new asn1js.Integer({ valueHex: serialNumber(randomBytes(16)) });
  const name = new pkijs.AttributeTypeAndValue({
    type: "2.5.4.3",
    value: new asn1js.Utf8String({ value: "wharf development certificate" }),
  });
  cert.subject.typesAndValues.push(name);
  cert.issuer.typesAndValues.push(name);
  cert.notBefore.value = subject.notBefore;
  cert.notAfter.value = subject.notAfter;

  const altNames = [
    ...subject.dns.map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...subject.ips.map((ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip) }) })),
  ];
  const extension = (extnID: string, critical: boolean, value: { toSchema(): { toBER(sizeOnly?: boolean): ArrayBuffer } }) =>
    new pkijs.Extension({ extnID, critical, extnValue: value.toSchema().toBER(false) });
  cert.extensions = [
    // A server certificate, not a CA: trusting it lets it vouch for nothing else.
    extension("2.5.29.19", true, new pkijs.BasicConstraints({ cA: false })),
    // keyUsage: digitalSignature only (bit 0), which is all an ECDSA TLS server key does.
    new pkijs.Extension({
      extnID: "2.5.29.15",
      critical: true,
      extnValue: new asn1js.BitString({ valueHex: new Uint8Array([0x80]), unusedBits: 7 }).toBER(false),
    }),
    // extKeyUsage: serverAuth (RFC 5280 §4.2.1.12); browsers require it.
    extension("2.5.29.37", false, new pkijs.ExtKeyUsage({ keyPurposes: ["1.3.6.1.5.5.7.3.1"] })),
    // subjectAltName: the only place browsers look for names (the CN is ignored).
    extension("2.5.29.17", false, new pkijs.AltName({ altNames })),
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  await cert.sign(keys.privateKey, "SHA-256", engine);

  return {
    cert: pem("CERTIFICATE", cert.toSchema(true).toBER(false)),
    key: pem("PRIVATE KEY", await subtle.exportKey("pkcs8", keys.privateKey)),
  };
}
