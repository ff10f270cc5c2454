/**
 * The native engine of sha256.ts (edge-agent/native/sha256, N-API on the node binary's own
 * OpenSSL): a whole P_SHA256 or HMAC is one call on OpenSSL's block function, ≈ 0.1 µs a block
 * against ≈ 0.5 µs in JS, and no hash objects or DataViews for the GC (bench/micro/prf.ts). The
 * states live in arrays owned here (112 bytes per SHA-256 state), copied in and out by the addon.
 * States and digests are slices of node's Buffer pool: the addon reads an array's memory in
 * place only when it is off the V8 heap (a small `new Uint8Array` is moved off it on first
 * use, an allocation and a copy), and a pool slice is cheaper than an ArrayBuffer of its own. Built by `npm run build:native`;
 * when it is not built, fails to load, or COAPS_EDGE_SHA256=js is set, `nativeSha256` is
 * undefined and the @noble/hashes engine serves.
 */
import { createRequire } from "node:module";
import { OffHeapScratch, ON_HEAP_MAX } from "./off-heap.js";
import { SHA256_DIGEST, type HmacSha256, type Sha256 } from "./sha256-types.js";

interface Addon {
  /** sizeof(SHA256_CTX): the bytes of one state. */
  readonly STATE_BYTES: number;
  init(state: Uint8Array): void;
  update(state: Uint8Array, data: Uint8Array, start: number, end: number): void;
  digestInto(state: Uint8Array, out: Uint8Array, at: number): void;
  /** keyState: two states, after K ^ ipad and after K ^ opad. */
  hmacKey(keyState: Uint8Array, key: Uint8Array): void;
  hmacInto(keyState: Uint8Array, out: Uint8Array, at: number, length: number, ...parts: readonly Uint8Array[]): void;
  pSha256Into(keyState: Uint8Array, out: Uint8Array, ...seed: readonly Uint8Array[]): void;
}

const ADDON = "../../../native/sha256/build/Release/sha256.node";

function load(): Addon | undefined {
  if (process.env["COAPS_EDGE_SHA256"] === "js") return undefined;
  try {
    return createRequire(import.meta.url)(ADDON) as Addon;
  } catch {
    return undefined; // not built: @noble/hashes serves
  }
}

export const nativeSha256: Addon | undefined = load();

/**
 * Small inputs (handshake messages such as Finished, a PSK premaster, a decoded random) are often
 * arrays on the V8 heap, which N-API would move off it on every call (off-heap.ts): one scratch
 * per argument position of a call.
 */
const scratch = Array.from({ length: 8 }, () => new OffHeapScratch());
const outScratch = new OffHeapScratch();

/** `parts` each as the addon may read it (one scratch per position; never kept). */
function offHeap(parts: readonly Uint8Array[]): Uint8Array[] {
  const out = new Array<Uint8Array>(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = scratch[i]!.of(parts[i]!);
  return out;
}

function addon(): Addon {
  if (!nativeSha256) throw new Error("native SHA-256 addon not loaded (npm run build:native -w edge-agent)");
  return nativeSha256;
}

export class NativeSha256 implements Sha256 {
  readonly #native = addon();
  readonly #state = Buffer.allocUnsafe(this.#native.STATE_BYTES);

  constructor() {
    this.#native.init(this.#state);
  }

  copyFrom(other: NativeSha256): this {
    this.#state.set(other.#state);
    return this;
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    if (end - start > ON_HEAP_MAX) {
      this.#native.update(this.#state, data, start, end);
    } else {
      // A short piece (most handshake messages): copied off the V8 heap (see `scratch`).
      const piece = scratch[0]!.of(start === 0 && end === data.length ? data : data.subarray(start, end));
      this.#native.update(this.#state, piece, 0, piece.length);
    }
    return this;
  }

  digestInto(out: Uint8Array, at = 0): Uint8Array {
    this.#native.digestInto(this.#state, out, at);
    return out;
  }

  digest(): Uint8Array {
    return this.digestInto(Buffer.allocUnsafe(SHA256_DIGEST));
  }
}

export class NativeHmacSha256 implements HmacSha256 {
  readonly #native = addon();
  readonly #keyState = Buffer.allocUnsafe(2 * this.#native.STATE_BYTES);
  #wiped = false;

  constructor(key: Uint8Array) {
    this.rekey(key);
  }

  rekey(key: Uint8Array): this {
    this.#native.hmacKey(this.#keyState, scratch[0]!.of(key));
    this.#wiped = false;
    return this;
  }

  #state(): Uint8Array {
    if (this.#wiped) throw new Error("HMAC key destroyed: rekey() it first");
    return this.#keyState;
  }

  macInto(out: Uint8Array, at: number, length: number, ...parts: readonly Uint8Array[]): Uint8Array {
    const n = Math.min(length, SHA256_DIGEST);
    if (out.length <= ON_HEAP_MAX) {
      // A small output (a cookie) may be on the V8 heap too: written to a scratch view, then copied.
      const target = outScratch.of(out);
      this.#native.hmacInto(this.#state(), target, at, n, ...offHeap(parts));
      out.set(target.subarray(at, at + n), at);
    } else {
      this.#native.hmacInto(this.#state(), out, at, n, ...offHeap(parts));
    }
    return out;
  }

  mac(...parts: readonly Uint8Array[]): Uint8Array {
    return this.macInto(Buffer.allocUnsafe(SHA256_DIGEST), 0, SHA256_DIGEST, ...parts);
  }

  pSha256Into(out: Uint8Array, seed: readonly Uint8Array[]): Uint8Array {
    this.#native.pSha256Into(this.#state(), out, ...offHeap(seed));
    return out;
  }

  wipe(): void {
    this.#keyState.fill(0);
    this.#wiped = true;
  }
}
