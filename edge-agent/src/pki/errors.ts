/**
 * Errors of the PKI module. Loading local credentials, CA files and generating certificates are
 * configuration steps: they throw a `PkiError` with a code, and the message names the input.
 * Everything that touches peer bytes (chain validation, signatures, key exchange) returns a
 * typed result instead and never throws.
 */

export type PkiErrorCode =
  /** a file could not be read (message has the path and the OS error) */
  | "read-failed"
  /** text that should be PEM has no complete BEGIN/END block, or bad base64 inside */
  | "bad-pem"
  /** no certificate where one (or a CA set) was expected */
  | "no-certificate"
  /** a certificate that node/OpenSSL or our DER reader cannot parse */
  | "bad-certificate"
  /** no private key, or one node cannot parse (PKCS#8 or SEC1 expected) */
  | "bad-key"
  /** a password-protected key: not supported (libcoap: "cannot be password protected") */
  | "encrypted-key"
  /** a key that is not EC P-256, the only curve of ecdsa_secp256r1_sha256 (RFC 8422, RFC 7251) */
  | "unsupported-key"
  /** the private key does not belong to the leaf certificate */
  | "key-mismatch"
  /** generate: a target file exists and overwrite was not asked for */
  | "file-exists"
  /** an option value out of range */
  | "bad-option";

export class PkiError extends Error {
  override readonly name = "PkiError";
  readonly code: PkiErrorCode;
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * TLS alert descriptions (RFC 5246 §7.2.2) the PKI results carry, so the engine can send the
 * consequence without re-deciding it (Californium's HandshakeException idea, STYLE.md §5).
 */
export const TlsAlert = {
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  internal_error: 80,
} as const;

export type TlsAlertDescription = (typeof TlsAlert)[keyof typeof TlsAlert];
