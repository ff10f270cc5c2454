/**
 * A small bounds-checked reader and an exact-size writer for the CoAP codecs. The reader checks
 * the length before every read and hands out views; the codec copies what must outlive the
 * datagram. Reads past the end throw `CoapDecodeError("truncated")` without header context; the
 * message decoder attaches the Message ID and type.
 */
import { CoapDecodeError } from "./errors.js";
import { EMPTY_BYTES } from "./message.js";

/** Sequential reader over a byte array; every read is bounds-checked. */
export class ByteReader {
  readonly bytes: Uint8Array;
  /** Index of the next byte to read. */
  pos: number;

  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  u8(what = "byte"): number {
    const b = this.bytes[this.pos];
    if (b === undefined) throw truncated(what, 1, 0);
    this.pos++;
    return b;
  }

  u16(what = "uint16"): number {
    const p = this.pos;
    if (p + 2 > this.bytes.length) throw truncated(what, 2, this.bytes.length - p);
    this.pos = p + 2;
    return ((this.bytes[p] as number) << 8) | (this.bytes[p + 1] as number);
  }

  /**
   * A copy of the next `n` bytes in a Uint8Array of its own. Small values are copied by a loop:
   * a view (subarray) of a small on-heap array first moves that array's storage off the heap.
   */
  copy(n: number, what = "bytes"): Uint8Array {
    const p = this.pos;
    if (p + n > this.bytes.length) throw truncated(what, n, this.bytes.length - p);
    this.pos = p + n;
    if (n === 0) return EMPTY_BYTES; // zero-length typed arrays take V8's slow path; empty is immutable
    const out = new Uint8Array(n);
    if (n <= 32) for (let i = 0; i < n; i++) out[i] = this.bytes[p + i] as number;
    else out.set(this.bytes.subarray(p, p + n));
    return out;
  }

  /** A view of the next `n` bytes (not a copy). */
  view(n: number, what = "bytes"): Uint8Array {
    const p = this.pos;
    if (p + n > this.bytes.length) throw truncated(what, n, this.bytes.length - p);
    this.pos = p + n;
    return this.bytes.subarray(p, p + n);
  }
}

function truncated(what: string, need: number, have: number): CoapDecodeError {
  return new CoapDecodeError("truncated", `truncated ${what}: need ${need} bytes, have ${have}`);
}

/** Writer into a buffer of a size computed up front (encoders size the message first). */
export class ByteWriter {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  u8(v: number): void {
    this.bytes[this.pos++] = v;
  }

  u16(v: number): void {
    this.bytes[this.pos++] = v >>> 8;
    this.bytes[this.pos++] = v & 0xff;
  }

  write(src: Uint8Array): void {
    this.bytes.set(src, this.pos);
    this.pos += src.length;
  }
}
