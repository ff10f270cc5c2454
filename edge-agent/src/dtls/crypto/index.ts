/**
 * The one crypto port of the DTLS engine (STYLE.md §8): AEAD record ciphers, the TLS 1.2
 * PRF and key schedule, HMAC and randomness, ECDHE (secp256r1, x25519), ECDSA and X.509 chain
 * validation (from pki/, see ecc.ts). Nothing else under dtls/ imports node:crypto or pki's crypto.
 */
export { AeadCipher, type AeadAlgorithm } from "./aead.js";
export { AesCcm } from "./ccm.js";
export {
  extendedMasterSecret,
  finishedVerifyData,
  hmacSha256,
  keyBlock,
  masterSecret,
  MASTER_SECRET_LENGTH,
  prf,
  pSha256,
  PrfSecret,
  RunningSha256,
  sha256,
  VERIFY_DATA_LENGTH,
} from "./prf.js";
export { constantTimeEqual, HmacSha256Key, randomBytes } from "./random.js";
export {
  BAD_SIGNATURE_ALERT,
  computePremaster,
  curveFromId,
  encodeClientEcdhPublic,
  generateEcdheKeyPair,
  NamedCurve,
  parseClientEcdhPublic,
  parseServerKeyExchange,
  signCertificateVerify,
  signServerKeyExchange,
  validatePeerChain,
  verifyCertificateVerify,
  verifyServerKeyExchange,
  type EcdheCurve,
  type EcdheKeyPair,
  type KeyObject,
  type ValidationResult,
} from "./ecc.js";
