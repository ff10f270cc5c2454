/**
 * A token bucket per source address, in a bounded map: `burst` handshakes at once, refilled at
 * `perSecond`. A flood from many addresses costs O(maxAddresses) memory, never more. A
 * forgotten address starts again with a full bucket — the price of the bound, and harmless: the
 * server only consults the limiter after the cookie exchange (the address is reachable, not
 * spoofed).
 *
 * The bound is kept by two generations of half the size each (as quick-lru does), not by
 * evicting the least recently used address one at a time: a JS Map leaves a hole for every
 * deleted key until it rehashes, and `keys().next()` walks past all of them from the front. With
 * every hello from a new address (a device network, the bench) each eviction scanned thousands
 * of holes — 6–9 µs per handshake at 10,000 addresses (issue 7). Here a bucket lives in
 * `#recent`; a hit in `#older` moves it back to `#recent`; when `#recent` is full it becomes
 * `#older` and the previous `#older` is dropped whole. So an address used within the last
 * half-bound of new addresses is always remembered, and every operation is O(1).
 */
import type { Clock } from "../util/clock.js";

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
  /** Buckets touched since the last rotation (at most `#generation`). */
  #recent = new Map<string, Bucket>();
  /** Buckets of the generation before (at most `#generation`); dropped whole at the next rotation. */
  #older = new Map<string, Bucket>();
  /** Addresses per generation: two generations hold at most maxAddresses (1 holds 1). */
  readonly #generation: number;
  readonly #clock: Clock;
  readonly #options: RateLimitOptions;

  constructor(clock: Clock, options: RateLimitOptions) {
    if (!(options.perSecond >= 0) || !(options.burst >= 1) || !(options.maxAddresses >= 1)) throw new RangeError("invalid handshake rate limit");
    this.#clock = clock;
    this.#options = options;
    this.#generation = Math.max(1, Math.floor(options.maxAddresses / 2));
  }

  /** Addresses currently tracked (bounded by maxAddresses). */
  get size(): number {
    return this.#recent.size + this.#older.size;
  }

  /** Takes one token for `address`; false when its bucket is empty (the caller drops the hello). */
  take(address: string): boolean {
    const { perSecond, burst } = this.#options;
    if (perSecond === 0) return true;
    const now = this.#clock.now();
    let b = this.#recent.get(address);
    if (!b) {
      b = this.#older.get(address);
      if (b) this.#older.delete(address); // moves to #recent below
      else b = { tokens: burst, at: now };
      this.#insert(address, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #insert(address: string, b: Bucket): void {
    if (this.#recent.size >= this.#generation) {
      // maxAddresses 1: a single generation of one (the older one would make it two).
      this.#older = this.#options.maxAddresses === 1 ? new Map() : this.#recent;
      this.#recent = new Map();
    }
    this.#recent.set(address, b);
  }
}
