/**
 * The CoAP message model (RFC 7252 §3), runtime-neutral: Uint8Array only, no node: imports.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Ver| T |  TKL  |      Code     |          Message ID           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |   Token (if any, TKL bytes) ...
 *    |   Options (if any) ...
 *    |1 1 1 1 1 1 1 1|    Payload (if any) ...
 */

/** Message types, RFC 7252 §3 (T field). */
export const MessageType = { CON: 0, NON: 1, ACK: 2, RST: 3 } as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** One option instance: its number and raw value bytes (formats are applied by options.ts). */
export interface CoapOption {
  readonly number: number;
  readonly value: Uint8Array;
}

/**
 * A decoded or to-be-encoded CoAP message. `code` is the 8-bit code (class << 5 | detail);
 * options are kept in the order given; the encoder sorts them stably by number (RFC 7252 §3.1
 * requires ascending order on the wire, and repeated options keep their relative order).
 */
export interface CoapMessage {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  readonly token: Uint8Array;
  readonly options: readonly CoapOption[];
  readonly payload: Uint8Array;
}

/** A shared zero-length array (never written to). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** An Empty message (code 0.00) of the given type: an empty ACK or a Reset (RFC 7252 §4.1, §4.2). */
export function emptyMessage(type: MessageType, messageId: number): CoapMessage {
  return { type, code: 0, messageId, token: EMPTY_BYTES, options: [], payload: EMPTY_BYTES };
}
