/**
 * A bounded, expiring LRU map for per-transfer state (Block1 reassembly buffers, Block2
 * response bodies). Bounded by entry count and by total bytes (as charged by the caller);
 * an entry expires `idleMs` after its last touch. No timers: expired entries are swept from
 * the least recently used end on every write, and lookups ignore them.
 */
export interface ExpiringMapLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly idleMs: number;
}

interface Slot<V> {
  value: V;
  bytes: number;
  expires: number;
}

export class ExpiringMap<V> {
  readonly #map = new Map<string, Slot<V>>();
  #bytes = 0;
  /** Entries dropped for the limits before they expired. */
  evictions = 0;

  constructor(readonly limits: ExpiringMapLimits) {}

  get size(): number {
    return this.#map.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The live value for `key`, refreshed as most recently used; undefined if absent or expired. */
  get(key: string, now: number): V | undefined {
    const s = this.#map.get(key);
    if (!s) return undefined;
    if (s.expires <= now) {
      this.delete(key);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, s);
    s.expires = now + this.limits.idleMs;
    return s.value;
  }

  /** Stores `value` charged at `bytes`; evicts expired, then least recently used entries to fit. */
  set(key: string, value: V, bytes: number, now: number): void {
    this.delete(key);
    this.#sweep(now);
    this.#map.set(key, { value, bytes, expires: now + this.limits.idleMs });
    this.#bytes += bytes;
    this.#fit(key);
  }

  /** Changes the bytes charged for `key` (e.g. a reassembly buffer grew). */
  resize(key: string, bytes: number): void {
    const s = this.#map.get(key);
    if (!s) return;
    this.#bytes += bytes - s.bytes;
    s.bytes = bytes;
    this.#fit(key);
  }

  /** Keys in least recently used order (expired ones included until swept). */
  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  delete(key: string): boolean {
    const s = this.#map.get(key);
    if (!s) return false;
    this.#map.delete(key);
    this.#bytes -= s.bytes;
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }

  #sweep(now: number): void {
    for (const [k, s] of this.#map) {
      if (s.expires > now) break; // LRU order is expiry order: touches move entries to the end
      this.delete(k);
    }
  }

  #fit(keep: string): void {
    const { maxEntries, maxBytes } = this.limits;
    if (this.#map.size <= maxEntries && this.#bytes <= maxBytes) return;
    for (const k of this.#map.keys()) {
      if (this.#map.size <= maxEntries && this.#bytes <= maxBytes) break;
      if (k === keep) continue;
      this.delete(k);
      this.evictions++;
    }
  }
}
