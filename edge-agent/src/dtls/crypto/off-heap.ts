/**
 * Small arrays for the native addons. A typed array of at most 64 bytes made with
 * `new Uint8Array(n)` lives on the V8 heap, and N-API hands an addon its memory only after
 * moving it off the heap (`napi_get_typedarray_info`: an allocation, a copy and a tracked
 * ArrayBuffer): ≈1.5 µs, more than sealing a record (≈0.6 µs; bench/micro/record.ts). The
 * CoAP codec, the handshake messages and the transcript make such arrays for every response and
 * message, so what goes to an addon is copied into a scratch view of its own length first
 * (≈0.1 µs). Larger arrays, and Buffers, are off the heap already.
 */

/** V8's typed_array_max_size_in_heap: larger arrays are made off the heap. */
export const ON_HEAP_MAX = 64;

/** Views of every length 0..ON_HEAP_MAX over one off-heap array (one scratch per user). */
export class OffHeapScratch {
  readonly #views: Uint8Array[];

  constructor() {
    const memory = Buffer.allocUnsafeSlow(ON_HEAP_MAX);
    this.#views = Array.from({ length: ON_HEAP_MAX + 1 }, (_, n) => new Uint8Array(memory.buffer, memory.byteOffset, n));
  }

  /**
   * `bytes` itself when it is longer than ON_HEAP_MAX, else a copy in the scratch, valid until
   * the next call (pass it straight to the addon; never keep it).
   */
  of(bytes: Uint8Array): Uint8Array {
    if (bytes.length > ON_HEAP_MAX) return bytes;
    const view = this.#views[bytes.length]!;
    view.set(bytes);
    return view;
  }
}
