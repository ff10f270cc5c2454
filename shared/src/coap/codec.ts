/**
 * CoAP message codec for datagram transports (RFC 7252 §3).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Ver| T |  TKL  |      Code     |          Message ID           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |   Token (if any, TKL bytes) ...
 *    |   Options (if any) ...
 *    |1 1 1 1 1 1 1 1|    Payload (if any) ...
 *
 * Each option (§3.1), numbers as deltas from the previous option:
 *
 *      0   1   2   3   4   5   6   7
 *    +---------------+---------------+
 *    |  Option Delta | Option Length |   1 byte
 *    +---------------+---------------+
 *    /         Option Delta          /   0-2 bytes: nibble 13 → 1 byte + 13,
 *    \          (extended)           \              nibble 14 → 2 bytes + 269,
 *    +-------------------------------+              nibble 15 → reserved
 *    /         Option Length         /   0-2 bytes, same scheme
 *    \          (extended)           \
 *    +-------------------------------+
 *    /         Option Value          /   0 or more bytes
 *    +-------------------------------+
 *
 * Decoding is one pass over the bytes; encoding sizes the message first and writes one array.
 */
import { ByteReader, ByteWriter } from "./byte-io.js";
import { CoapDecodeError } from "./errors.js";
import type { CoapMessage, CoapOption, MessageType } from "./message.js";

/** Largest option delta or length the nibble scheme can express: 14 → 65535 + 269. */
export const MAX_OPTION_EXTENDED = 65535 + 269;
/** Option numbers are 16-bit (RFC 7252 §12.2). */
export const MAX_OPTION_NUMBER = 0xffff;
/** Longest token (RFC 7252 §3: TKL 9..15 are reserved). */
export const MAX_TOKEN_LENGTH = 8;
const PAYLOAD_MARKER = 0xff;
const EMPTY: Uint8Array = new Uint8Array(0);

/** The fixed 4-byte header, readable before (and without) the rest of the message. */
export interface CoapHeader {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  readonly tokenLength: number;
}

/**
 * The 4-byte header of a datagram, or undefined when shorter than 4 bytes or the version is not 1.
 * Reads nothing past byte 3 (so TKL may be a reserved 9..15 here).
 */
export function decodeHeader(bytes: Uint8Array): CoapHeader | undefined {
  if (bytes.length < 4) return undefined;
  const b0 = bytes[0] as number;
  if (b0 >>> 6 !== 1) return undefined;
  return {
    type: ((b0 >>> 4) & 0x03) as MessageType,
    code: bytes[1] as number,
    messageId: ((bytes[2] as number) << 8) | (bytes[3] as number),
    tokenLength: b0 & 0x0f,
  };
}

/**
 * Decodes one CoAP message. Throws `CoapDecodeError` for every malformed input (never anything
 * else); the error keeps the Message ID and type once the header was read. The returned token,
 * option values and payload are copies, so they stay valid when the caller reuses its datagram
 * buffer. Options come back in wire order (ascending numbers).
 */
export function decodeMessage(bytes: Uint8Array): CoapMessage {
  const n = bytes.length;
  if (n < 4) {
    const type = n > 0 ? ((((bytes[0] as number) >>> 4) & 0x03) as MessageType) : undefined;
    throw new CoapDecodeError("truncated", `truncated header: ${n} of 4 bytes`, undefined, type);
  }
  const b0 = bytes[0] as number;
  const type = ((b0 >>> 4) & 0x03) as MessageType;
  const tkl = b0 & 0x0f;
  const code = bytes[1] as number;
  const messageId = ((bytes[2] as number) << 8) | (bytes[3] as number);

  // §3: "Implementations of this specification MUST set this field to 1 (01 binary). Other
  // values are reserved for future versions. Messages with unknown version numbers MUST be
  // silently ignored." The error says so (shouldReset is false).
  if (b0 >>> 6 !== 1) throw new CoapDecodeError("bad-version", `CoAP version ${b0 >>> 6}`, messageId, type);
  // §3: "Lengths 9-15 are reserved, MUST NOT be sent, and MUST be processed as a message format error."
  if (tkl > MAX_TOKEN_LENGTH) throw new CoapDecodeError("bad-token-length", `TKL ${tkl}`, messageId, type);
  // §4.1: an Empty message has TKL 0 and no bytes after the Message ID; any are a format error.
  if (code === 0 && (tkl !== 0 || n !== 4)) {
    throw new CoapDecodeError("empty-message-not-empty", `empty message (0.00) with TKL ${tkl} and ${n - 4} bytes after the header`, messageId, type);
  }

  // Token, option values and payload are copied out one by one: small on-heap arrays are
  // cheaper to make and to collect than views into one copy of the datagram.
  const r = new ByteReader(bytes, 4);
  try {
    const token = r.copy(tkl, "token");
    const options: CoapOption[] = [];
    let payload = EMPTY;
    let number = 0;
    while (r.remaining > 0) {
      const first = r.u8();
      if (first === PAYLOAD_MARKER) {
        // §3: "The presence of a marker followed by a zero-length payload MUST be processed as a
        // message format error."
        if (r.remaining === 0) throw new CoapDecodeError("empty-payload-after-marker", "payload marker without payload");
        payload = r.copy(r.remaining, "payload");
        break;
      }
      const delta = readExtended(r, first >>> 4, "delta");
      const length = readExtended(r, first & 0x0f, "length");
      number += delta;
      if (number > MAX_OPTION_NUMBER) throw new CoapDecodeError("option-overflow", `option number ${number} exceeds 65535`);
      options.push({ number, value: r.copy(length, "option value") });
    }
    return { type, code, messageId, token, options, payload };
  } catch (e) {
    if (e instanceof CoapDecodeError) throw e.withHeader(messageId, type);
    throw e;
  }
}

/** §3.1 nibble: 0..12 literal, 13 → next byte + 13, 14 → next 2 bytes + 269, 15 → reserved. */
function readExtended(r: ByteReader, nibble: number, what: "delta" | "length"): number {
  if (nibble < 13) return nibble;
  if (nibble === 13) return r.u8(`option ${what} extension`) + 13;
  if (nibble === 14) return r.u16(`option ${what} extension`) + 269;
  // §3.1: "15: Reserved for the Payload Marker. If the field is set to this value but the
  // entire byte is not the payload marker, this MUST be processed as a message format error."
  throw new CoapDecodeError("reserved-nibble", `option ${what} nibble 15 outside the payload marker`);
}

/** Outcome of `tryDecodeMessage`. */
export type DecodeResult = { ok: true; message: CoapMessage } | { ok: false; error: CoapDecodeError };

/** `decodeMessage` that returns the error instead of throwing it. */
export function tryDecodeMessage(bytes: Uint8Array): DecodeResult {
  try {
    return { ok: true, message: decodeMessage(bytes) };
  } catch (e) {
    if (e instanceof CoapDecodeError) return { ok: false, error: e };
    throw e; // a bug, not bad input
  }
}

/** Bytes a delta or length needs after the first option byte. */
function extendedSize(v: number): number {
  return v < 13 ? 0 : v < 269 ? 1 : 2;
}

function nibble(v: number): number {
  return v < 13 ? v : v < 269 ? 13 : 14;
}

function writeExtended(w: ByteWriter, v: number): void {
  if (v >= 269) w.u16(v - 269);
  else if (v >= 13) w.u8(v - 13);
}

/** True when the options are already in ascending number order (the common case). */
function isSorted(options: readonly CoapOption[]): boolean {
  for (let i = 1; i < options.length; i++) {
    if ((options[i] as CoapOption).number < (options[i - 1] as CoapOption).number) return false;
  }
  return true;
}

function checkInt(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range 0..${max}: ${v}`);
}

/**
 * Bytes `options` take on the wire (RFC 7252 §3.1: one header byte each, extended delta and
 * length bytes, the value), in number order as encodeMessage writes them. Lets a sender size a
 * block to the datagram exactly instead of by a loose per-option bound.
 */
export function encodedOptionsSize(options: readonly CoapOption[]): number {
  const sorted = isSorted(options) ? options : [...options].sort((a, b) => a.number - b.number);
  let size = 0;
  let prev = 0;
  for (const o of sorted) {
    size += 1 + extendedSize(o.number - prev) + extendedSize(o.value.length) + o.value.length;
    prev = o.number;
  }
  return size;
}

/**
 * Encodes a message. Options are written in ascending number order (a stable sort keeps
 * repeated options in their given order); the payload marker appears only before a non-empty
 * payload. Throws RangeError on a bad type, code, Message ID, a token over 8 bytes, an option
 * number outside 0..65535, a value over 65804 bytes, or an Empty (0.00) message carrying a token,
 * options or payload (RFC 7252 §4.1).
 */
export function encodeMessage(msg: CoapMessage): Uint8Array {
  checkInt(msg.type, 3, "message type");
  checkInt(msg.code, 0xff, "code");
  checkInt(msg.messageId, 0xffff, "message ID");
  const tkl = msg.token.length;
  if (tkl > MAX_TOKEN_LENGTH) throw new RangeError(`token of ${tkl} bytes (max 8)`);
  const options = isSorted(msg.options) ? msg.options : [...msg.options].sort((a, b) => a.number - b.number);
  if (msg.code === 0 && (tkl !== 0 || options.length !== 0 || msg.payload.length !== 0)) {
    throw new RangeError("an Empty message (0.00) carries no token, options or payload");
  }

  let size = 4 + tkl;
  let prev = 0;
  for (const o of options) {
    checkInt(o.number, MAX_OPTION_NUMBER, "option number");
    const len = o.value.length;
    if (len > MAX_OPTION_EXTENDED) throw new RangeError(`option ${o.number} value of ${len} bytes (max ${MAX_OPTION_EXTENDED})`);
    size += 1 + extendedSize(o.number - prev) + extendedSize(len) + len;
    prev = o.number;
  }
  if (msg.payload.length > 0) size += 1 + msg.payload.length;

  const w = new ByteWriter(size);
  w.u8(0x40 | (msg.type << 4) | tkl); // Ver = 1
  w.u8(msg.code);
  w.u16(msg.messageId);
  w.write(msg.token);
  prev = 0;
  for (const o of options) {
    const delta = o.number - prev;
    const len = o.value.length;
    w.u8((nibble(delta) << 4) | nibble(len));
    writeExtended(w, delta);
    writeExtended(w, len);
    w.write(o.value);
    prev = o.number;
  }
  if (msg.payload.length > 0) {
    w.u8(PAYLOAD_MARKER);
    w.write(msg.payload);
  }
  return w.bytes;
}
