/**
 * Randomness, MAC keys and comparisons the handshake needs, kept behind the crypto port so
 * nothing else in dtls/ imports node:crypto.
 */
import { createHmac, createSecretKey, randomBytes as nodeRandomBytes, timingSafeEqual, type KeyObject } from "node:crypto";

/** Cryptographically secure random bytes (handshake randoms, cookie secrets). */
export function randomBytes(n: number): Uint8Array {
  return nodeRandomBytes(n);
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
