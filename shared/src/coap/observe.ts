/**
 * The Observe option's values and sequence numbers (RFC 7641), for both ends: the server counts
 * its notifications (§4.4), the client orders what it receives (§3.4).
 */

/** Observe option values in a GET (§2): register, deregister. */
export const OBSERVE_REGISTER = 0;
export const OBSERVE_DEREGISTER = 1;

/** Sequence numbers are 24 bits (§4.4). */
export const OBSERVE_SEQUENCE_MASK = 0xffffff;
/** Half the sequence space: a number at most this far ahead is newer (§3.4, RFC 1982 style). */
const OBSERVE_HALF_RANGE = 1 << 23;
/** §3.4: a notification more than this much later than the last one is fresh whatever its number. */
export const OBSERVE_FRESHNESS_MS = 128_000;

/** The sequence number after `prev`: +1 modulo 2^24 (§4.4; the client's rule of §3.4 accepts the wrap). */
export function nextObserveSequence(prev: number): number {
  return (prev + 1) & OBSERVE_SEQUENCE_MASK;
}

/**
 * §3.4: is the notification (v2 received at t2) newer than the last one taken (v1 at t1)?
 * Sequence numbers are 24-bit; times in ms.
 */
export function isFresher(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < OBSERVE_HALF_RANGE) || (v1 > v2 && v1 - v2 > OBSERVE_HALF_RANGE) || t2 > t1 + OBSERVE_FRESHNESS_MS;
}
