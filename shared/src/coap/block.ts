/**
 * Block1/Block2 option values and block math (RFC 7959 §2.2).
 *
 *      0
 *      0 1 2 3 4 5 6 7
 *     +-+-+-+-+-+-+-+-+
 *     |  NUM  |M| SZX |                    (1 byte)
 *     +-+-+-+-+-+-+-+-+
 *      0                   1
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |          NUM          |M| SZX |    (2 bytes)
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      0                   1                   2
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                   NUM                 |M| SZX |    (3 bytes)
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The value is a uint: NUM << 4 | M << 3 | SZX, sent in the fewest bytes (0 bytes for all zero).
 * Block size = 2^(SZX + 4) bytes, 16..1024; SZX 7 is reserved (BERT over TCP, RFC 8323, only).
 */
import { CoapDecodeError } from "./errors.js";
import type { CoapMessage, CoapOption } from "./message.js";
import { decodeUint, encodeUint, getOption } from "./options.js";

/** A decoded Block1/Block2 value. */
export interface BlockValue {
  /** Block number, 0 .. 2^20 - 1. */
  readonly num: number;
  /** M: more blocks follow (Block2 in a response / Block1 in a request). */
  readonly more: boolean;
  /** Size exponent 0..6: block size = 16 << szx. */
  readonly szx: number;
}

/** Largest block number a 3-byte value holds. */
export const MAX_BLOCK_NUM = 0xfffff;
/** Largest usable SZX over UDP (1024-byte blocks). */
export const MAX_SZX = 6;

/** Block size in bytes for an SZX: 16 << szx. */
export function blockSize(szx: number): number {
  return 16 << szx;
}

/** The largest SZX whose block size is <= `size`, clamped to 0..6 (so sizes < 16 give 0). */
export function szxFromSize(size: number): number {
  let szx = 0;
  while (szx < MAX_SZX && 16 << (szx + 1) <= size) szx++;
  return szx;
}

/** Byte offset of the block in the whole body: NUM * block size. */
export function blockOffset(v: BlockValue): number {
  return v.num * blockSize(v.szx);
}

/** Option value bytes of a block value. Throws RangeError on num > 2^20-1 or szx outside 0..6. */
export function encodeBlock(v: BlockValue): Uint8Array {
  if (!Number.isInteger(v.num) || v.num < 0 || v.num > MAX_BLOCK_NUM) throw new RangeError(`block NUM out of range: ${v.num}`);
  if (!Number.isInteger(v.szx) || v.szx < 0 || v.szx > MAX_SZX) throw new RangeError(`block SZX out of range 0..6: ${v.szx}`);
  // num * 16 (not << 4) keeps 2^20-1 positive in 32-bit arithmetic either way; clearer as math.
  return encodeUint(v.num * 16 + (v.more ? 8 : 0) + v.szx);
}

/**
 * A block value from option bytes. Throws `CoapDecodeError` "bad-option-length" for more than 3
 * bytes and "reserved-szx" for SZX 7 (RFC 7959 §2.2: MUST lead to 4.00 Bad Request in a request).
 */
export function decodeBlock(bytes: Uint8Array): BlockValue {
  if (bytes.length > 3) throw new CoapDecodeError("bad-option-length", `block option value of ${bytes.length} bytes (max 3)`);
  const v = decodeUint(bytes);
  const szx = v & 0x07;
  if (szx === 7) throw new CoapDecodeError("reserved-szx", "block SZX 7 is reserved");
  return { num: v >>> 4, more: (v & 0x08) !== 0, szx };
}

/** A Block1 or Block2 option (`number` is OptionNumber.Block1 or OptionNumber.Block2). */
export function blockOption(number: number, v: BlockValue): CoapOption {
  return { number, value: encodeBlock(v) };
}

/**
 * The Block1/Block2 value of a message, or undefined when absent. Throws `CoapDecodeError` for a
 * malformed value (see `decodeBlock`) so a server can answer 4.00.
 */
export function getBlock(msg: CoapMessage, number: number): BlockValue | undefined {
  const o = getOption(msg, number);
  return o === undefined ? undefined : decodeBlock(o.value);
}

/**
 * Block `num` of size 2^(szx+4) of `body` (a view, not a copy) and whether more follow.
 * Undefined when the block starts past the end of the body; block 0 of an empty body is an
 * empty block with more = false.
 */
export function sliceBlock(body: Uint8Array, num: number, szx: number): { data: Uint8Array; more: boolean } | undefined {
  const size = blockSize(szx);
  const start = num * size;
  if (num < 0 || !Number.isInteger(num) || (start >= body.length && num !== 0)) return undefined;
  const end = Math.min(start + size, body.length);
  return { data: body.subarray(start, end), more: end < body.length };
}
