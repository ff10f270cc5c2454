/**
 * One parsed X.509 certificate: node's X509Certificate (signature checks, names, host checks)
 * plus what node does not expose, read from the DER (RFC 5280 §4.1): raw subject/issuer Names,
 * validity as numbers, basicConstraints with path length, keyUsage bits, extKeyUsage and any
 * critical extension we do not handle. Parsed once, with the public KeyObject cached (node's
 * `x509.publicKey` builds a new KeyObject on every access).
 *
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber, signature,
 *       issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
 *       subjectPublicKeyInfo, issuerUniqueID [1] OPT, subjectUniqueID [2] OPT,
 *       extensions [3] EXPLICIT SEQUENCE OF Extension OPT }
 *   Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 */
import { X509Certificate, createHash, type KeyObject } from "node:crypto";
import {
  DerError,
  Tag,
  children,
  decodeOid,
  decodeSmallUint,
  decodeString,
  decodeTime,
  expectTag,
  readSingle,
  type Tlv,
} from "./der.js";

export const Oid = {
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  anyExtendedKeyUsage: "2.5.29.37.0",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  ecPublicKey: "1.2.840.10045.2.1",
  prime256v1: "1.2.840.10045.3.1.7",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
} as const;

/** keyUsage named bits (RFC 5280 §4.2.1.3) as flags: bit n of the BIT STRING is `1 << n`. */
export const KeyUsage = {
  digitalSignature: 1 << 0,
  nonRepudiation: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
  encipherOnly: 1 << 7,
  decipherOnly: 1 << 8,
} as const;

/** Extensions whose meaning we apply; any other one marked critical makes the certificate
 * unusable (RFC 5280 §4.2: "MUST reject the certificate if it encounters a critical extension
 * it does not recognize"). */
const HANDLED_EXTENSIONS: ReadonlySet<string> = new Set([
  Oid.subjectKeyIdentifier,
  Oid.keyUsage,
  Oid.subjectAltName,
  Oid.basicConstraints,
  Oid.authorityKeyIdentifier,
  Oid.extKeyUsage,
]);

export interface CertificateInfo {
  readonly x509: X509Certificate;
  /** The whole certificate, DER. */
  readonly der: Uint8Array;
  /** DER of the subject Name (what CertificateRequest.certificate_authorities lists). */
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  /** Validity bounds, ms since the epoch (RFC 5280 §4.1.2.5: both inclusive). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** First subject CN, if any. */
  readonly commonName: string | undefined;
  /** dNSName entries of subjectAltName. */
  readonly dnsNames: readonly string[];
  /** basicConstraints, or undefined when the extension is absent. */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | undefined } | undefined;
  /** keyUsage flags (`KeyUsage.*`), or undefined when the extension is absent (= any use). */
  readonly keyUsage: number | undefined;
  /** extKeyUsage OIDs, or undefined when absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  /** OIDs of critical extensions this module does not implement. */
  readonly unhandledCriticalExtensions: readonly string[];
  /** Subject public key, parsed once. */
  readonly publicKey: KeyObject;
  /** Named curve of an EC subject key (node's name, e.g. "prime256v1"), else undefined. */
  readonly namedCurve: string | undefined;
  /** SHA-256 of the DER, lowercase hex without colons. */
  readonly sha256: string;
  /** Subject and issuer Names are byte-identical (a self-issued certificate, RFC 5280 §3.2). */
  readonly selfIssued: boolean;
}

/**
 * Parses one DER certificate. Throws `DerError` when the structure is not what RFC 5280 says or
 * node cannot parse it; the callers at trust boundaries map that to their own error.
 */
export function parseCertificate(der: Uint8Array): CertificateInfo {
  const own = new Uint8Array(der); // our copy: callers may hand us views into datagrams
  const cert = readSingle(own, Tag.sequence, "Certificate");
  const [tbs] = children(cert.content);
  const fields = children(expectTag(tbs, Tag.sequence, "TBSCertificate").content);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++; // version [0]
  i++; // serialNumber
  i++; // signature AlgorithmIdentifier
  const issuer = expectTag(fields[i++], Tag.sequence, "issuer");
  const validity = children(expectTag(fields[i++], Tag.sequence, "validity").content);
  const subject = expectTag(fields[i++], Tag.sequence, "subject");
  expectTag(fields[i++], Tag.sequence, "subjectPublicKeyInfo");
  let extensions: Tlv[] = [];
  for (; i < fields.length; i++) {
    const f = fields[i] as Tlv;
    if (f.tag === 0xa3) extensions = children(expectTag(children(f.content)[0], Tag.sequence, "extensions").content);
  }
  const [nb, na] = validity;
  if (!nb || !na) throw new DerError("truncated", "validity needs notBefore and notAfter");

  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(own);
  } catch (e) {
    throw new DerError("bad-value", `node cannot parse the certificate: ${(e as Error).message}`);
  }

  let basicConstraints: CertificateInfo["basicConstraints"];
  let keyUsage: number | undefined;
  let extKeyUsage: string[] | undefined;
  const dnsNames: string[] = [];
  const unhandled: string[] = [];
  for (const ext of extensions) {
    const parts = children(expectTag(ext, Tag.sequence, "Extension").content);
    const id = decodeOid(expectTag(parts[0], Tag.oid, "extnID").content);
    const critical = parts[1]?.tag === Tag.boolean && parts[1].content[0] !== 0;
    const value = expectTag(parts[parts.length - 1], Tag.octetString, "extnValue").content;
    switch (id) {
      case Oid.basicConstraints:
        basicConstraints = parseBasicConstraints(value);
        break;
      case Oid.keyUsage:
        keyUsage = parseKeyUsage(value);
        break;
      case Oid.extKeyUsage:
        extKeyUsage = children(readSingle(value, Tag.sequence, "extKeyUsage").content).map((t) =>
          decodeOid(expectTag(t, Tag.oid, "KeyPurposeId").content),
        );
        break;
      case Oid.subjectAltName:
        for (const gn of children(readSingle(value, Tag.sequence, "subjectAltName").content)) {
          if (gn.tag === 0x82) dnsNames.push(decodeString({ ...gn, tag: Tag.ia5String })); // dNSName [2]
        }
        break;
    }
    if (critical && !HANDLED_EXTENSIONS.has(id)) unhandled.push(id);
  }

  // OpenSSL parses the SubjectPublicKeyInfo lazily: a well-framed certificate can still carry a
  // key it cannot decode. Surface that as our typed DER error, not node's plain Error.
  let publicKey: KeyObject;
  try {
    publicKey = x509.publicKey;
  } catch (e) {
    throw new DerError("bad-value", `undecodable subjectPublicKeyInfo: ${(e as Error).message}`);
  }
  return {
    x509,
    der: own,
    subjectDer: subject.raw,
    issuerDer: issuer.raw,
    notBefore: decodeTime(nb),
    notAfter: decodeTime(na),
    commonName: firstCommonName(subject),
    dnsNames,
    basicConstraints,
    keyUsage,
    extKeyUsage,
    unhandledCriticalExtensions: unhandled,
    publicKey,
    namedCurve: publicKey.asymmetricKeyType === "ec" ? publicKey.asymmetricKeyDetails?.namedCurve : undefined,
    sha256: createHash("sha256").update(own).digest("hex"),
    selfIssued: equalBytes(subject.raw, issuer.raw),
  };
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } */
function parseBasicConstraints(value: Uint8Array): { ca: boolean; pathLen: number | undefined } {
  let ca = false;
  let pathLen: number | undefined;
  for (const t of children(readSingle(value, Tag.sequence, "basicConstraints").content)) {
    if (t.tag === Tag.boolean) ca = t.content[0] !== 0;
    else if (t.tag === Tag.integer) pathLen = decodeSmallUint(t.content);
  }
  return { ca, pathLen };
}

/** KeyUsage ::= BIT STRING; named bit n is bit (7 - n % 8) of byte n / 8 after the unused-bits byte. */
function parseKeyUsage(value: Uint8Array): number {
  const bits = readSingle(value, Tag.bitString, "keyUsage").content;
  let flags = 0;
  for (let n = 0; n < 9; n++) {
    const byte = bits[1 + (n >> 3)];
    if (byte !== undefined && byte & (0x80 >> (n & 7))) flags |= 1 << n;
  }
  return flags;
}

/** Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value DirectoryString }: the first CN. */
function firstCommonName(name: Tlv): string | undefined {
  for (const rdn of children(name.content)) {
    for (const atv of children(rdn.content)) {
      const [type, value] = children(atv.content);
      if (type?.tag === Tag.oid && value && decodeOid(type.content) === Oid.commonName) return decodeString(value);
    }
  }
  return undefined;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
