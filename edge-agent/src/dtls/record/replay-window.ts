/**
 * The anti-replay window of RFC 6347 §4.1.2.6: a 64-entry sliding bitmap per read epoch.
 * A record is accepted if its sequence number is newer than the right edge, or inside the
 * window and not yet seen. The window moves only after the record authenticates (`accept`
 * after decryption), so forged records cannot advance it.
 *
 * The 64 bits are two 32-bit halves (bit i = right edge − i): no bigint per record.
 */

/**
 * `n` as a small integer where it is one. A 48-bit sequence number decoded as hi · 2^32 + lo is
 * a heap number even when small; stored into a field, it turns that field into a boxed double
 * in every session's window (16 bytes each). Numbers up to 2^31 − 1 are stored as int32 instead.
 */
export function smallInt(n: number): number {
  return n <= 0x7fff_ffff ? n | 0 : n;
}
export const REPLAY_WINDOW_SIZE = 64;

export class ReplayWindow {
  /** The highest sequence number accepted so far (−1: none yet). */
  #right = -1;
  /** Bits 0..31: right − 0 .. right − 31. */
  #low = 0;
  /** Bits 32..63: right − 32 .. right − 63. */
  #high = 0;

  /** Back to the empty window (a read epoch installed anew). */
  reset(): void {
    this.#right = -1;
    this.#low = 0;
    this.#high = 0;
  }

  get highest(): number {
    return this.#right;
  }

  /** True if `seq` is new (not a replay and not left of the window). Does not change state. */
  check(seq: number): boolean {
    if (seq > this.#right) return true;
    const offset = this.#right - seq;
    if (offset >= REPLAY_WINDOW_SIZE) return false;
    return offset < 32 ? (this.#low & (1 << offset)) === 0 : (this.#high & (1 << (offset - 32))) === 0;
  }

  /** Marks `seq` as received (call only after the record authenticated). */
  accept(seq: number): void {
    if (seq > this.#right) {
      const shift = this.#right < 0 ? REPLAY_WINDOW_SIZE : seq - this.#right;
      if (shift >= REPLAY_WINDOW_SIZE) {
        this.#low = 0;
        this.#high = 0;
      } else if (shift >= 32) {
        this.#high = this.#low << (shift - 32);
        this.#low = 0;
      } else if (shift > 0) {
        this.#high = (this.#high << shift) | (this.#low >>> (32 - shift));
        this.#low = this.#low << shift;
      }
      this.#low |= 1;
      this.#right = smallInt(seq);
      return;
    }
    const offset = this.#right - seq;
    if (offset >= REPLAY_WINDOW_SIZE) return;
    if (offset < 32) this.#low |= 1 << offset;
    else this.#high |= 1 << (offset - 32);
  }
}
