/**
 * Test-PKI generation without the openssl CLI (the `coaps-edge certs` command calls this).
 * Node can make keys and signatures but not certificates, so we write the X.509 v3
 * TBSCertificate ourselves (RFC 5280 §4.1) with the DER writer: ~no dependency, only the fields
 * our suites need. Keys are EC P-256, signatures ecdsa-with-SHA256 (RFC 5758 §3.2: no params).
 *
 * Profile: serial 16 random bytes (positive, RFC 5280 §4.1.2.2), UTF8String names (O, CN),
 * basicConstraints (critical), keyUsage (critical), subjectKeyIdentifier (SHA-1 of the key,
 * §4.2.1.2 method 1), authorityKeyIdentifier, and for end entities extKeyUsage
 * serverAuth+clientAuth (a Thread device may serve CoAP too) and subjectAltName DNS/IP.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { KeyUsage, Oid, parseCertificate, type CertificateInfo } from "./certificate.js";
import * as der from "./der.js";
import { PkiError } from "./errors.js";
import { toPem } from "./pem.js";

const OID_ORGANIZATION = "2.5.4.10";

export interface NameSpec {
  readonly commonName: string;
  readonly organization?: string;
}

export interface CertificateSpec {
  readonly subject: string | NameSpec;
  /** The subject's public key (EC P-256). */
  readonly publicKey: KeyObject;
  /** The issuing CA and its private key; omit for a self-signed certificate (then `signingKey`). */
  readonly issuer?: { readonly cert: CertificateInfo; readonly key: KeyObject };
  /** The subject's own private key, for a self-signed certificate. */
  readonly signingKey?: KeyObject;
  readonly ca?: boolean;
  /** basicConstraints pathLenConstraint (CAs only). */
  readonly pathLen?: number;
  /** `KeyUsage.*` flags. Default: CA keyCertSign|cRLSign, end entity digitalSignature. */
  readonly keyUsage?: number;
  /** extKeyUsage OIDs; default end entity [serverAuth, clientAuth], CA none. [] omits it. */
  readonly extKeyUsage?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Positive big-endian serial; default 16 random bytes. */
  readonly serial?: Uint8Array;
  /** More extensions, appended as given (tests: an unknown critical extension). */
  readonly extraExtensions?: readonly { readonly oid: string; readonly critical: boolean; readonly value: Uint8Array }[];
}

export interface GeneratedCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly info: CertificateInfo;
}

/** A fresh EC P-256 key pair. */
export function generateP256KeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

/** Builds and signs one certificate. Throws `PkiError("bad-option")` on impossible specs. */
export function createCertificate(spec: CertificateSpec): GeneratedCertificate {
  const signer = spec.issuer?.key ?? spec.signingKey;
  if (!signer) throw new PkiError("bad-option", "a certificate needs an issuer or, self-signed, its signingKey");
  if (signer.asymmetricKeyDetails?.namedCurve !== "prime256v1") throw new PkiError("bad-option", "the signing key must be EC P-256");
  if (spec.notAfter.getTime() < spec.notBefore.getTime()) throw new PkiError("bad-option", "notAfter is before notBefore");

  const ca = spec.ca ?? false;
  const spki = new Uint8Array(spec.publicKey.export({ type: "spki", format: "der" }));
  const ski = keyIdentifier(spki);
  const subjectName = encodeName(typeof spec.subject === "string" ? { commonName: spec.subject } : spec.subject);
  const issuerName = spec.issuer ? spec.issuer.cert.subjectDer : subjectName;
  const authorityKeyId = spec.issuer ? keyIdentifier(new Uint8Array(spec.issuer.cert.publicKey.export({ type: "spki", format: "der" }))) : ski;

  const extensions: Uint8Array[] = [
    extension(Oid.basicConstraints, true, ca ? der.seq(der.boolean(true), ...(spec.pathLen !== undefined ? [der.integer(spec.pathLen)] : [])) : der.seq()),
    extension(Oid.keyUsage, true, keyUsageBits(spec.keyUsage ?? (ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature))),
    extension(Oid.subjectKeyIdentifier, false, der.octetString(ski)),
    extension(Oid.authorityKeyIdentifier, false, der.seq(der.implicitPrimitive(0, authorityKeyId))),
  ];
  const eku = spec.extKeyUsage ?? (ca ? [] : [Oid.serverAuth, Oid.clientAuth]);
  if (eku.length > 0) extensions.push(extension(Oid.extKeyUsage, false, der.seq(...eku.map(der.oid))));
  const altNames = [
    ...(spec.dnsNames ?? []).map((n) => der.implicitPrimitive(2, new TextEncoder().encode(n))), // dNSName [2] IA5String
    ...(spec.ipAddresses ?? []).map((ip) => der.implicitPrimitive(7, ipBytes(ip))), // iPAddress [7] OCTET STRING
  ];
  if (altNames.length > 0) extensions.push(extension(Oid.subjectAltName, false, der.seq(...altNames)));
  for (const e of spec.extraExtensions ?? []) extensions.push(extension(e.oid, e.critical, e.value));

  const signatureAlgorithm = der.seq(der.oid(Oid.ecdsaWithSha256));
  const tbs = der.seq(
    der.explicit(0, der.integer(2)), // v3
    der.integer(spec.serial ?? randomSerial()),
    signatureAlgorithm,
    issuerName,
    der.seq(der.time(spec.notBefore), der.time(spec.notAfter)),
    subjectName,
    spki,
    der.explicit(3, der.seq(...extensions)),
  );
  const signature = new Uint8Array(sign("sha256", tbs, signer));
  const certDer = der.seq(tbs, signatureAlgorithm, der.bitString(signature));
  return { der: certDer, pem: toPem("CERTIFICATE", certDer), info: parseCertificate(certDer) };
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return der.seq(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** Name with an optional O and a CN, one attribute per RDN, UTF8String (RFC 5280 §4.1.2.6). */
function encodeName(name: NameSpec): Uint8Array {
  const rdn = (type: string, value: string): Uint8Array => der.set(der.seq(der.oid(type), der.utf8String(value)));
  return der.seq(
    ...(name.organization ? [rdn(OID_ORGANIZATION, name.organization)] : []),
    rdn(Oid.commonName, name.commonName),
  );
}

/** SHA-1 of the subjectPublicKey BIT STRING value (RFC 5280 §4.2.1.2, method 1). */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const [, bits] = der.children(der.readSingle(spki, der.Tag.sequence, "SubjectPublicKeyInfo").content);
  const key = der.expectTag(bits, der.Tag.bitString, "subjectPublicKey").content.subarray(1);
  return new Uint8Array(createHash("sha1").update(key).digest());
}

/** Named-bit BIT STRING: trailing zero bits dropped (X.690 §11.2.2). */
function keyUsageBits(flags: number): Uint8Array {
  if (flags === 0) throw new PkiError("bad-option", "keyUsage needs at least one bit");
  const highest = 31 - Math.clz32(flags);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (let n = 0; n <= highest; n++) if (flags & (1 << n)) bytes[n >> 3] = (bytes[n >> 3] as number) | (0x80 >> (n & 7));
  return der.bitString(bytes, bytes.length * 8 - (highest + 1));
}

function randomSerial(): Uint8Array {
  const s = new Uint8Array(randomBytes(16));
  s[0] = ((s[0] as number) & 0x7f) | 0x40; // positive, and exactly 16 bytes in DER
  return s;
}

/** IPv4 (4 bytes) or IPv6 (16 bytes, `::` and a dotted IPv4 tail allowed) address bytes. */
export function ipBytes(ip: string): Uint8Array {
  const v = isIP(ip);
  if (v === 4) return Uint8Array.from(ip.split(".").map(Number));
  if (v !== 6) throw new PkiError("bad-option", `not an IP address: ${ip}`);
  let s = ip.replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split(".").map(Number) as [number, number, number, number];
    s = s.slice(0, v4.index) + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const [head = "", tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// A whole test PKI: CA, optional intermediate, a server and devices.

export interface TestPkiOptions {
  /** Default "coaps-edge test CA". */
  readonly caCommonName?: string;
  /** Add an intermediate CA between the root and the leaves (true, or its CN). */
  readonly intermediate?: boolean | string;
  /** The server leaf (CN + SAN); false for none. Default CN "localhost", DNS localhost, IP 127.0.0.1 and ::1. */
  readonly server?: false | { readonly commonName?: string; readonly dnsNames?: readonly string[]; readonly ipAddresses?: readonly string[] };
  /** Device leaves: a count (device-001, device-002, ...) or the CNs. Default 1. */
  readonly devices?: number | readonly string[];
  /** Organization in every subject. Default "coaps-edge". */
  readonly organization?: string;
  /** The current time. Default now. */
  readonly now?: Date;
  /** Leaf validity start. Default now - 1 hour (clock skew). */
  readonly notBefore?: Date;
  /** Leaf validity end; a past date makes expired leaves (tests). Default notBefore + `days`. */
  readonly notAfter?: Date;
  /** Leaf validity in days when notAfter is not given. Default 365. */
  readonly days?: number;
  /** CA validity in days. Default 3650. */
  readonly caDays?: number;
}

export interface IssuedCredential {
  readonly commonName: string;
  readonly cert: GeneratedCertificate;
  readonly privateKey: KeyObject;
  /** PEM of the certificate followed by the intermediate (if any): what a peer sends. */
  readonly chainPem: string;
  /** PKCS#8 PEM of the private key. */
  readonly keyPem: string;
}

export interface TestPki {
  readonly ca: IssuedCredential;
  readonly intermediate: IssuedCredential | undefined;
  readonly server: IssuedCredential | undefined;
  readonly devices: readonly IssuedCredential[];
}

const DAY = 86_400_000;

/** Generates a complete test PKI in memory (write it with `writeTestPki`). */
export function generateTestPki(options: TestPkiOptions = {}): TestPki {
  const now = options.now ?? new Date();
  const org = options.organization ?? "coaps-edge";
  const caNotBefore = new Date(now.getTime() - 3600_000);
  const caNotAfter = new Date(caNotBefore.getTime() + (options.caDays ?? 3650) * DAY);
  const notBefore = options.notBefore ?? caNotBefore;
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 365) * DAY);

  const issue = (
    commonName: string,
    issuer: IssuedCredential | undefined,
    extra: Partial<CertificateSpec> & Pick<CertificateSpec, "notBefore" | "notAfter">,
    chainTail = "",
  ): IssuedCredential => {
    const { privateKey, publicKey } = generateP256KeyPair();
    const cert = createCertificate({
      subject: { commonName, organization: org },
      publicKey,
      ...(issuer ? { issuer: { cert: issuer.cert.info, key: issuer.privateKey } } : { signingKey: privateKey }),
      ...extra,
    });
    return { commonName, cert, privateKey, chainPem: cert.pem + chainTail, keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
  };

  const ca = issue(options.caCommonName ?? "coaps-edge test CA", undefined, { ca: true, notBefore: caNotBefore, notAfter: caNotAfter });
  const intermediate = options.intermediate
    ? issue(typeof options.intermediate === "string" ? options.intermediate : "coaps-edge intermediate CA", ca, {
        ca: true,
        pathLen: 0,
        notBefore: caNotBefore,
        notAfter: caNotAfter,
      })
    : undefined;
  const leafIssuer = intermediate ?? ca;
  const chainTail = intermediate?.cert.pem ?? "";

  const serverOpt = options.server === false ? undefined : (options.server ?? {});
  const server = serverOpt
    ? issue(serverOpt.commonName ?? "localhost", leafIssuer, {
        dnsNames: serverOpt.dnsNames ?? ["localhost"],
        ipAddresses: serverOpt.ipAddresses ?? ["127.0.0.1", "::1"],
        notBefore,
        notAfter,
      }, chainTail)
    : undefined;
  const deviceNames =
    typeof options.devices === "number" || options.devices === undefined
      ? Array.from({ length: options.devices ?? 1 }, (_, i) => `device-${String(i + 1).padStart(3, "0")}`)
      : options.devices;
  const devices = deviceNames.map((cn) => issue(cn, leafIssuer, { notBefore, notAfter }, chainTail));
  return { ca, intermediate, server, devices };
}

export interface WrittenPki {
  readonly dir: string;
  /** Every file written, absolute or relative as `dir` was given. */
  readonly files: readonly string[];
}

/**
 * Writes a test PKI as PEM files: `ca.crt ca.key`, `intermediate.crt intermediate.key`,
 * `server.crt server.key`, `<device CN>.crt <device CN>.key`. Leaf `.crt` files hold the leaf
 * then the intermediate (the chain a peer sends). Keys are PKCS#8 with mode 0600, certificates
 * 0644, a new directory 0700. Existing files are an error unless `overwrite`.
 */
export function writeTestPki(pki: TestPki, dir: string, options: { readonly overwrite?: boolean } = {}): WrittenPki {
  const entries: Array<[string, IssuedCredential]> = [["ca", pki.ca]];
  if (pki.intermediate) entries.push(["intermediate", pki.intermediate]);
  if (pki.server) entries.push(["server", pki.server]);
  for (const d of pki.devices) entries.push([d.commonName.replace(/[^A-Za-z0-9._-]/g, "_"), d]);

  const planned: Array<[string, string, number]> = [];
  for (const [base, cred] of entries) {
    planned.push([join(dir, `${base}.crt`), base === "ca" || base === "intermediate" ? cred.cert.pem : cred.chainPem, 0o644]);
    planned.push([join(dir, `${base}.key`), cred.keyPem, 0o600]);
  }
  if (!options.overwrite) {
    const existing = planned.filter(([path]) => existsSync(path)).map(([path]) => path);
    if (existing.length > 0) throw new PkiError("file-exists", `refusing to overwrite ${existing.join(", ")}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [path, text, mode] of planned) {
    writeFileSync(path, text, { mode });
    chmodSync(path, mode); // writeFileSync's mode only applies when it creates the file
  }
  return { dir, files: planned.map(([path]) => path) };
}
