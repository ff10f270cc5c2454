/**
 * Peer certificate chain validation with libcoap's coap_dtls_pki_t policy knobs (man
 * coap_encryption), the way libcoap's OpenSSL/wolfSSL verify callback applies them:
 *
 * - verify_peer_cert = 0: nothing is checked (libcoap then also forces the other knobs open).
 *   We still require a parsable leaf with a P-256 key: the engine must verify the peer's
 *   ECDSA signatures with it.
 * - a chain that does not end at one of our CAs is refused while verify_peer_cert = 1 (OpenSSL's
 *   UNABLE_TO_GET_ISSUER_CERT_LOCALLY / SELF_SIGNED_CERT_IN_CHAIN are only overridden by
 *   verify_peer_cert = 0), whatever check_common_ca says.
 * - check_common_ca: self-signed peers are never allowed (allow_self_signed is ignored), and the
 *   server lists its CA names in CertificateRequest (`TrustStore.subjectNames()`).
 * - allow_self_signed: a self-signed leaf that is not one of our CAs is accepted.
 * - allow_expired_certs: expired AND not-yet-valid certificates are accepted.
 * - cert_chain_validation + cert_chain_verify_depth: the depth is the number of intermediate CAs
 *   allowed; a certificate at chain depth d (leaf 0) is refused when d > depth + 1.
 * - check_cert_revocation / allow_no_crl / allow_expired_crl: node has no CRL support, so no CRL
 *   is ever available. Revocation checking with allow_no_crl = 0 therefore refuses every chain
 *   (as libcoap does with no CRL loaded); with allow_no_crl = 1 (the default) it is a no-op.
 * - validate_cn_call_back(cn, der, depth, validated): called for every certificate of the path,
 *   root first and leaf last (OpenSSL's verify-callback order); returning false refuses.
 *   `validated` is false when a check was overridden for that certificate (expired allowed,
 *   self-signed allowed). libcoap passes the SAN DNS name before the CN; we pass the subject CN
 *   (the handler identity, DESIGN.md §3), falling back to the first DNS name.
 *
 * The path is built, not assumed: each certificate's issuer is searched among our CAs first,
 * then among the certificates the peer sent, by `checkIssued` (names, key identifiers, keyUsage)
 * AND a signature check with the issuer's key (`checkIssued` alone compares names only).
 *
 * Alerts follow RFC 5246 §7.2.2 and, where the RFC leaves a choice, OpenSSL's
 * ssl_verify_alarm_type so our peers see what an OpenSSL peer would send them.
 */
import type { KeyObject, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { KeyUsage, Oid, parseCertificate, type CertificateInfo } from "./certificate.js";
import { TlsAlert } from "./errors.js";
import type { TrustStore } from "./trust-store.js";
import { TwoGenerationMap } from "../util/two-generation-map.js";

/** libcoap's coap_dtls_pki_t verification knobs, in TypeScript spelling. */
export interface PkiPolicy {
  /** Check the peer certificate at all (OpenThread SetSslAuthMode). Default true. */
  readonly verifyPeerCert?: boolean;
  /** The peer chain must end at one of our CAs and may not be self-signed. Default true. */
  readonly checkCommonCa?: boolean;
  /** Accept a self-signed peer certificate (ignored when checkCommonCa). Default false. */
  readonly allowSelfSigned?: boolean;
  /** Accept expired and not-yet-valid certificates. Default false. */
  readonly allowExpiredCerts?: boolean;
  /** Enforce certChainVerifyDepth. Default true. */
  readonly certChainValidation?: boolean;
  /** Number of intermediate CAs allowed between the leaf and our CA. Default 3. */
  readonly certChainVerifyDepth?: number;
  /** Ask for revocation checks: no CRL support, see the module comment. Default false. */
  readonly checkCertRevocation?: boolean;
  /** Accept certificates without a CRL. Default true (no CRL is ever available here). */
  readonly allowNoCrl?: boolean;
  /** Accepted for parity; without CRLs it has no effect. Default true. */
  readonly allowExpiredCrl?: boolean;
  /** libcoap validate_cn_call_back: return false to refuse (alert access_denied). */
  readonly validateCn?: (cn: string, der: Uint8Array, depth: number, validated: boolean) => boolean;
  /** A host name or IP address the leaf must match (SAN, else CN): the client's SNI / URI host. */
  readonly host?: string;
  /** When the leaf has extKeyUsage, it must allow this role (RFC 5280 §4.2.1.12). */
  readonly purpose?: "server" | "client";
}

/**
 * Defaults. The struct itself has no defaults (libcoap zeroes it); these follow the checks
 * libcoap's own coap-client/coap-server enable with a CA file (-C), except that expired
 * certificates are refused (coap-client allows them) and the depth is the value coap_dtls.h
 * recommends (3; coap-client itself uses 2).
 */
export const DEFAULT_PKI_POLICY: Readonly<PolicyFlags> = {
  verifyPeerCert: true,
  checkCommonCa: true,
  allowSelfSigned: false,
  allowExpiredCerts: false,
  certChainValidation: true,
  certChainVerifyDepth: 3,
  checkCertRevocation: false,
  allowNoCrl: true,
  allowExpiredCrl: true,
};

type PolicyFlags = Required<Omit<PkiPolicy, "validateCn" | "host" | "purpose">>;

/** A policy with every flag decided. */
export type ResolvedPkiPolicy = PolicyFlags & Pick<PkiPolicy, "validateCn" | "host" | "purpose">;

/** A hard limit on certificates in a peer chain, whatever the policy (bounds the work). */
export const MAX_PEER_CHAIN = 10;

export type ValidationCode =
  /** the peer sent no certificate (RFC 5246 §7.4.6: handshake_failure) */
  | "no-certificate"
  /** a certificate is not valid DER / X.509 */
  | "bad-encoding"
  /** the leaf key is not EC P-256, unusable for ecdsa_secp256r1_sha256 */
  | "unsupported-key"
  /** keyUsage/extKeyUsage of the leaf forbid signing / this role */
  | "bad-key-usage"
  /** a critical extension we do not implement (RFC 5280 §4.2) */
  | "unhandled-critical-extension"
  | "expired"
  | "not-yet-valid"
  /** the chain does not end at one of our CAs */
  | "unknown-ca"
  /** a certificate's signature does not verify with its issuer's key */
  | "bad-signature"
  /** a self-signed leaf that is not one of our CAs, and self-signed is not allowed */
  | "self-signed"
  /** more intermediates than certChainVerifyDepth, or more than MAX_PEER_CHAIN certificates */
  | "depth-exceeded"
  /** an issuer's basicConstraints pathLenConstraint is exceeded */
  | "path-length-exceeded"
  /** an issuer without basicConstraints cA or without keyUsage keyCertSign */
  | "not-a-ca"
  /** checkCertRevocation with allowNoCrl = false: no CRL can be had */
  | "crl-unavailable"
  /** the CN callback refused a certificate */
  | "cn-rejected"
  /** the leaf does not match `host` */
  | "host-mismatch";

export type ValidationResult =
  | {
      readonly ok: true;
      readonly leaf: X509Certificate;
      /** The leaf's public key, cached: verify ServerKeyExchange / CertificateVerify with it. */
      readonly publicKey: KeyObject;
      /** Subject CN (else first DNS name, else ""): the handler identity. */
      readonly cn: string;
      /** SHA-256 of the leaf DER, lowercase hex, no colons. */
      readonly sha256: string;
      /** The validated path, leaf first, ending at the trusted CA (just the leaf when unverified). */
      readonly path: readonly CertificateInfo[];
      /** False when verifyPeerCert was off: nothing but the leaf's form was checked. */
      readonly verified: boolean;
      /** Checks that failed but were allowed by the policy (e.g. "expired", "self-signed"). */
      readonly overridden: readonly ValidationCode[];
    }
  | {
      readonly ok: false;
      readonly code: ValidationCode;
      /** The TLS alert description to send (fatal). */
      readonly alert: number;
      /** Chain depth of the offending certificate (0 = leaf). */
      readonly depth: number;
      readonly message: string;
    };

const ALERT: Record<ValidationCode, number> = {
  "no-certificate": TlsAlert.handshake_failure,
  "bad-encoding": TlsAlert.bad_certificate, // "A certificate was corrupt"
  "unsupported-key": TlsAlert.unsupported_certificate,
  "bad-key-usage": TlsAlert.unsupported_certificate, // OpenSSL: X509_V_ERR_INVALID_PURPOSE
  "unhandled-critical-extension": TlsAlert.certificate_unknown,
  expired: TlsAlert.certificate_expired,
  // RFC 5246: certificate_expired is "expired or is not currently valid" (OpenSSL sends 42 here).
  "not-yet-valid": TlsAlert.certificate_expired,
  "unknown-ca": TlsAlert.unknown_ca,
  // RFC 5246: bad_certificate "contains signatures that did not verify correctly".
  "bad-signature": TlsAlert.bad_certificate,
  "self-signed": TlsAlert.unknown_ca,
  "depth-exceeded": TlsAlert.unknown_ca, // OpenSSL: CERT_CHAIN_TOO_LONG
  "path-length-exceeded": TlsAlert.unknown_ca,
  "not-a-ca": TlsAlert.unknown_ca, // OpenSSL: INVALID_CA
  "crl-unavailable": TlsAlert.unknown_ca, // OpenSSL: UNABLE_TO_GET_CRL
  // RFC 5246 access_denied: "A valid certificate was received, but when access control was
  // applied, the sender decided not to proceed".
  "cn-rejected": TlsAlert.access_denied,
  "host-mismatch": TlsAlert.bad_certificate, // OpenSSL: HOSTNAME_MISMATCH
};

type Failure = Extract<ValidationResult, { ok: false }>;

function fail(code: ValidationCode, depth: number, message: string): Failure {
  return { ok: false, code, alert: ALERT[code], depth, message };
}

/** The identity of a certificate: subject CN, else the first DNS name, else "". */
export function certificateIdentity(cert: CertificateInfo): string {
  return cert.commonName ?? cert.dnsNames[0] ?? "";
}

/**
 * Parsed peer certificates by their DER bytes. A client reconnecting to the same server (and a
 * server whose devices reconnect with mutual auth) receives the same certificates each
 * handshake, and a parse is node's X509Certificate plus our DER walk: ≈ 100–300 µs, most of a
 * client's ECDHE handshake CPU besides the ECDH itself. Only the parse is cached: the same bytes
 * give the same result; the validity period, trust anchors, signatures and policy are checked
 * for every handshake. Bounded (two generations of 32 chains' worth).
 */
const parsed = new TwoGenerationMap<string, CertificateInfo>(64);

function parsePeerCertificate(der: Uint8Array): CertificateInfo {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("latin1");
  let info = parsed.get(key);
  if (!info) parsed.set(key, (info = parseCertificate(der)));
  return info;
}

/**
 * Validates a peer's certificate chain (the certificate_list of its Certificate message, leaf
 * first) against our trust store and policy, at wall-clock time `now` (epoch ms or Date; default
 * Date.now() — not the monotonic `Clock.now()` of the protocol timers). Never throws: a throwing
 * CN callback counts as a refusal.
 */
export function validatePeerChain(
  chainDer: readonly Uint8Array[],
  trust: TrustStore,
  policy: PkiPolicy = {},
  now: number | Date = Date.now(),
): ValidationResult {
  const p = resolvePolicy(policy);
  const at = typeof now === "number" ? now : now.getTime();

  if (chainDer.length === 0) return fail("no-certificate", 0, "the peer sent no certificate");
  if (chainDer.length > MAX_PEER_CHAIN) {
    return fail("depth-exceeded", MAX_PEER_CHAIN, `${chainDer.length} certificates (limit ${MAX_PEER_CHAIN})`);
  }
  const sent: CertificateInfo[] = [];
  for (const [i, der] of chainDer.entries()) {
    try {
      sent.push(parsePeerCertificate(der));
    } catch (e) {
      return fail("bad-encoding", i, `certificate ${i}: ${(e as Error).message}`);
    }
  }
  const leaf = sent[0] as CertificateInfo;
  if (leaf.namedCurve !== "prime256v1") {
    return fail("unsupported-key", 0, `leaf key is ${leaf.namedCurve ?? leaf.publicKey.asymmetricKeyType}, not EC P-256`);
  }
  if (!p.verifyPeerCert) return success(leaf, [leaf], false, []);

  const overridden: ValidationCode[] = [];
  const overriddenAt = new Set<number>();
  const override = (code: ValidationCode, depth: number): void => {
    if (!overridden.includes(code)) overridden.push(code);
    overriddenAt.add(depth);
  };

  // 1. Build the path to a trust anchor.
  const built = buildPath(sent, trust);
  if (!built.ok) {
    const selfSignedAllowed = p.allowSelfSigned && !p.checkCommonCa;
    if (built.code !== "self-signed" || !selfSignedAllowed) return built;
    override("self-signed", 0);
  }
  const path = built.ok ? built.path : [leaf];

  // 2. Depth: certificate at depth d refused when d > depth + 1 (libcoap's verify callback).
  const top = path.length - 1;
  if (p.certChainValidation && top > p.certChainVerifyDepth + 1) {
    return fail("depth-exceeded", top, `${top - 1} intermediate CAs, at most ${p.certChainVerifyDepth} allowed`);
  }

  // 3. Extensions: issuers must be CAs that may sign certificates, within their path length.
  for (const [d, cert] of path.entries()) {
    if (cert.unhandledCriticalExtensions.length > 0) {
      return fail("unhandled-critical-extension", d, `unknown critical extension ${cert.unhandledCriticalExtensions.join(", ")}`);
    }
    if (d === 0) continue;
    const bc = cert.basicConstraints;
    // A trusted root without basicConstraints (X.509 v1 style) is trusted by configuration.
    if (bc ? !bc.ca : !trust.has(cert)) return fail("not-a-ca", d, `${describe(cert)} is not a CA (basicConstraints cA)`);
    if (cert.keyUsage !== undefined && !(cert.keyUsage & KeyUsage.keyCertSign)) {
      return fail("not-a-ca", d, `${describe(cert)} may not sign certificates (keyUsage keyCertSign)`);
    }
    // RFC 5280 §4.2.1.9: pathLen counts the non-self-issued intermediates below this CA.
    const below = path.slice(1, d).filter((c) => !c.selfIssued).length;
    if (bc?.pathLen !== undefined && below > bc.pathLen) {
      return fail("path-length-exceeded", d, `${describe(cert)} allows ${bc.pathLen} intermediates below it, has ${below}`);
    }
  }

  // 4. Validity of every certificate, trust anchor included (as OpenSSL checks).
  for (const [d, cert] of path.entries()) {
    const code = at > cert.notAfter ? "expired" : at < cert.notBefore ? "not-yet-valid" : undefined;
    if (!code) continue;
    if (!p.allowExpiredCerts) {
      const when = new Date(code === "expired" ? cert.notAfter : cert.notBefore).toISOString();
      return fail(code, d, `${describe(cert)} ${code === "expired" ? "expired" : "is valid from"} ${when}`);
    }
    override(code, d);
  }

  // 5. The leaf must be usable for ECDSA signing in this role (RFC 8422 §5.3, RFC 5280 §4.2.1.3).
  if (leaf.keyUsage !== undefined && !(leaf.keyUsage & KeyUsage.digitalSignature)) {
    return fail("bad-key-usage", 0, "leaf keyUsage lacks digitalSignature");
  }
  if (p.purpose && leaf.extKeyUsage) {
    const want = p.purpose === "server" ? Oid.serverAuth : Oid.clientAuth;
    if (!leaf.extKeyUsage.includes(want) && !leaf.extKeyUsage.includes(Oid.anyExtendedKeyUsage)) {
      return fail("bad-key-usage", 0, `leaf extKeyUsage does not allow ${p.purpose}Auth`);
    }
  }

  // 6. Revocation: no CRL source exists here.
  if (p.checkCertRevocation && !p.allowNoCrl) {
    return fail("crl-unavailable", 0, "revocation check asked with allowNoCrl = false, and CRLs are not supported");
  }

  // 7. The application's CN check, root first, leaf last.
  if (p.validateCn) {
    for (let d = top; d >= 0; d--) {
      const cert = path[d] as CertificateInfo;
      let accepted: boolean;
      try {
        accepted = p.validateCn(certificateIdentity(cert), cert.der.slice(), d, !overriddenAt.has(d)) === true;
      } catch {
        accepted = false;
      }
      if (!accepted) return fail("cn-rejected", d, `the CN callback refused ${describe(cert)} at depth ${d}`);
    }
  }

  // 8. Host check (client side: the server must be who we asked for).
  if (p.host !== undefined && !hostMatches(leaf, p.host)) {
    return fail("host-mismatch", 0, `leaf does not match host ${p.host}`);
  }

  return success(leaf, path, true, overridden);
}

/**
 * True when the certificate covers `host`: a DNS name (subjectAltName dNSName, wildcards as
 * OpenSSL matches them; the CN only when there is no DNS SAN) or an IP address, bare or in
 * brackets. Also for a server choosing its credentials by the client's SNI. Never throws.
 */
export function hostMatches(cert: CertificateInfo, host: string): boolean {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  try {
    return (isIP(h) ? cert.x509.checkIP(h) : cert.x509.checkHost(h)) !== undefined;
  } catch {
    return false;
  }
}

/**
 * The policy with defaults filled in. An explicit `undefined` keeps the default: a config field
 * left unset must never switch verification off.
 */
export function resolvePolicy(policy: PkiPolicy = {}): ResolvedPkiPolicy {
  const out: Record<string, unknown> = { ...DEFAULT_PKI_POLICY };
  for (const [k, v] of Object.entries(policy)) if (v !== undefined) out[k] = v;
  if (!Number.isInteger(out.certChainVerifyDepth) || (out.certChainVerifyDepth as number) < 0) {
    out.certChainVerifyDepth = DEFAULT_PKI_POLICY.certChainVerifyDepth;
  }
  return out as ResolvedPkiPolicy;
}

function success(
  leaf: CertificateInfo,
  path: readonly CertificateInfo[],
  verified: boolean,
  overridden: readonly ValidationCode[],
): ValidationResult {
  return {
    ok: true,
    leaf: leaf.x509,
    publicKey: leaf.publicKey,
    cn: certificateIdentity(leaf),
    sha256: leaf.sha256,
    path,
    verified,
    overridden,
  };
}

type PathResult = { readonly ok: true; readonly path: CertificateInfo[] } | Failure;

/**
 * Walks from the leaf to a trust anchor. At each step: stop if this certificate is itself
 * trusted; else take a trusted issuer whose key verifies it; else an unused peer-sent issuer
 * whose key verifies it. Order of the peer's list is not relied on.
 */
function buildPath(sent: readonly CertificateInfo[], trust: TrustStore): PathResult {
  const path: CertificateInfo[] = [sent[0] as CertificateInfo];
  const unused = new Set(sent.slice(1));
  for (;;) {
    const cur = path[path.length - 1] as CertificateInfo;
    const depth = path.length - 1;
    if (trust.has(cur)) return { ok: true, path };
    let nameMatchedButBadSignature = false;
    const tryIssuers = (candidates: Iterable<CertificateInfo>): CertificateInfo | undefined => {
      for (const c of candidates) {
        if (c === cur || !cur.x509.checkIssued(c.x509)) continue;
        if (cur.x509.verify(c.publicKey)) return c;
        nameMatchedButBadSignature = true;
      }
      return undefined;
    };
    const anchor = tryIssuers(trust.certificates);
    if (anchor) {
      path.push(anchor);
      return { ok: true, path };
    }
    const next = tryIssuers(unused);
    if (next) {
      unused.delete(next);
      path.push(next);
      continue;
    }
    if (nameMatchedButBadSignature) return fail("bad-signature", depth, `${describe(cur)}: signature does not verify with its issuer's key`);
    // Self-issued by name (checkIssued(self) would also demand keyCertSign, which a self-signed
    // end entity lacks).
    if (cur.selfIssued || cur.x509.checkIssued(cur.x509)) {
      if (!cur.x509.verify(cur.publicKey)) return fail("bad-signature", depth, `${describe(cur)}: bad self-signature`);
      return depth === 0
        ? fail("self-signed", 0, `${describe(cur)} is self-signed and not one of our CAs`)
        : fail("unknown-ca", depth, `chain ends at ${describe(cur)}, which is not one of our CAs`);
    }
    return fail("unknown-ca", depth, `issuer of ${describe(cur)} is not one of our CAs`);
  }
}

function describe(cert: CertificateInfo): string {
  return `"${cert.commonName ?? cert.x509.subject.replace(/\n/g, ", ")}"`;
}
