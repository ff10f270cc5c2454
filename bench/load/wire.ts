/**
 * The generator's CoAP fast path: a GET is built once by the shared codec (so it is correct by
 * construction) and then only its Message ID and token bytes are patched per request; a
 * response is read from its 4-byte header (RFC 7252 §3) without decoding options or payload.
 *
 *    0                   1                   2                   3
 *   |Ver| T |  TKL  |      Code     |          Message ID           |
 *   |   Token (TKL bytes) ...
 */
import { encodeMessage, MessageType, Method, uriPathOptions } from "@coaps-edge/shared";

/** Token length of every generated request: 2 bytes carrying the Message ID (unique per window). */
export const TOKEN_LENGTH = 2;

/** A reusable CON GET for one Uri-Path; `next(mid)` returns a fresh datagram for that Message ID. */
export class GetTemplate {
  readonly #template: Uint8Array;

  constructor(path: string) {
    this.#template = encodeMessage({
      type: MessageType.CON,
      code: Method.GET,
      messageId: 0,
      token: new Uint8Array(TOKEN_LENGTH),
      options: uriPathOptions(path),
      payload: new Uint8Array(0),
    });
  }

  get length(): number {
    return this.#template.length;
  }

  /**
   * A new buffer per request: node:dgram may still hold the previous one when a send is queued
   * (UDP send is asynchronous once the socket buffer is full), so it is never reused.
   */
  next(mid: number): Buffer {
    const b = Buffer.allocUnsafe(this.#template.length);
    b.set(this.#template);
    b[2] = mid >>> 8;
    b[3] = mid & 0xff;
    b[4] = mid >>> 8; // token = Message ID: a piggybacked response must echo both
    b[5] = mid & 0xff;
    return b;
  }
}

/** Message type (CON 0, NON 1, ACK 2, RST 3), or -1 for a datagram too short to be CoAP. */
export function messageType(b: Uint8Array): number {
  return b.length < 4 || b[0]! >>> 6 !== 1 ? -1 : (b[0]! >>> 4) & 3;
}

export function messageId(b: Uint8Array): number {
  return (b[2]! << 8) | b[3]!;
}

export function responseCode(b: Uint8Array): number {
  return b[1]!;
}

/** True for a 2.xx code (class bits 010). */
export function isSuccess(code: number): boolean {
  return code >>> 5 === 2;
}
