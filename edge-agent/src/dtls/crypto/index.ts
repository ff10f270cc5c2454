/**
 * The one crypto port of the DTLS engine (STYLE.md §8): AEAD record ciphers, the TLS 1.2
 * PRF and key schedule, HMAC and randomness. Nothing else under dtls/ imports node:crypto.
 * Issue 4 adds ECDH (P-256) and ECDSA here.
 */
export { AeadCipher, type AeadAlgorithm } from "./aead.js";
export {
  extendedMasterSecret,
  finishedVerifyData,
  hmacSha256,
  keyBlock,
  masterSecret,
  MASTER_SECRET_LENGTH,
  prf,
  pSha256,
  sha256,
  VERIFY_DATA_LENGTH,
} from "./prf.js";
export { constantTimeEqual, HmacSha256Key, randomBytes } from "./random.js";
