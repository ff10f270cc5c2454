/**
 * Message deduplication (RFC 7252 §4.5): the (peer, message ID) of every CON and NON we
 * received, kept for EXCHANGE_LIFETIME (CON) or NON_LIFETIME (NON), with the ENCODED reply we
 * sent (piggybacked response, empty ACK, RST or NON response) so a duplicate is answered by
 * replaying bytes, without running the handler or the encoder again.
 *
 * Bounded by entry count AND total bytes (node-coap's cache is unbounded and grows ~6 kB per
 * request); the oldest entries are evicted first. No timers: entries sit in a FIFO ring
 * (insertion order is expiry order for one lifetime), expired ones are swept from its head on
 * insert, and an expired entry found by a lookup counts as absent.
 *
 * Built for the garbage collector. Under load every entry outlives several young-generation
 * collections (10,000 entries at 30k requests/s live ~0.3 s), so whatever heap objects an entry
 * owns are copied by the scavenger and then promoted. So an entry owns none of its own: its
 * fields are slots in parallel arrays (typed arrays for the numbers), the index is one small
 * record per peer (Smi keys, no "addr|port|mid" string per message), and only the reply bytes
 * are the entry's. A peer with one live entry — every idle device that sent one request in the
 * last EXCHANGE_LIFETIME — holds its slot in the record itself; only a second entry makes it a
 * Map<message ID, slot> (a Map and its hash table are ~550 bytes: bench/micro/idle-sessions.ts).
 * Callers hold an entry by its sequence number (`DedupHandle`), which stays safe after the slot
 * was evicted and reused.
 */
import { sessionKey, type SessionKey } from "../dtls/session-key.js";
import type { PeerAddress } from "../transport/types.js";

/** Bytes charged per entry on top of the reply (slots, index entry), roughly. */
const ENTRY_OVERHEAD = 64;
/** First ring size; it doubles up to maxEntries. */
const INITIAL_CAPACITY = 64;

/** An entry as its insertion sequence number: valid until the entry expires or is evicted. */
export type DedupHandle = number;

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

/** The exchange key of (peer, message ID), for maps of outgoing exchanges. */
export function exchangeKey(peer: PeerAddress, messageId: number): string {
  return `${peer.address}|${peer.port}|${messageId}`;
}

/** One peer's entries by message ID (lives while the peer has any). */
interface PeerIndex {
  readonly key: SessionKey;
  /** The peer's one entry while it has at most one (−1: none); unused once `slots` exists. */
  slot: number;
  /** Every entry by message ID, from the peer's second live entry on. */
  slots: Map<number, number> | undefined;
}

export class DedupCache<P = unknown> {
  // Keyed as DtlsServer keys its sessions: an IPv4 peer by a number made from its address and
  // port, no "address|port" string to build and hash for each new peer (issue 7: a new session's
  // first request paid for both) nor to hold while its entry lives.
  readonly #peers = new Map<SessionKey, PeerIndex>();
  // The last peer object's key: `add` follows `find` for the same peer object on every new
  // message, and over DTLS a session hands up one peer object for all its datagrams.
  #memoPeer: PeerAddress | undefined;
  #memoKey: SessionKey = "";
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  // The ring: slot i holds entry number #seq[i]; [#headSeq, #tailSeq) are the occupied
  // sequence numbers, the oldest at #head. A deleted entry leaves its slot with peer undefined.
  #capacity = 0;
  #peer: (PeerIndex | undefined)[] = [];
  #mid = new Uint16Array(0);
  #seq = new Float64Array(0);
  #expires = new Float64Array(0);
  #reply: (Uint8Array | undefined)[] = [];
  #pending: (P | undefined)[] = [];
  #head = 0;
  #headSeq = 0;
  #tailSeq = 0;
  #live = 0;
  #bytes = 0;
  #evictions = 0;

  constructor(limits: DedupLimits = {}) {
    this.#maxEntries = Math.max(1, limits.maxEntries ?? 10_000);
    this.#maxBytes = Math.max(ENTRY_OVERHEAD, limits.maxBytes ?? 4 * 1024 * 1024);
    this.#grow(Math.min(this.#maxEntries, INITIAL_CAPACITY));
  }

  get stats(): DedupStats {
    return { entries: this.#live, bytes: this.#bytes, evictions: this.#evictions };
  }

  /** Peers with live entries (each holds one index record; an index with no entries is deleted). */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** The live entry for (peer, message ID), or undefined (an expired one is removed). */
  find(peer: PeerAddress, messageId: number, now: number): DedupHandle | undefined {
    const index = this.#peers.get(this.#peerKey(peer));
    const slot = index === undefined ? undefined : this.#lookup(index, messageId);
    if (slot === undefined) return undefined;
    if (this.#expires[slot]! <= now) {
      this.#delete(slot);
      return undefined;
    }
    return this.#seq[slot];
  }

  /** Records a newly received message, expiring `lifetimeMs` from `now`. */
  add(peer: PeerAddress, messageId: number, now: number, lifetimeMs: number, pending?: P): DedupHandle {
    const key = this.#peerKey(peer);
    let index = this.#peers.get(key);
    const old = index === undefined ? undefined : this.#lookup(index, messageId);
    if (old !== undefined) this.#delete(old);
    this.#sweep(now);
    if (this.#tailSeq - this.#headSeq === this.#capacity) {
      if (this.#capacity < this.#maxEntries) this.#grow(Math.min(this.#maxEntries, this.#capacity * 2));
      else this.#evictOldest();
    }
    if (index === undefined || isEmpty(index)) {
      // The peer's index may have been dropped by the sweep or eviction just now.
      index = this.#peers.get(key);
      if (index === undefined) {
        index = { key, slot: -1, slots: undefined };
        this.#peers.set(key, index);
      }
    }
    const seq = this.#tailSeq++;
    const slot = (this.#head + (seq - this.#headSeq)) % this.#capacity;
    this.#peer[slot] = index;
    this.#mid[slot] = messageId;
    this.#seq[slot] = seq;
    this.#expires[slot] = now + lifetimeMs;
    this.#reply[slot] = undefined;
    this.#pending[slot] = pending;
    this.#link(index, messageId, slot);
    this.#live++;
    this.#bytes += ENTRY_OVERHEAD;
    this.#enforceBytes(seq);
    return seq;
  }

  /** The encoded reply to replay for the entry; undefined while the exchange is being processed. */
  reply(handle: DedupHandle): Uint8Array | undefined {
    const slot = this.#slotOf(handle);
    return slot === undefined ? undefined : this.#reply[slot];
  }

  /** Layer-private state of an exchange still in progress (e.g. the request awaiting a response). */
  pending(handle: DedupHandle): P | undefined {
    const slot = this.#slotOf(handle);
    return slot === undefined ? undefined : this.#pending[slot];
  }

  setPending(handle: DedupHandle, pending: P | undefined): void {
    const slot = this.#slotOf(handle);
    if (slot !== undefined) this.#pending[slot] = pending;
  }

  /** Stores the reply sent for the entry (replacing an earlier one, e.g. an empty ACK); clears pending. */
  setReply(handle: DedupHandle, reply: Uint8Array): void {
    const slot = this.#slotOf(handle);
    if (slot === undefined) return; // evicted meanwhile: nothing to remember
    this.#bytes += reply.length - (this.#reply[slot]?.length ?? 0);
    this.#reply[slot] = reply;
    this.#pending[slot] = undefined;
    this.#enforceBytes(handle);
  }

  /**
   * Forgets every entry of `peer` at once; returns how many there were. For the end of a DTLS
   * session: over DTLS "a message is the same when it is sent within the same DTLS session and
   * same epoch and has the same Message ID" (RFC 7252 §9.1.1), so nothing that arrives later,
   * even from the same address and port, can be a duplicate of them. Left to EXCHANGE_LIFETIME,
   * the dead sessions of a gateway that takes thousands a second would fill the cache (issue 7),
   * and every new session's first message would then evict one. A freed slot leaves the ring
   * when it reaches the head (the ring is in arrival order, so until then it still counts
   * towards maxEntries: an older live entry ahead of it is evicted as if nothing was dropped).
   */
  dropPeer(peer: PeerAddress): number {
    const index = this.#peers.get(this.#peerKey(peer));
    if (index === undefined) return 0;
    if (index.slots === undefined) {
      this.#delete(index.slot); // an index without entries is never kept, so the slot is live
      return 1;
    }
    const slots = [...index.slots.values()]; // #delete edits the Map
    for (const slot of slots) this.#delete(slot);
    return slots.length;
  }

  clear(): void {
    this.#peers.clear();
    this.#peer.fill(undefined);
    this.#reply.fill(undefined);
    this.#pending.fill(undefined);
    this.#headSeq = this.#tailSeq;
    this.#head = 0;
    this.#live = 0;
    this.#bytes = 0;
  }

  #peerKey(peer: PeerAddress): SessionKey {
    if (peer !== this.#memoPeer) {
      this.#memoPeer = peer;
      this.#memoKey = sessionKey(peer);
    }
    return this.#memoKey;
  }

  /** The slot of the peer's entry for `messageId`, if it has one. */
  #lookup(index: PeerIndex, messageId: number): number | undefined {
    if (index.slots !== undefined) return index.slots.get(messageId);
    return index.slot >= 0 && this.#mid[index.slot] === messageId ? index.slot : undefined;
  }

  /** Files `slot` under `messageId` in the peer's index (replacing the slot of the same ID). */
  #link(index: PeerIndex, messageId: number, slot: number): void {
    if (index.slots !== undefined) {
      index.slots.set(messageId, slot);
    } else if (index.slot < 0 || this.#mid[index.slot] === messageId) {
      index.slot = slot;
    } else {
      index.slots = new Map([
        [this.#mid[index.slot]!, index.slot],
        [messageId, slot],
      ]);
      index.slot = -1;
    }
  }

  /** The slot of a live entry, or undefined once it is gone (its slot may hold another by now). */
  #slotOf(handle: DedupHandle): number | undefined {
    if (handle < this.#headSeq || handle >= this.#tailSeq) return undefined;
    const slot = (this.#head + (handle - this.#headSeq)) % this.#capacity;
    return this.#peer[slot] !== undefined && this.#seq[slot] === handle ? slot : undefined;
  }

  #delete(slot: number): void {
    const index = this.#peer[slot];
    if (index === undefined) return;
    if (index.slots !== undefined) index.slots.delete(this.#mid[slot]!);
    else index.slot = -1;
    if (isEmpty(index)) this.#peers.delete(index.key);
    this.#bytes -= ENTRY_OVERHEAD + (this.#reply[slot]?.length ?? 0);
    this.#live--;
    this.#peer[slot] = undefined;
    this.#reply[slot] = undefined;
    this.#pending[slot] = undefined;
  }

  /** Frees the head slot (deleting its entry if it is still there). */
  #shift(): void {
    this.#delete(this.#head);
    this.#head = (this.#head + 1) % this.#capacity;
    this.#headSeq++;
  }

  /** Drops expired and deleted entries from the head (insertion order approximates expiry order). */
  #sweep(now: number): void {
    while (this.#headSeq < this.#tailSeq) {
      const h = this.#head;
      if (this.#peer[h] !== undefined && this.#expires[h]! > now) return;
      this.#shift();
    }
  }

  /** Evicts the oldest live entry (dead head slots are skipped on the way). */
  #evictOldest(): void {
    while (this.#headSeq < this.#tailSeq) {
      const live = this.#peer[this.#head] !== undefined;
      this.#shift();
      if (live) {
        this.#evictions++;
        return;
      }
    }
  }

  /** Evicts the oldest entries (never `keep`) until the byte limit holds. */
  #enforceBytes(keep: DedupHandle): void {
    while (this.#bytes > this.#maxBytes && this.#headSeq < keep) {
      const live = this.#peer[this.#head] !== undefined;
      this.#shift();
      if (live) this.#evictions++;
    }
  }

  /** Re-lays the ring into arrays of `capacity` slots, oldest first at slot 0. */
  #grow(capacity: number): void {
    const n = this.#tailSeq - this.#headSeq;
    const peer: (PeerIndex | undefined)[] = new Array<PeerIndex | undefined>(capacity).fill(undefined);
    const mid = new Uint16Array(capacity);
    const seq = new Float64Array(capacity);
    const expires = new Float64Array(capacity);
    const reply: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    const pending: (P | undefined)[] = new Array<P | undefined>(capacity).fill(undefined);
    for (let i = 0; i < n; i++) {
      const from = (this.#head + i) % this.#capacity;
      const index = this.#peer[from];
      peer[i] = index;
      mid[i] = this.#mid[from]!;
      seq[i] = this.#seq[from]!;
      expires[i] = this.#expires[from]!;
      reply[i] = this.#reply[from];
      pending[i] = this.#pending[from];
      if (index !== undefined) this.#link(index, mid[i]!, i); // the same message ID: replaces its old slot
    }
    this.#peer = peer;
    this.#mid = mid;
    this.#seq = seq;
    this.#expires = expires;
    this.#reply = reply;
    this.#pending = pending;
    this.#capacity = capacity;
    this.#head = 0;
  }
}

function isEmpty(index: PeerIndex): boolean {
  return index.slots === undefined ? index.slot < 0 : index.slots.size === 0;
}
