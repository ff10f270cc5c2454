/**
 * Cuts a TCP byte stream into RFC 8323 §3.2 frames. Bytes arrive in arbitrary slices; the
 * reader keeps them as a list and joins only the bytes of one complete frame (a 64 KiB
 * message in 16 KiB reads is copied once, not once per read). The frame length is known as
 * soon as its header (at most 6 bytes) is in, so an oversized frame is refused before any of
 * its body is buffered.
 */
import { decodeStreamFrameHeader } from "@coaps-edge/shared";

/** A frame longer than the receiver's Max-Message-Size. */
export class FrameTooLargeError extends Error {
  override readonly name = "FrameTooLargeError";
  constructor(
    readonly frameLength: number,
    readonly limit: number,
  ) {
    super(`message of ${frameLength} bytes exceeds the Max-Message-Size ${limit}`);
  }
}

/** Longest header: Len/TKL byte, 4-byte Extended Length, Code. */
const MAX_HEADER = 6;

export class FrameReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Length of the frame at the head, once its header is known. */
  #need: number | undefined;

  /** @param maxFrameLength frames longer than this throw FrameTooLargeError */
  constructor(public maxFrameLength: number) {}

  /** Bytes held (an incomplete frame). */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds bytes; returns the frames completed by them, in order. Throws `CoapDecodeError`
   * (TKL 9..15) or `FrameTooLargeError`: the stream cannot be resynchronised after either.
   */
  push(bytes: Uint8Array): Uint8Array[] {
    if (bytes.length > 0) {
      this.#chunks.push(bytes);
      this.#buffered += bytes.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#need === undefined) {
        if (this.#buffered === 0) break;
        const head = this.#peek(Math.min(MAX_HEADER, this.#buffered));
        const h = decodeStreamFrameHeader(head);
        if (!h) break;
        if (h.frameLength > this.maxFrameLength) throw new FrameTooLargeError(h.frameLength, this.maxFrameLength);
        this.#need = h.frameLength;
      }
      if (this.#buffered < this.#need) break;
      frames.push(this.#take(this.#need));
      this.#need = undefined;
    }
    return frames;
  }

  /** The first `n` buffered bytes (n ≤ buffered), without consuming them. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.#chunks) {
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (o === n) break;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes as one array (a copy unless one chunk holds them exactly). */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    this.#buffered -= n;
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.#chunks[0] as Uint8Array;
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    return out;
  }
}
