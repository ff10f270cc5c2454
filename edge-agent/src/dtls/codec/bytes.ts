/**
 * The one bounds-checked reader/writer under every DTLS codec (STYLE.md §4). Every read checks
 * the remaining length first and throws `DecodeError` (never a RangeError or a silent
 * undefined); callers at the record boundary catch it, drop the input and count it.
 *
 * Readers return views (`subarray`) into the datagram: cheap on the record path, but a caller
 * that keeps bytes beyond the datagram's lifetime must copy them (`Uint8Array.from`).
 *
 * 48-bit fields (record sequence numbers) are plain numbers: 2^48 < 2^53, so they are exact,
 * and the record path stays free of bigint.
 */

/** Malformed or truncated input. Always caught at the boundary: the input is dropped and counted. */
export class DecodeError extends Error {
  readonly code = "decode_error" as const;
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

const TWO_32 = 0x1_0000_0000;

export class ByteReader {
  #pos: number;
  readonly #end: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
    end = buf.length,
  ) {
    if (offset < 0 || end > buf.length || offset > end) throw new DecodeError("reader bounds outside the buffer");
    this.#pos = offset;
    this.#end = end;
  }

  get offset(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, what: string): number {
    if (this.#end - this.#pos < n) throw new DecodeError(`truncated ${what}: need ${n}, have ${this.#end - this.#pos}`);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(what = "u8"): number {
    return this.buf[this.#need(1, what)]!;
  }

  u16(what = "u16"): number {
    const at = this.#need(2, what);
    return (this.buf[at]! << 8) | this.buf[at + 1]!;
  }

  u24(what = "u24"): number {
    const at = this.#need(3, what);
    return (this.buf[at]! << 16) | (this.buf[at + 1]! << 8) | this.buf[at + 2]!;
  }

  u32(what = "u32"): number {
    const at = this.#need(4, what);
    return ((this.buf[at]! << 24) >>> 0) + ((this.buf[at + 1]! << 16) | (this.buf[at + 2]! << 8) | this.buf[at + 3]!);
  }

  /** A 48-bit unsigned integer as an exact number. */
  u48(what = "u48"): number {
    const hi = this.u16(what);
    return hi * TWO_32 + this.u32(what);
  }

  /** The next `n` bytes as a view. */
  bytes(n: number, what = "bytes"): Uint8Array {
    const at = this.#need(n, what);
    return this.buf.subarray(at, at + n);
  }

  /** opaque x<0..2^8-1>: a one-byte length, then that many bytes (a view). */
  vec8(what = "vector<2^8>"): Uint8Array {
    return this.bytes(this.u8(what), what);
  }

  /** opaque x<0..2^16-1>. */
  vec16(what = "vector<2^16>"): Uint8Array {
    return this.bytes(this.u16(what), what);
  }

  /** opaque x<0..2^24-1>. */
  vec24(what = "vector<2^24>"): Uint8Array {
    return this.bytes(this.u24(what), what);
  }

  /** A reader over the next `n` bytes (consumed from this one). */
  sub(n: number, what = "sub-structure"): ByteReader {
    const at = this.#need(n, what);
    return new ByteReader(this.buf, at, at + n);
  }

  /** Throws unless every byte was consumed (trailing bytes in a struct are a decode error). */
  end(what = "structure"): void {
    if (this.#pos !== this.#end) throw new DecodeError(`${this.#end - this.#pos} trailing bytes after ${what}`);
  }
}

export class ByteWriter {
  #buf: Uint8Array;
  #pos = 0;

  /**
   * @param initial the capacity of a fresh buffer, or a buffer to write into (a caller's reused
   *   scratch: no allocation unless the output outgrows it). Exact capacities matter: an array
   *   over 64 bytes lives outside the V8 heap (a malloc and a tracked backing store, ≈0.5–2 µs).
   */
  constructor(initial: number | Uint8Array = 256) {
    this.#buf = typeof initial === "number" ? new Uint8Array(initial) : initial;
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(n: number): number {
    if (this.#pos + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
      next.set(this.#buf.subarray(0, this.#pos));
      this.#buf = next;
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  // Note: `#ensure` may replace `#buf`, so every write takes the offset first, then the buffer.
  u8(v: number): this {
    const at = this.#ensure(1);
    this.#buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.#ensure(2);
    this.#buf[at] = (v >>> 8) & 0xff;
    this.#buf[at + 1] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    const at = this.#ensure(3);
    this.#buf[at] = (v >>> 16) & 0xff;
    this.#buf[at + 1] = (v >>> 8) & 0xff;
    this.#buf[at + 2] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    const at = this.#ensure(4);
    this.#buf[at] = (v >>> 24) & 0xff;
    this.#buf[at + 1] = (v >>> 16) & 0xff;
    this.#buf[at + 2] = (v >>> 8) & 0xff;
    this.#buf[at + 3] = v & 0xff;
    return this;
  }

  /** A 48-bit unsigned integer (0 ≤ v < 2^48). */
  u48(v: number): this {
    return this.u16(Math.floor(v / TWO_32)).u32(v >>> 0);
  }

  bytes(b: Uint8Array): this {
    const at = this.#ensure(b.length);
    this.#buf.set(b, at);
    return this;
  }

  vec8(b: Uint8Array): this {
    if (b.length > 0xff) throw new RangeError("vector longer than 2^8-1");
    return this.u8(b.length).bytes(b);
  }

  vec16(b: Uint8Array): this {
    if (b.length > 0xffff) throw new RangeError("vector longer than 2^16-1");
    return this.u16(b.length).bytes(b);
  }

  vec24(b: Uint8Array): this {
    if (b.length > 0xffffff) throw new RangeError("vector longer than 2^24-1");
    return this.u24(b.length).bytes(b);
  }

  /** Writes a `width`-byte length prefix for whatever `body` writes (vectors of structs). */
  prefixed(width: 1 | 2 | 3, body: (w: this) => void): this {
    const at = this.#ensure(width);
    const start = this.#pos;
    body(this);
    const len = this.#pos - start;
    if (len >= 2 ** (8 * width)) throw new RangeError("prefixed body too long");
    for (let i = width - 1, v = len; i >= 0; i--, v >>>= 8) this.#buf[at + i] = v & 0xff;
    return this;
  }

  /**
   * The bytes written so far: the buffer itself when exactly full (an exact initial capacity),
   * else a view of it. Do not write more afterwards. Returning the array itself matters for small
   * ones: a view of an on-heap array moves it off the V8 heap.
   */
  finish(): Uint8Array {
    return this.#pos === this.#buf.length ? this.#buf : this.#buf.subarray(0, this.#pos);
  }
}

/** Hex helpers for diagnostics and tests. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new DecodeError("invalid hex string");
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** Byte equality (not constant time: for public values; secrets use crypto's timingSafeEqual). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
