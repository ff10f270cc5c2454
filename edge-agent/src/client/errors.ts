/**
 * Typed client failures: every rejection of CoapClient.request is a CoapClientError whose
 * `code` says what happened (a 4.xx/5.xx is NOT an error: it is a response, returned).
 */

export type CoapClientErrorCode =
  /** No response within the deadline, or no ACK after MAX_RETRANSMIT retransmissions. */
  | "timeout"
  /** The server rejected a message with RST. */
  | "reset"
  /** The client (or its message layer) was closed while the request was in flight. */
  | "closed"
  /** The URI or target could not be parsed (RFC 7252 §6.4). */
  | "bad-uri"
  /** No endpoint for the scheme (coaps:// needs a DTLS endpoint factory). */
  | "unsupported-scheme"
  /** The host name did not resolve. */
  | "resolve-failed"
  /** A block-wise body grew past maxBodyBytes. */
  | "body-too-large"
  /** Block-wise transfer broke: ETag changed between blocks, or a block came at the wrong offset. */
  | "block-mismatch"
  /** Bad request parameters (token too long, unknown method …). */
  | "bad-request"
  /** A reliable transport (TCP, TLS, WebSocket, Unix) could not connect, or its CSM exchange failed. */
  | "connect-failed";

export class CoapClientError extends Error {
  override readonly name: string = "CoapClientError";
  constructor(
    readonly code: CoapClientErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The request got no (complete) response in time. */
export class CoapTimeoutError extends CoapClientError {
  override readonly name = "CoapTimeoutError";
  constructor(message = "CoAP request timed out") {
    super("timeout", message);
  }
}
