/**
 * A bounded map that forgets in bulk: entries live in `#recent`; a hit in `#older` moves back to
 * `#recent`; when `#recent` holds `maxEntries / 2` it becomes `#older` and the previous `#older`
 * is dropped whole (the scheme of the quick-lru package). So an entry used within the last
 * half-bound of new keys is always kept, and every operation is O(1).
 *
 * Why not evict the oldest key one at a time: a JS Map leaves a hole for every deleted key until
 * it rehashes, and `keys().next()` walks past all of them from the front. With every key new
 * (each hello from a new device address) each eviction scanned thousands of holes: 6–9 µs per
 * handshake at 10,000 addresses, 16–50 µs per new peer at 131,072 (issue 7).
 */
export class TwoGenerationMap<K, V> {
  #recent = new Map<K, V>();
  #older = new Map<K, V>();
  /** Entries per generation: two generations hold at most maxEntries (a bound of 1 keeps one generation of 1). */
  readonly #generation: number;
  readonly #single: boolean;

  constructor(maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
    this.#single = maxEntries === 1;
    this.#generation = Math.max(1, Math.floor(maxEntries / 2));
  }

  /** Entries currently held (at most maxEntries). */
  get size(): number {
    return this.#recent.size + this.#older.size;
  }

  /** The value for `key`, refreshed as recently used; undefined when unknown or forgotten. */
  get(key: K): V | undefined {
    const hit = this.#recent.get(key);
    if (hit !== undefined) return hit;
    const old = this.#older.get(key);
    if (old !== undefined) {
      this.#older.delete(key);
      this.set(key, old);
    }
    return old;
  }

  /** Adds or replaces `key` as recently used (may forget the older generation whole). */
  set(key: K, value: V): void {
    if (!this.#recent.has(key) && this.#recent.size >= this.#generation) {
      this.#older = this.#single ? new Map() : this.#recent;
      this.#recent = new Map();
    }
    this.#recent.set(key, value);
  }
}
