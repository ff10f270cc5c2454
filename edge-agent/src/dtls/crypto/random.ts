/**
 * Randomness, MAC keys and comparisons the handshake needs, kept behind the crypto port so
 * nothing else in dtls/ imports node:crypto.
 */
import { createHmac, createSecretKey, randomBytes as nodeRandomBytes, timingSafeEqual, type KeyObject } from "node:crypto";

/**
 * Small requests are served from a pool filled 4 KiB at a time: each call into OpenSSL costs
 * ~2 µs, several times the bytes themselves (a handshake takes one 32-byte random). A pool is
 * never refilled in place — an exhausted one is replaced — so a returned view never changes.
 * Each byte is handed out once.
 */
const POOL_SIZE = 4096;
const POOLED_MAX = 64;
let pool = new Uint8Array(0);
let poolAt = 0;

/** Cryptographically secure random bytes (handshake randoms, cookie secrets). */
export function randomBytes(n: number): Uint8Array {
  if (n > POOLED_MAX) return nodeRandomBytes(n);
  if (poolAt + n > pool.length) {
    pool = nodeRandomBytes(POOL_SIZE);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** Constant-time equality for secrets and MACs (false on length mismatch). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An HMAC-SHA256 key imported once (cookie secrets are used for every ClientHello). */
export class HmacSha256Key {
  readonly #key: KeyObject;

  constructor(secret: Uint8Array) {
    this.#key = createSecretKey(secret);
  }

  mac(...data: readonly Uint8Array[]): Uint8Array {
    const h = createHmac("sha256", this.#key);
    for (const d of data) h.update(d);
    return h.digest();
  }
}
