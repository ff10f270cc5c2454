/**
 * Local credentials for TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: our certificate chain and private
 * key (OpenThread SetCertificate, libcoap pki_key public_cert/private_key), and CA sets for the
 * trust store (SetCaCertificateChain, ca_file). Inputs as libcoap takes them: PEM files, PEM
 * buffers, DER. Keys: PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"), not encrypted.
 * Everything is parsed once into KeyObjects: signing with a PEM string re-parses it per call.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { parseCertificate, type CertificateInfo } from "./certificate.js";
import { PkiError } from "./errors.js";
import { loadInput, type PemBlock, type PemOrDerInput } from "./pem.js";
import { TrustStore } from "./trust-store.js";

/** Certificates: any `PemOrDerInput`, or a DER chain (leaf first). */
export type CertificateInput = PemOrDerInput | { readonly der: readonly Uint8Array[] };

export interface Credentials {
  /** Leaf first, then the intermediates to send (RFC 5246 §7.4.2 order). */
  readonly chain: readonly X509Certificate[];
  /** The same chain as DER, ready for the Certificate message. */
  readonly chainDer: readonly Uint8Array[];
  /** The private key of the leaf (EC P-256). */
  readonly key: KeyObject;
  /** The leaf's public key. */
  readonly publicKey: KeyObject;
  /** Parsed leaf (CN, SHA-256, validity...). */
  readonly leaf: CertificateInfo;
}

/** The only curve our suites sign with (ecdsa_secp256r1_sha256); node calls it prime256v1. */
const P256 = "prime256v1";

/**
 * Loads every certificate of an input, in order. Non-certificate PEM blocks (a key in the same
 * file) are skipped. Throws `PkiError` ("no-certificate", "bad-certificate", "bad-pem", "read-failed").
 */
export function loadCertificates(input: CertificateInput, what = "certificate"): CertificateInfo[] {
  let ders: readonly Uint8Array[];
  let source = what;
  if (typeof input === "object" && !(input instanceof Uint8Array) && "der" in input && Array.isArray(input.der)) {
    ders = input.der as readonly Uint8Array[];
  } else {
    const loaded = loadInput(input as PemOrDerInput, what);
    source = loaded.source;
    ders = loaded.kind === "der" ? [loaded.der] : loaded.blocks.filter((b) => b.label === "CERTIFICATE").map((b) => b.der);
  }
  if (ders.length === 0) throw new PkiError("no-certificate", `${source}: no CERTIFICATE found`);
  return ders.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (e) {
      throw new PkiError("bad-certificate", `${source}: certificate #${i + 1} cannot be parsed: ${(e as Error).message}`, {
        cause: e,
      });
    }
  });
}

/**
 * Loads an EC P-256 private key (PKCS#8 or SEC1, PEM or DER). Encrypted keys are refused
 * ("encrypted-key"), other key types and curves too ("unsupported-key").
 */
export function loadPrivateKey(input: PemOrDerInput, what = "private key"): KeyObject {
  const loaded = loadInput(input, what);
  let key: KeyObject;
  if (loaded.kind === "der") {
    key = parseDerKey(loaded.der, loaded.source);
  } else {
    const block = loaded.blocks.find((b) => b.label.endsWith("PRIVATE KEY"));
    if (!block) throw new PkiError("bad-key", `${loaded.source}: no PRIVATE KEY block found`);
    key = parsePemKey(block, loaded.source);
  }
  assertP256(key, loaded.source);
  return key;
}

function parsePemKey(block: PemBlock, source: string): KeyObject {
  if (block.label === "ENCRYPTED PRIVATE KEY" || block.headers.get("Proc-Type")?.includes("ENCRYPTED")) {
    throw new PkiError("encrypted-key", `${source}: the key is password-protected; give an unencrypted key`);
  }
  const type = block.label === "PRIVATE KEY" ? "pkcs8" : block.label === "EC PRIVATE KEY" ? "sec1" : undefined;
  if (!type) throw new PkiError("unsupported-key", `${source}: ${block.label} is not an EC P-256 key`);
  try {
    return createPrivateKey({ key: Buffer.from(block.der), format: "der", type });
  } catch (e) {
    throw new PkiError("bad-key", `${source}: cannot parse the ${block.label}: ${(e as Error).message}`, { cause: e });
  }
}

function parseDerKey(der: Uint8Array, source: string): KeyObject {
  const buf = Buffer.from(der);
  for (const type of ["pkcs8", "sec1"] as const) {
    try {
      return createPrivateKey({ key: buf, format: "der", type });
    } catch (e) {
      // An encrypted PKCS#8 DER parses far enough for OpenSSL to ask for a passphrase.
      if (/passphrase/i.test((e as Error).message)) {
        throw new PkiError("encrypted-key", `${source}: the key is password-protected; give an unencrypted key`);
      }
    }
  }
  throw new PkiError("bad-key", `${source}: DER is neither a PKCS#8 nor a SEC1 private key`);
}

function assertP256(key: KeyObject, source: string): void {
  const curve = key.asymmetricKeyType === "ec" ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (curve !== P256) {
    const what = key.asymmetricKeyType === "ec" ? `EC curve ${curve ?? "?"}` : `${key.asymmetricKeyType ?? "?"} key`;
    throw new PkiError("unsupported-key", `${source}: ${what}; only EC P-256 (secp256r1) is supported`);
  }
}

/**
 * Loads our certificate chain and private key and checks they belong together: the key is P-256
 * and its public half is the leaf's subject key ("key-mismatch" otherwise).
 */
export function loadCredentials(cert: CertificateInput, key: PemOrDerInput): Credentials {
  const chain = loadCertificates(cert, "certificate");
  const privateKey = loadPrivateKey(key);
  const leaf = chain[0] as CertificateInfo;
  if (leaf.namedCurve !== P256) {
    throw new PkiError("unsupported-key", `certificate: the leaf key is not EC P-256 (${leaf.namedCurve ?? leaf.publicKey.asymmetricKeyType})`);
  }
  if (!leaf.x509.checkPrivateKey(privateKey)) {
    throw new PkiError("key-mismatch", `the private key does not belong to the certificate (CN=${leaf.commonName ?? "?"})`);
  }
  return {
    chain: chain.map((c) => c.x509),
    chainDer: chain.map((c) => c.der),
    key: privateKey,
    publicKey: createPublicKey(privateKey),
    leaf,
  };
}

/**
 * Loads one or more CA inputs (a PEM file with many certificates, buffers, DER) into a
 * `TrustStore`. At least one certificate overall is required.
 */
export function loadTrustStore(...inputs: CertificateInput[]): TrustStore {
  if (inputs.length === 0) throw new PkiError("no-certificate", "no CA certificate given");
  return new TrustStore(inputs.flatMap((input) => loadCertificates(input, "CA certificates")));
}
