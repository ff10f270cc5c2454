/**
 * A token bucket per source address, in a bounded map: `burst` handshakes at once, refilled at
 * `perSecond`. The map holds at most `maxAddresses` buckets; when full the least recently used
 * one is forgotten (JS Map keeps insertion order: a touched bucket is re-inserted at the end),
 * so a flood from many addresses costs O(maxAddresses) memory, never more. A forgotten address
 * starts again with a full bucket — the price of the bound, and harmless: the server only
 * consults the limiter after the cookie exchange (the address is reachable, not spoofed).
 */
import type { Clock } from "../util/clock.js";

export interface RateLimitOptions {
  /** Tokens added per second per address (0 turns the limiter off). */
  readonly perSecond: number;
  /** Bucket size: handshakes an address may start back to back. */
  readonly burst: number;
  /** Most addresses tracked at once (least recently used forgotten beyond it). */
  readonly maxAddresses: number;
}

export const DEFAULT_HANDSHAKE_RATE: RateLimitOptions = Object.freeze({ perSecond: 10, burst: 20, maxAddresses: 10_000 });

interface Bucket {
  tokens: number;
  /** Clock time of the last refill. */
  at: number;
}

export class AddressRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: Clock;
  readonly #options: RateLimitOptions;

  constructor(clock: Clock, options: RateLimitOptions) {
    if (!(options.perSecond >= 0) || !(options.burst >= 1) || !(options.maxAddresses >= 1)) throw new RangeError("invalid handshake rate limit");
    this.#clock = clock;
    this.#options = options;
  }

  /** Addresses currently tracked (bounded by maxAddresses). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `address`; false when its bucket is empty (the caller drops the hello). */
  take(address: string): boolean {
    const { perSecond, burst, maxAddresses } = this.#options;
    if (perSecond === 0) return true;
    const now = this.#clock.now();
    let b = this.#buckets.get(address);
    if (b) {
      this.#buckets.delete(address); // re-inserted below: most recently used last
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
    } else {
      if (this.#buckets.size >= maxAddresses) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      b = { tokens: burst, at: now };
    }
    this.#buckets.set(address, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
