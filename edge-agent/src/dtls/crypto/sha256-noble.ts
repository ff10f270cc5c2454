/**
 * The @noble/hashes engine of sha256.ts: the fallback when the native addon
 * (edge-agent/native/sha256) is not built, or COAPS_EDGE_SHA256=js is set. Pure JS, state in
 * small arrays on the JS heap; node:crypto is not used for these small hashes because each
 * `crypto.hash` / `createHmac` is a native object and a fresh Buffer (≈1 / ≈2.3 µs) around a
 * ≈0.2 µs block compression, and it can neither resume an HMAC from its key's midstates nor read
 * a running hash without closing it.
 */
import { hmac, type _HMAC } from "@noble/hashes/hmac.js";
import { sha256, type _SHA256 } from "@noble/hashes/sha2.js";
import { SHA256_DIGEST, type HmacSha256, type Sha256 } from "./sha256-types.js";

/** Scratch for reading a digest without closing the hash it came from (noble finalizes in place). */
const READ = sha256.create();
const DIGEST = new Uint8Array(SHA256_DIGEST);

/** The first `length` bytes of DIGEST to `out[at..]` (a PRF's last block, a truncated MAC), then wipes it. */
function copyOut(out: Uint8Array, at: number, length: number): Uint8Array {
  for (let i = 0; i < length; i++) out[at + i] = DIGEST[i]!;
  DIGEST.fill(0);
  return out;
}

export class NobleSha256 implements Sha256 {
  #h: _SHA256 = sha256.create();

  copyFrom(other: NobleSha256): this {
    this.#h = other.#h._cloneInto(this.#h);
    return this;
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    this.#h.update(start === 0 && end === data.length ? data : data.subarray(start, end));
    return this;
  }

  digestInto(out: Uint8Array, at = 0): Uint8Array {
    this.#h._cloneInto(READ).digestInto(DIGEST);
    return copyOut(out, at, SHA256_DIGEST);
  }

  digest(): Uint8Array {
    return this.digestInto(new Uint8Array(SHA256_DIGEST));
  }
}

/**
 * `#key` holds H's state after the one-block K ^ ipad and K ^ opad (noble's HMAC object); each
 * MAC resumes from a copy of it in `#work`. Keys longer than the block are hashed first (§2,
 * done by noble).
 */
export class NobleHmacSha256 implements HmacSha256 {
  #key: _HMAC<_SHA256>;
  #work: _HMAC<_SHA256> | undefined;

  constructor(key: Uint8Array) {
    this.#key = hmac.create(sha256, key);
  }

  rekey(key: Uint8Array): this {
    this.#key.destroy();
    this.#key = hmac.create(sha256, key);
    return this;
  }

  macInto(out: Uint8Array, at: number, length: number, ...parts: readonly Uint8Array[]): Uint8Array {
    const work = (this.#work = this.#key._cloneInto(this.#work));
    for (const p of parts) work.update(p);
    work.digestInto(DIGEST);
    return copyOut(out, at, Math.min(length, SHA256_DIGEST));
  }

  mac(...parts: readonly Uint8Array[]): Uint8Array {
    return this.macInto(new Uint8Array(SHA256_DIGEST), 0, SHA256_DIGEST, ...parts);
  }

  pSha256Into(out: Uint8Array, seed: readonly Uint8Array[]): Uint8Array {
    const a = new Uint8Array(SHA256_DIGEST);
    this.macInto(a, 0, SHA256_DIGEST, ...seed);
    for (let at = 0; ; ) {
      this.macInto(out, at, out.length - at, a, ...seed);
      at += SHA256_DIGEST;
      if (at >= out.length) break;
      this.macInto(a, 0, SHA256_DIGEST, a);
    }
    a.fill(0);
    return out;
  }

  wipe(): void {
    this.#key.destroy();
    this.#work?.destroy();
    this.#work = undefined;
    READ.destroy();
  }
}
