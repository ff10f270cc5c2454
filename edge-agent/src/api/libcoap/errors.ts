/**
 * Why a libcoap-style session could not be created or used. libcoap returns NULL from
 * coap_new_client_session*() and logs the reason; here the promise rejects with the reason as a
 * code.
 */
export type CoapSessionErrorCode =
  /** The protocol or feature is not available in this build (coap_*_is_supported() is false). */
  | "not-supported"
  /** A malformed or inconsistent address (families of local and server differ, AF_UNIX without a local path…). */
  | "bad-address"
  /** The local address could not be bound. */
  | "bind-failed"
  /** Credentials that do not load (bad PEM, key not matching the certificate…). */
  | "bad-credentials"
  /** The transport could not connect (TCP refused, TLS/WebSocket handshake failed). */
  | "connect-failed"
  /** The DTLS handshake failed (`cause` is the DtlsError with the alert). */
  | "handshake-failed"
  /** The session was released (reference count 0) or its context freed. */
  | "released";

export class CoapSessionError extends Error {
  override readonly name = "CoapSessionError";
  constructor(
    readonly code: CoapSessionErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}
