/**
 * libcoap client credentials (coap_dtls_cpsk_t, coap_dtls_pki_t, root CAs) turned into what the
 * DTLS client and the TLS transports take. Loading errors become CoapSessionError
 * "bad-credentials"; features we lack become "not-supported".
 */
import type { DtlsClientPki } from "../../dtls/key-exchange/pki-options.js";
import type { PskClientCredentials } from "../../dtls/key-exchange/psk.js";
import { loadCertificates, loadCredentials, type Credentials } from "../../pki/credentials.js";
import type { PemOrDerInput } from "../../pki/pem.js";
import { TrustStore } from "../../pki/trust-store.js";
import type { PkiPolicy } from "../../pki/validate.js";
import { CoapSessionError } from "./errors.js";
import type { CoapDtlsCpsk, CoapDtlsCpskInfo, CoapDtlsPki, CoapPkiKey } from "./types.js";

const utf8 = new TextEncoder();

/** psk_info as the DTLS client's PSK credentials; an empty identity or key is "bad-credentials". */
export function pskInfo(info: CoapDtlsCpskInfo): PskClientCredentials {
  const identity = typeof info.identity === "string" ? info.identity : new TextDecoder().decode(info.identity);
  const key = typeof info.key === "string" ? utf8.encode(info.key) : Uint8Array.from(info.key);
  if (identity.length === 0 || key.length === 0) throw new CoapSessionError("bad-credentials", "the PSK identity and key must not be empty");
  return { identity, key };
}

/** The DTLS client options of a coap_dtls_cpsk_t. */
export function cpskOptions(setup: CoapDtlsCpsk): {
  psk: PskClientCredentials;
  pskHintCallback?: (hint: string) => PskClientCredentials | undefined;
  sni?: string;
} {
  const psk = pskInfo(setup);
  const validate = setup.validateIdentityHint;
  return {
    psk,
    ...(validate
      ? {
          pskHintCallback: (hint: string) => {
            const chosen = validate(hint);
            return chosen ? pskInfo(chosen) : undefined;
          },
        }
      : {}),
    ...(setup.clientSni !== undefined ? { sni: setup.clientSni } : {}),
  };
}

/** Our certificate/key and the CAs of a coap_pki_key_t. */
export function loadPkiKey(key: CoapPkiKey): { credentials?: Credentials; ca?: TrustStore } {
  let cert: PemOrDerInput | undefined;
  let priv: PemOrDerInput | undefined;
  let ca: PemOrDerInput | undefined;
  switch (key.keyType) {
    case "pem":
      cert = key.publicCert === undefined ? undefined : { path: key.publicCert };
      priv = key.privateKey === undefined ? undefined : { path: key.privateKey };
      ca = key.caFile === undefined ? undefined : { path: key.caFile };
      break;
    case "pem_buf":
      cert = key.publicCert === undefined ? undefined : { pem: key.publicCert };
      priv = key.privateKey === undefined ? undefined : { pem: key.privateKey };
      ca = key.caCert === undefined ? undefined : { pem: key.caCert };
      break;
    case "asn1":
      cert = key.publicCert === undefined ? undefined : { der: key.publicCert };
      priv = key.privateKey === undefined ? undefined : { der: key.privateKey };
      ca = key.caCert === undefined ? undefined : { der: key.caCert };
      break;
    case "pkcs11":
      throw new CoapSessionError("not-supported", "PKCS#11 keys (COAP_PKI_KEY_PKCS11) are not supported");
  }
  if ((cert === undefined) !== (priv === undefined)) {
    throw new CoapSessionError("bad-credentials", "pki_key needs both public_cert and private_key, or neither");
  }
  try {
    return {
      ...(cert !== undefined && priv !== undefined ? { credentials: loadCredentials(cert, priv) } : {}),
      ...(ca !== undefined ? { ca: new TrustStore(loadCertificates(ca, "CA certificates")) } : {}),
    };
  } catch (e) {
    throw new CoapSessionError("bad-credentials", (e as Error).message, { cause: e });
  }
}

/** The validation knobs of a coap_dtls_pki_t (only those the caller set; the rest default). */
export function pkiPolicy(setup: CoapDtlsPki): Partial<PkiPolicy> {
  const p: { -readonly [K in keyof PkiPolicy]?: PkiPolicy[K] } = {};
  p.verifyPeerCert = setup.verifyPeerCert ?? true;
  p.checkCommonCa = setup.checkCommonCa ?? true;
  if (setup.allowSelfSigned !== undefined) p.allowSelfSigned = setup.allowSelfSigned;
  if (setup.allowExpiredCerts !== undefined) p.allowExpiredCerts = setup.allowExpiredCerts;
  if (setup.certChainValidation !== undefined) p.certChainValidation = setup.certChainValidation;
  if (setup.certChainVerifyDepth !== undefined) p.certChainVerifyDepth = setup.certChainVerifyDepth;
  if (setup.checkCertRevocation !== undefined) p.checkCertRevocation = setup.checkCertRevocation;
  if (setup.allowNoCrl !== undefined) p.allowNoCrl = setup.allowNoCrl;
  if (setup.allowExpiredCrl !== undefined) p.allowExpiredCrl = setup.allowExpiredCrl;
  if (setup.validateCn) p.validateCn = setup.validateCn;
  return p;
}

/** The DTLS client's `pki` for a coap_dtls_pki_t, the context's root CAs added to the trust. */
export function pkiOptions(setup: CoapDtlsPki, rootCas: TrustStore | undefined): { pki: DtlsClientPki; sni?: string } {
  if (setup.isRpkNotCert) throw new CoapSessionError("not-supported", "raw public keys (is_rpk_not_cert) are not supported");
  const { credentials, ca } = loadPkiKey(setup.pkiKey);
  const trust = ca && rootCas ? ca.with(rootCas) : (ca ?? rootCas);
  return {
    pki: { ...(credentials ? { credentials } : {}), ...(trust ? { trust } : {}), policy: pkiPolicy(setup) },
    ...(setup.clientSni !== undefined ? { sni: setup.clientSni } : {}),
  };
}
