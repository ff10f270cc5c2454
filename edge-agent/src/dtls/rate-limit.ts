/**
 * A token bucket per source address, in a bounded map: `burst` handshakes at once, refilled at
 * `perSecond`. A flood from many addresses costs O(maxAddresses) memory, never more. A
 * forgotten address starts again with a full bucket — the price of the bound, and harmless: the
 * server only consults the limiter after the cookie exchange (the address is reachable, not
 * spoofed).
 *
 * The bound is kept by a TwoGenerationMap (util/two-generation-map.ts): an address used within
 * the last half-bound of new addresses is always remembered, and every hello costs O(1) however
 * many addresses are tracked (evicting one address at a time from a Map cost 6–9 µs per
 * handshake at 10,000 addresses; issue 7).
 */
import type { Clock } from "../util/clock.js";
import { TwoGenerationMap } from "../util/two-generation-map.js";

export interface RateLimitOptions {
  /** Tokens added per second per address (0 turns the limiter off). */
  readonly perSecond: number;
  /** Bucket size: handshakes an address may start back to back. */
  readonly burst: number;
  /** Most addresses tracked at once (those unused longest are forgotten beyond it). */
  readonly maxAddresses: number;
}

export const DEFAULT_HANDSHAKE_RATE: RateLimitOptions = Object.freeze({ perSecond: 10, burst: 20, maxAddresses: 10_000 });

interface Bucket {
  tokens: number;
  /** Clock time of the last refill. */
  at: number;
}

export class AddressRateLimiter {
  readonly #buckets: TwoGenerationMap<string, Bucket>;
  readonly #clock: Clock;
  readonly #options: RateLimitOptions;

  constructor(clock: Clock, options: RateLimitOptions) {
    if (!(options.perSecond >= 0) || !(options.burst >= 1) || !(options.maxAddresses >= 1)) throw new RangeError("invalid handshake rate limit");
    this.#clock = clock;
    this.#options = options;
    this.#buckets = new TwoGenerationMap(options.maxAddresses);
  }

  /** Addresses currently tracked (bounded by maxAddresses). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `address`; false when its bucket is empty (the caller drops the hello). */
  take(address: string): boolean {
    const { perSecond, burst } = this.#options;
    if (perSecond === 0) return true;
    const now = this.#clock.now();
    let b = this.#buckets.get(address);
    if (!b) {
      b = { tokens: burst, at: now };
      this.#buckets.set(address, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
