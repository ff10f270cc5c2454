/**
 * Message deduplication (RFC 7252 §4.5): the (peer, message ID) of every CON and NON we
 * received, kept for EXCHANGE_LIFETIME (CON) or NON_LIFETIME (NON), with the ENCODED reply we
 * sent (piggybacked response, empty ACK, RST or NON response) so a duplicate is answered by
 * replaying bytes, without running the handler or the encoder again.
 *
 * Bounded by entry count AND total bytes (node-coap's cache is unbounded and grows ~6 kB per
 * request); the oldest entries are evicted first. No timers: entries sit in a FIFO (insertion
 * order is expiry order for one lifetime), expired ones are swept from its head on insert, and
 * an expired entry found by a lookup counts as absent. The FIFO is an array with a head index,
 * not the Map's own order: V8 leaves a tombstone per deleted Map entry, so iterating a Map used
 * as a queue from its head gets slower with every eviction until the table is rehashed.
 */
import type { PeerAddress } from "../transport/types.js";

/** Bytes charged per entry on top of the reply (key string, object, map slot), roughly. */
const ENTRY_OVERHEAD = 96;

export interface DedupEntry<P = unknown> {
  readonly key: string;
  readonly expires: number;
  /** The encoded reply to replay to a duplicate; undefined while the exchange is being processed. */
  reply: Uint8Array | undefined;
  /** Layer-private state of an exchange still in progress (e.g. the request awaiting a response). */
  pending: P | undefined;
  size: number;
}

export interface DedupLimits {
  /** Maximum number of remembered messages (default 10,000). */
  readonly maxEntries?: number;
  /** Maximum bytes of cached replies plus per-entry overhead (default 4 MiB). */
  readonly maxBytes?: number;
}

export interface DedupStats {
  entries: number;
  bytes: number;
  /** Entries dropped to stay within the limits before their lifetime ended. */
  evictions: number;
}

/** The dedup key: one string per (peer, message ID). */
export function exchangeKey(peer: PeerAddress, messageId: number): string {
  return `${peer.address}|${peer.port}|${messageId}`;
}

export class DedupCache<P = unknown> {
  readonly #map = new Map<string, DedupEntry<P>>();
  /** Entries in insertion order; [#head, length) is live (dead ones are skipped: `#map` says). */
  #queue: DedupEntry<P>[] = [];
  #head = 0;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #evictions = 0;

  constructor(limits: DedupLimits = {}) {
    this.#maxEntries = Math.max(1, limits.maxEntries ?? 10_000);
    this.#maxBytes = Math.max(ENTRY_OVERHEAD, limits.maxBytes ?? 4 * 1024 * 1024);
  }

  get stats(): DedupStats {
    return { entries: this.#map.size, bytes: this.#bytes, evictions: this.#evictions };
  }

  /** The live entry for `key`, or undefined (an expired entry is removed and not returned). */
  get(key: string, now: number): DedupEntry<P> | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= now) {
      this.#delete(e);
      return undefined;
    }
    return e;
  }

  /** Records a newly received message, expiring `lifetimeMs` from `now`. */
  add(key: string, now: number, lifetimeMs: number, pending?: P): DedupEntry<P> {
    const old = this.#map.get(key);
    if (old) this.#delete(old);
    this.#sweep(now);
    const e: DedupEntry<P> = { key, expires: now + lifetimeMs, reply: undefined, pending, size: ENTRY_OVERHEAD };
    this.#map.set(key, e);
    this.#queue.push(e);
    this.#bytes += e.size;
    this.#enforce(e);
    return e;
  }

  /** Stores the reply sent for `entry` (replacing an earlier one, e.g. empty ACK → nothing else). */
  setReply(entry: DedupEntry<P>, reply: Uint8Array): void {
    if (this.#map.get(entry.key) !== entry) return; // evicted meanwhile: nothing to remember
    const size = ENTRY_OVERHEAD + reply.length;
    this.#bytes += size - entry.size;
    entry.size = size;
    entry.reply = reply;
    entry.pending = undefined;
    this.#enforce(entry);
  }

  clear(): void {
    this.#map.clear();
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  #delete(e: DedupEntry<P>): void {
    if (this.#map.get(e.key) !== e) return;
    this.#map.delete(e.key);
    this.#bytes -= e.size;
  }

  /** The oldest live entry, dropping dead queue slots on the way. */
  #oldest(): DedupEntry<P> | undefined {
    const q = this.#queue;
    while (this.#head < q.length) {
      const e = q[this.#head] as DedupEntry<P>;
      if (this.#map.get(e.key) === e) return e;
      this.#head++;
    }
    return undefined;
  }

  #shift(): void {
    this.#head++;
    // Compact now and then so the array does not grow without bound.
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Drops expired entries from the head (insertion order approximates expiry order). */
  #sweep(now: number): void {
    for (let e = this.#oldest(); e !== undefined && e.expires <= now; e = this.#oldest()) {
      this.#delete(e);
      this.#shift();
    }
  }

  /** Evicts the oldest entries (never `keep`) until both limits hold. */
  #enforce(keep: DedupEntry<P>): void {
    while (this.#map.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const e = this.#oldest();
      if (e === undefined || e === keep) return;
      this.#delete(e);
      this.#shift();
      this.#evictions++;
    }
  }
}
