/**
 * ECDHE and ECDSA for TLS_ECDHE_ECDSA_* (RFC 8422, RFC 7251), and X.509 chain validation: the
 * node:crypto implementations live in pki/ (shared with the CLI's credential loading); the DTLS
 * engine reaches them only through this port, like the AEAD and the PRF.
 */
export {
  computePremaster,
  curveFromId,
  generateEcdheKeyPair,
  NamedCurve,
  type EcdheCurve,
  type EcdheKeyPair,
} from "../../pki/ecdhe.js";
export {
  encodeClientEcdhPublic,
  parseClientEcdhPublic,
  parseServerKeyExchange,
  signCertificateVerify,
  signServerKeyExchange,
  verifyCertificateVerify,
  verifyServerKeyExchange,
  BAD_SIGNATURE_ALERT,
} from "../../pki/ecdsa.js";
export { validatePeerChain, type ValidationResult } from "../../pki/validate.js";
export type { KeyObject } from "node:crypto";
