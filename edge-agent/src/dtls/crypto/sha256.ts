/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) on @noble/hashes, for the handshake's small
 * hashes only: the PRF (RFC 5246 §5), the transcript (§7.4.9) and the cookie MAC (RFC 6347
 * §4.2.1). Each of those hashes 1–3 blocks; through node:crypto every one is a native object
 * and a fresh off-heap Buffer for its digest (≈1 µs per `crypto.hash`, ≈2.3 µs per `createHmac`),
 * where the compression itself is ≈0.2 µs a block. @noble/hashes keeps its state in small
 * arrays on the JS heap and can do the two things node:crypto cannot:
 *   - an HMAC key's pads are compressed once (RFC 2104 §4, "precompute the intermediate
 *     results") and the MAC resumes from a copy of them, so one HMAC of a short message is two
 *     or three block compressions;
 *   - a running hash is copied to read a digest and go on.
 * Bulk data (records) never comes here. Checked against node:crypto and the FIPS 180-2 / RFC
 * 4231 vectors in test/edge-agent/dtls/sha256.test.ts.
 */
import { hmac, type _HMAC } from "@noble/hashes/hmac.js";
import { sha256, type _SHA256 } from "@noble/hashes/sha2.js";

export const SHA256_BLOCK = 64;
export const SHA256_DIGEST = 32;

/** Scratch for reading a digest without closing the hash it came from (noble finalizes in place). */
const READ = sha256.create();
const DIGEST = new Uint8Array(SHA256_DIGEST);

function part(data: Uint8Array, start: number, end: number): Uint8Array {
  return start === 0 && end === data.length ? data : data.subarray(start, end);
}

/** The first `length` bytes of DIGEST to `out[at..]` (a PRF's last block, a truncated MAC), then wipes it. */
function copyOut(out: Uint8Array, at: number, length: number): Uint8Array {
  for (let i = 0; i < length; i++) out[at + i] = DIGEST[i]!;
  DIGEST.fill(0);
  return out;
}

/** A SHA-256 computation that can be fed in parts, read (`digestInto` leaves it open) and copied. */
export class Sha256 {
  #h: _SHA256 = sha256.create();

  /** Starts over from `other`'s state (a running hash to read on). */
  copyFrom(other: Sha256): this {
    this.#h = other.#h._cloneInto(this.#h);
    return this;
  }

  /** Back to the empty message. */
  reset(): this {
    this.#h.destroy(); // wipes the buffered bytes
    this.#h = sha256.create();
    return this;
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    this.#h.update(part(data, start, end));
    return this;
  }

  /** Writes the digest of everything so far to `out[at..at+32]`; this hash can be fed on. */
  digestInto(out: Uint8Array, at = 0): Uint8Array {
    this.#h._cloneInto(READ).digestInto(DIGEST);
    return copyOut(out, at, SHA256_DIGEST);
  }

  /** The digest as a new array (32 bytes: on the JS heap). */
  digest(): Uint8Array {
    return this.digestInto(new Uint8Array(SHA256_DIGEST));
  }
}

/** SHA-256 of `parts` concatenated. */
export function sha256Of(...parts: readonly Uint8Array[]): Uint8Array {
  const s = sha256.create();
  for (const p of parts) s.update(p);
  return s.digest();
}

/**
 * An HMAC-SHA256 key with its pads compressed once (RFC 2104 §2, §4):
 *   HMAC(K, m) = H((K ^ opad) ‖ H((K ^ ipad) ‖ m))
 * `#key` holds H's state after the one-block K ^ ipad and K ^ opad; each MAC resumes from a copy
 * of it in `#work`. Keys longer than the block are hashed first (§2, done by noble).
 */
export class HmacSha256 {
  #key: _HMAC<_SHA256>;
  /** The running computation of `begin` / `update` / `finishInto`. */
  #work: _HMAC<_SHA256> | undefined;

  constructor(key: Uint8Array) {
    this.#key = hmac.create(sha256, key);
  }

  /** Replaces the key (the PRF reuses one instance for every secret it is given). */
  rekey(key: Uint8Array): this {
    this.#key.destroy();
    this.#key = hmac.create(sha256, key);
    return this;
  }

  /** Starts a MAC; feed it with `update`, end it with `finishInto`. */
  begin(): this {
    this.#work = this.#key._cloneInto(this.#work);
    return this;
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    this.#work!.update(part(data, start, end));
    return this;
  }

  /** Writes the MAC's first `length` bytes (all 32 by default) to `out[at..]`. */
  finishInto(out: Uint8Array, at = 0, length = SHA256_DIGEST): Uint8Array {
    this.#work!.digestInto(DIGEST);
    return copyOut(out, at, Math.min(length, SHA256_DIGEST));
  }

  /** HMAC of `parts` concatenated, as a new 32-byte array. */
  mac(...parts: readonly Uint8Array[]): Uint8Array {
    this.begin();
    for (const p of parts) this.update(p);
    return this.finishInto(new Uint8Array(SHA256_DIGEST));
  }

  /** Wipes the key's midstates and the running MAC (a PRF secret must not linger in memory). */
  wipe(): void {
    this.#key.destroy();
    this.#work?.destroy();
    this.#work = undefined;
    READ.destroy();
  }
}
