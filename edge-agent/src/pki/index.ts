/**
 * PKI for TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: local credentials and trust stores, peer chain
 * validation with libcoap's policy knobs, ECDHE (secp256r1, x25519) and ECDSA for the
 * handshake, the Certificate message body, and test-PKI generation. node:crypto only.
 */
export { PkiError, TlsAlert, type PkiErrorCode, type TlsAlertDescription } from "./errors.js";
export { KeyUsage, Oid, parseCertificate, type CertificateInfo } from "./certificate.js";
export { parsePem, toPem, type PemBlock, type PemOrDerInput } from "./pem.js";
export { TrustStore } from "./trust-store.js";
export {
  loadCertificates,
  loadCredentials,
  loadPrivateKey,
  loadTrustStore,
  type CertificateInput,
  type Credentials,
} from "./credentials.js";
export {
  DEFAULT_PKI_POLICY,
  MAX_PEER_CHAIN,
  certificateIdentity,
  hostMatches,
  resolvePolicy,
  validatePeerChain,
  type PkiPolicy,
  type ResolvedPkiPolicy,
  type ValidationCode,
  type ValidationResult,
} from "./validate.js";
export {
  EC_CURVE_TYPE_NAMED,
  NamedCurve,
  PUBLIC_KEY_LENGTH,
  computePremaster,
  curveFromId,
  ecdheKeyPairFromPrivate,
  generateEcdheKeyPair,
  type EcdheCurve,
  type EcdheKeyPair,
  type PremasterResult,
} from "./ecdhe.js";
export {
  BAD_SIGNATURE_ALERT,
  ECDSA_SECP256R1_SHA256,
  decodeDigitallySigned,
  ecdsaSign,
  ecdsaVerify,
  encodeClientEcdhPublic,
  encodeDigitallySigned,
  encodeServerEcdhParams,
  parseClientEcdhPublic,
  parseServerKeyExchange,
  signCertificateVerify,
  signServerKeyExchange,
  verifyCertificateVerify,
  verifyServerKeyExchange,
  type DecodeFailure,
  type ParsedServerKeyExchange,
  type ServerKeyExchangeInput,
  type SignedData,
} from "./ecdsa.js";
export { decodeCertificateList, encodeCertificateList } from "./certificate-message.js";
export {
  createCertificate,
  generateP256KeyPair,
  generateTestPki,
  writeTestPki,
  type CertificateSpec,
  type GeneratedCertificate,
  type IssuedCredential,
  type NameSpec,
  type TestPki,
  type TestPkiOptions,
  type WrittenPki,
} from "./generate.js";
