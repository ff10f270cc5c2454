/**
 * Randomness, MAC keys and comparisons the handshake needs, kept behind the crypto port so
 * nothing else in dtls/ imports node:crypto.
 */
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { HmacSha256 } from "./sha256.js";

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

/**
 * Equality for secrets and MACs without an early exit: every byte is compared whatever the
 * first difference (false on length mismatch, which is public). In JS rather than
 * `timingSafeEqual`, which takes the arrays' ArrayBuffers and so moves small on-heap arrays
 * (a 12-byte verify_data, a 16-byte cookie) off the V8 heap first.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * An HMAC-SHA256 key used for many MACs (cookie secrets: two MACs per ClientHello). Its pads
 * are compressed once (RFC 2104 §4, sha256.ts): a MAC of a ClientHello's cookie input is three
 * block compressions.
 */
export class HmacSha256Key {
  readonly #mac: HmacSha256;

  constructor(secret: Uint8Array) {
    this.#mac = new HmacSha256(secret);
  }

  /** HMAC of `data` concatenated, as a new 32-byte array. */
  mac(...data: readonly Uint8Array[]): Uint8Array {
    return this.#mac.mac(...data);
  }

  /** The first `out.length` (≤ 32) bytes of the HMAC of `data[start..end]`, into `out`. */
  truncatedMacInto(out: Uint8Array, data: Uint8Array, start = 0, end = data.length): Uint8Array {
    return this.#mac.macInto(out, 0, out.length, start === 0 && end === data.length ? data : data.subarray(start, end));
  }
}

