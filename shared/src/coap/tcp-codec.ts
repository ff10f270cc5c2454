/**
 * CoAP message codec for reliable transports (RFC 8323 §3.2 TCP/TLS, §4.2 WebSocket).
 * There is no Version, Type or Message ID: reliability is the transport's. The header
 * carries the length of options + payload instead.
 *
 * TCP and TLS (§3.2, Figure 4 and Figures 5–7 for the extended lengths):
 *
 *      0   1   2   3   4   5   6   7
 *    +---------------+---------------+
 *    |      Len      |      TKL      |   Len 0..12: the length of Options + Payload
 *    +---------------+---------------+   13 → 1 byte follows:  length − 13
 *    |  Extended Length (0/1/2/4 B)  |   14 → 2 bytes follow:  length − 269
 *    +-------------------------------+   15 → 4 bytes follow:  length − 65805
 *    |             Code              |
 *    +-------------------------------+
 *    |   Token (TKL bytes) ...       |
 *    |   Options (as RFC 7252 §3.1) ...
 *    |1 1 1 1 1 1 1 1|    Payload ...
 *
 * WebSocket (§4.2, Figure 12): the same with Len = 0 and no Extended Length, because the
 * WebSocket frame already carries the length; exactly one CoAP message per binary message.
 *
 * The options-and-payload part is byte-for-byte the RFC 7252 one (§3.2: "The Options and
 * Payload are the same as in CoAP over UDP"), so it goes through the one datagram codec
 * (codec.ts) behind a synthetic 4-byte header, instead of a second option parser.
 */
import { ByteReader, ByteWriter } from "./byte-io.js";
import { decodeMessage, encodeMessage, MAX_TOKEN_LENGTH } from "./codec.js";
import { CoapDecodeError } from "./errors.js";
import type { CoapMessage } from "./message.js";

/** A CoAP message on a reliable transport: no type, no Message ID. */
export type StreamMessage = Omit<CoapMessage, "type" | "messageId">;

/** "tcp" (TCP, TLS, Unix stream sockets) carries Len + Extended Length; "ws" carries Len = 0. */
export type StreamFraming = "tcp" | "ws";

/** Largest options + payload length the 4-byte Extended Length can express (§3.2). */
export const MAX_STREAM_BODY_LENGTH = 0xffffffff + 65805;

/** Length of the Len/TKL byte plus the Extended Length for a given body length. */
function lengthFieldSize(bodyLength: number): number {
  return bodyLength < 13 ? 1 : bodyLength < 269 ? 2 : bodyLength < 65805 ? 3 : 5;
}

/**
 * Encodes a message with RFC 8323 framing. Options are sorted and validated as by
 * `encodeMessage`; throws RangeError on a bad code, a token over 8 bytes or a bad option.
 */
export function encodeStreamMessage(msg: StreamMessage, framing: StreamFraming = "tcp"): Uint8Array {
  if (!Number.isInteger(msg.code) || msg.code < 0 || msg.code > 0xff) throw new RangeError(`code out of range 0..255: ${msg.code}`);
  const tkl = msg.token.length;
  if (tkl > MAX_TOKEN_LENGTH) throw new RangeError(`token of ${tkl} bytes (max 8)`);
  // Code 1 stands in for the real code: 0.00 may not carry options over UDP (§4.1), but may here.
  const udp = encodeMessage({ type: 1, code: 1, messageId: 0, token: msg.token, options: msg.options, payload: msg.payload });
  const body = udp.subarray(4 + tkl);
  const bodyLength = framing === "ws" ? 0 : body.length;
  const w = new ByteWriter(lengthFieldSize(bodyLength) + 1 + tkl + body.length);
  if (bodyLength < 13) w.u8((bodyLength << 4) | tkl);
  else if (bodyLength < 269) {
    w.u8((13 << 4) | tkl);
    w.u8(bodyLength - 13);
  } else if (bodyLength < 65805) {
    w.u8((14 << 4) | tkl);
    w.u16(bodyLength - 269);
  } else {
    w.u8((15 << 4) | tkl);
    const v = bodyLength - 65805;
    w.u16(Math.floor(v / 0x10000));
    w.u16(v & 0xffff);
  }
  w.u8(msg.code);
  w.write(msg.token);
  w.write(body);
  return w.bytes;
}

/** Where the parts of a TCP-framed message start, from its first bytes. */
export interface StreamFrameHeader {
  /** Bytes of Len/TKL + Extended Length + Code. */
  readonly headerLength: number;
  readonly tokenLength: number;
  /** Length of options + payload (the Len value). */
  readonly bodyLength: number;
  /** headerLength + tokenLength + bodyLength: the whole frame. */
  readonly frameLength: number;
}

/**
 * Reads the header of the TCP-framed message starting at `offset`, or returns undefined when
 * fewer bytes than the header are available yet (a stream delivers frames in pieces).
 * Throws `CoapDecodeError` "bad-token-length" for TKL 9..15 (§3.2 keeps RFC 7252's rule).
 */
export function decodeStreamFrameHeader(bytes: Uint8Array, offset = 0): StreamFrameHeader | undefined {
  const b0 = bytes[offset];
  if (b0 === undefined) return undefined;
  const len = b0 >>> 4;
  const tkl = b0 & 0x0f;
  if (tkl > MAX_TOKEN_LENGTH) throw new CoapDecodeError("bad-token-length", `TKL ${tkl}`);
  const ext = len < 13 ? 0 : len === 13 ? 1 : len === 14 ? 2 : 4;
  const headerLength = 1 + ext + 1;
  if (bytes.length - offset < headerLength) return undefined;
  let bodyLength = len;
  const p = offset + 1;
  if (len === 13) bodyLength = (bytes[p] as number) + 13;
  else if (len === 14) bodyLength = (((bytes[p] as number) << 8) | (bytes[p + 1] as number)) + 269;
  else if (len === 15) {
    const v = (bytes[p] as number) * 0x1000000 + (((bytes[p + 1] as number) << 16) | ((bytes[p + 2] as number) << 8) | (bytes[p + 3] as number));
    bodyLength = v + 65805;
  }
  return { headerLength, tokenLength: tkl, bodyLength, frameLength: headerLength + tkl + bodyLength };
}

/**
 * Decodes exactly one message (a whole TCP frame, or one WebSocket binary message). Throws
 * `CoapDecodeError` for every malformed input: "truncated" when bytes are missing,
 * "bad-length" when bytes are left over or a WebSocket message has Len ≠ 0, and the RFC 7252
 * option and payload errors. The result owns its bytes (views into one private copy).
 */
export function decodeStreamMessage(bytes: Uint8Array, framing: StreamFraming = "tcp"): StreamMessage {
  const h = decodeStreamFrameHeader(bytes);
  if (!h) throw new CoapDecodeError("truncated", `truncated header: ${bytes.length} bytes`);
  if (framing === "ws" && (bytes[0] as number) >>> 4 !== 0) throw new CoapDecodeError("bad-length", "WebSocket framing needs Len = 0 (RFC 8323 §4.2)");
  const r = new ByteReader(bytes, h.headerLength - 1);
  const code = r.u8("code");
  const token = r.view(h.tokenLength, "token");
  const bodyLength = framing === "ws" ? r.remaining : h.bodyLength;
  const body = r.view(bodyLength, "options and payload");
  if (r.remaining !== 0) throw new CoapDecodeError("bad-length", `${r.remaining} bytes after the message (Len ${h.bodyLength})`);

  // The synthetic datagram: Ver 1, NON, same TKL, code 1, Message ID 0.
  const udp = new Uint8Array(4 + token.length + body.length);
  udp[0] = 0x50 | token.length;
  udp[1] = 1;
  udp.set(token, 4);
  udp.set(body, 4 + token.length);
  try {
    const m = decodeMessage(udp);
    return { code, token: m.token, options: m.options, payload: m.payload };
  } catch (e) {
    // Drop the synthetic Message ID and type: they mean nothing here.
    if (e instanceof CoapDecodeError) throw new CoapDecodeError(e.code, e.message);
    throw e;
  }
}

/** Outcome of `tryDecodeStreamMessage`. */
export type StreamDecodeResult = { ok: true; message: StreamMessage } | { ok: false; error: CoapDecodeError };

/** `decodeStreamMessage` that returns the error instead of throwing it. */
export function tryDecodeStreamMessage(bytes: Uint8Array, framing: StreamFraming = "tcp"): StreamDecodeResult {
  try {
    return { ok: true, message: decodeStreamMessage(bytes, framing) };
  } catch (e) {
    if (e instanceof CoapDecodeError) return { ok: false, error: e };
    throw e;
  }
}
