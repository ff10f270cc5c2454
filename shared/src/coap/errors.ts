/**
 * The typed decode error of the CoAP codec. It carries what the receiver needs to react:
 * RFC 7252 §4.2/§4.3 say a Confirmable (or Non-confirmable) message with a format error is
 * rejected with a Reset that echoes its Message ID, so the error keeps the type and Message ID
 * whenever the 4-byte header was readable (as Californium's UdpDataParser does).
 */
import type { MessageType } from "./message.js";

/** Why decoding failed. Each is a "message format error" in RFC 7252 terms unless noted. */
export type CoapDecodeErrorCode =
  /** fewer bytes than the header, token, an option extension or an option value needs */
  | "truncated"
  /** Ver is not 1; RFC 7252 §3 says such messages MUST be silently ignored (no RST) */
  | "bad-version"
  /** TKL 9..15 (RFC 7252 §3: reserved, MUST be processed as a message format error) */
  | "bad-token-length"
  /** option delta or length nibble 15 outside the payload marker (RFC 7252 §3.1) */
  | "reserved-nibble"
  /** payload marker followed by a zero-length payload (RFC 7252 §3) */
  | "empty-payload-after-marker"
  /** an option value too long for its format (uint > 4 bytes, block value > 3 bytes) */
  | "bad-option-length"
  /** the summed option deltas exceed the 16-bit option number space */
  | "option-overflow"
  /** code 0.00 with a token, options or payload (RFC 7252 §4.1) */
  | "empty-message-not-empty"
  /** Block1/Block2 SZX 7, reserved in RFC 7959 §2.2 (answer 4.00 to a request) */
  | "reserved-szx"
  /** RFC 8323 framing: the Len field disagrees with the frame (a WebSocket message with Len ≠ 0, §4.2) */
  | "bad-length";

/** Thrown (or returned by `tryDecodeMessage`) when bytes are not a well-formed CoAP message. */
export class CoapDecodeError extends Error {
  override readonly name = "CoapDecodeError";
  readonly code: CoapDecodeErrorCode;
  /** Message ID of the offending message, when its header was readable. */
  readonly messageId: number | undefined;
  /** Type (CON/NON/ACK/RST) of the offending message, when its header was readable. */
  readonly type: MessageType | undefined;

  constructor(code: CoapDecodeErrorCode, message: string, messageId?: number, type?: MessageType) {
    super(message);
    this.code = code;
    this.messageId = messageId;
    this.type = type;
  }

  /**
   * True when the receiver should answer with a Reset carrying `messageId`: the header was
   * readable, the version was 1 and the message was Confirmable (RFC 7252 §4.2). A NON with a
   * format error MAY be reset but is simply ignored here (§4.3); a bad ACK or RST is always
   * silently ignored.
   */
  get shouldReset(): boolean {
    return this.messageId !== undefined && this.code !== "bad-version" && this.type === 0; // CON
  }

  /** A copy of this error with the header fields attached (used once the header is known). */
  withHeader(messageId: number, type: MessageType): CoapDecodeError {
    return new CoapDecodeError(this.code, this.message, messageId, type);
  }
}
