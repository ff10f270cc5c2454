/**
 * The DTLS handshake header (RFC 6347 §4.2.2):
 *
 *   struct {
 *     HandshakeType msg_type;
 *     uint24 length;
 *     uint16 message_seq;                               // New field
 *     uint24 fragment_offset;                           // New field
 *     uint24 fragment_length;                           // New field
 *     select (HandshakeType) { ... } body;
 *   } Handshake;
 *
 * One handshake record may carry several fragments back to back (§4.2.3).
 */
import { ByteReader, ByteWriter, DecodeError } from "../codec/bytes.js";
import { HANDSHAKE_HEADER_LENGTH } from "../constants.js";

export interface HandshakeFragment {
  readonly type: number;
  /** Length of the whole message body. */
  readonly length: number;
  readonly seq: number;
  readonly offset: number;
  /** The fragment's bytes (a view into the record plaintext). */
  readonly data: Uint8Array;
}

/** A complete (reassembled) handshake message. */
export interface HandshakeMessage {
  readonly type: number;
  readonly seq: number;
  /** The epoch its fragments arrived in (Finished must come protected, in epoch 1). */
  readonly epoch: number;
  /** The body (owned copy). */
  readonly body: Uint8Array;
}

export function decodeHandshakeFragment(r: ByteReader): HandshakeFragment {
  const type = r.u8("handshake type");
  const length = r.u24("handshake length");
  const seq = r.u16("message_seq");
  const offset = r.u24("fragment_offset");
  const fragmentLength = r.u24("fragment_length");
  if (offset + fragmentLength > length) throw new DecodeError("handshake fragment runs past the message length");
  const data = r.bytes(fragmentLength, "handshake fragment");
  return { type, length, seq, offset, data };
}

/** All fragments in one handshake record's plaintext (throws DecodeError if any is malformed). */
export function decodeHandshakeFragments(plaintext: Uint8Array): HandshakeFragment[] {
  const r = new ByteReader(plaintext);
  const out: HandshakeFragment[] = [];
  while (r.remaining > 0) out.push(decodeHandshakeFragment(r));
  return out;
}

/** Writes the 12-byte header of a fragment of `fragmentLength` bytes at `offset` of a `length`-byte message. */
export function writeHandshakeHeader(w: ByteWriter, type: number, length: number, seq: number, offset: number, fragmentLength: number): void {
  w.u8(type).u24(length).u16(seq).u24(offset).u24(fragmentLength);
}

export function encodeHandshakeFragment(type: number, length: number, seq: number, offset: number, data: Uint8Array): Uint8Array {
  const w = new ByteWriter(HANDSHAKE_HEADER_LENGTH + data.length);
  writeHandshakeHeader(w, type, length, seq, offset, data.length);
  return w.bytes(data).finish();
}

/**
 * The message as the transcript hashes it: its 12-byte header with fragment_offset 0 and
 * fragment_length = length, as if it had been sent unfragmented (RFC 6347 §4.2.6).
 */
export function encodeWholeMessage(type: number, seq: number, body: Uint8Array): Uint8Array {
  return encodeHandshakeFragment(type, body.length, seq, 0, body);
}

/**
 * Splits one message into fragments whose bodies are at most `maxFragment` bytes (§4.2.3).
 * An empty message (ServerHelloDone) is one empty fragment.
 */
export function fragmentMessage(type: number, seq: number, body: Uint8Array, maxFragment: number): Uint8Array[] {
  const size = Math.max(1, maxFragment);
  if (body.length <= size) return [encodeWholeMessage(type, seq, body)];
  const out: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += size) {
    out.push(encodeHandshakeFragment(type, body.length, seq, at, body.subarray(at, Math.min(body.length, at + size))));
  }
  return out;
}
