/**
 * BERT, Block-wise Extension for Reliable Transport (RFC 8323 §6): Block1/Block2 with SZX 7,
 * allowed only where both peers announced Block-Wise-Transfer in their CSM.
 *
 * "In descriptive usage, a BERT Option is interpreted in the same way as the equivalent Option
 * with SZX == 6, except that the payload is also allowed to contain multiple blocks." NUM
 * counts 1024-byte blocks; a non-final BERT payload is a multiple of 1024 bytes, a final one a
 * multiple (possibly 0) plus a partial block. block.ts keeps SZX 7 reserved (as over UDP);
 * these helpers read and write the BERT form.
 */
import { CoapDecodeError } from "./errors.js";
import type { CoapOption } from "./message.js";
import { MAX_BLOCK_NUM, type BlockValue } from "./block.js";
import { decodeUint, encodeUint } from "./options.js";

/** The SZX value that means BERT. */
export const BERT_SZX = 7;
/** The unit of NUM and of BERT payloads. */
export const BERT_UNIT = 1024;

/**
 * A Block1/Block2 value that may be BERT (SZX 7 kept as 7). Throws `CoapDecodeError`
 * "bad-option-length" for more than 3 bytes.
 */
export function decodeBlockAllowingBert(bytes: Uint8Array): BlockValue {
  if (bytes.length > 3) throw new CoapDecodeError("bad-option-length", `block option value of ${bytes.length} bytes (max 3)`);
  const v = decodeUint(bytes);
  return { num: v >>> 4, more: (v & 0x08) !== 0, szx: v & 0x07 };
}

/** The option value of a block value with SZX 0..7 (7 = BERT). Throws RangeError out of range. */
export function encodeBlockAllowingBert(v: BlockValue): Uint8Array {
  if (!Number.isInteger(v.num) || v.num < 0 || v.num > MAX_BLOCK_NUM) throw new RangeError(`block NUM out of range: ${v.num}`);
  if (!Number.isInteger(v.szx) || v.szx < 0 || v.szx > BERT_SZX) throw new RangeError(`block SZX out of range 0..7: ${v.szx}`);
  return encodeUint(v.num * 16 + (v.more ? 8 : 0) + v.szx);
}

/** A Block1/Block2 option that may be BERT. */
export function bertBlockOption(number: number, v: BlockValue): CoapOption {
  return { number, value: encodeBlockAllowingBert(v) };
}
