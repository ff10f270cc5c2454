/**
 * The native batched UDP engine (edge-agent/native/udp): the addon reads up to RECV_SLOTS
 * datagrams per recvmmsg(2) and calls `#onBatch` once per batch; every reply queued while that
 * batch is handled leaves in one sendmmsg(2) when it returns. Sends made outside a batch (timers,
 * asynchronous cloud answers) are flushed on a microtask, so one tick's sends still share a
 * syscall. Semantics are node:dgram's (udp-dgram.ts): each datagram is handed up as its own copy,
 * peers are { address, family, port } with node's address strings, send errors are counted and
 * never thrown, close() drains queued sends for at most CLOSE_DRAIN_MS.
 *
 * Each datagram is copied out of the shared arena (`Buffer.allocUnsafe`, node's slab for small
 * ones): the arena is overwritten by the next batch, and the layers above keep what they were
 * given (DTLS buffers early handshake records and out-of-order flights; the dedup cache keeps
 * replies, not requests, but handlers may keep payloads).
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { ANONYMOUS, type DatagramHandler, type PeerAddress } from "./types.js";
import {
  CTRL_SEND_COUNT,
  CTRL_SEND_ERRORS,
  CTRL_SEND_HEAD,
  META_LENGTH,
  META_OFFSET,
  type NativeUdp,
  type NativeUdpHandle,
  type NativeUdpOpened,
} from "./udp-native-addon.js";
import { PeerAddressCache, writeWire, type Wire } from "./udp-peer-cache.js";
import { CLOSE_DRAIN_MS, MAX_UDP_PAYLOAD, type UdpBindOptions, type UdpSocket, type UdpStats } from "./udp-socket.js";

/** How often close() looks whether the kernel took the queued sends (libuv flushes on writable meanwhile). */
const DRAIN_POLL_MS = 5;

/** Counters: sends the kernel refused are counted by the addon (ctrl), the rest here. */
class NativeUdpStats implements UdpStats {
  received = 0;
  sent = 0;
  /** Sends dropped before reaching the kernel: queue overflow, oversize, unresolvable name, still queued at close. */
  dropped = 0;
  /** The addon's count once its socket is closed (its memory is given back then and reads zeros). */
  #refusedAtClose: number | undefined;
  constructor(private readonly ctrl: Int32Array) {}
  get sendErrors(): number {
    return (this.#refusedAtClose ?? this.ctrl[CTRL_SEND_ERRORS]!) + this.dropped;
  }
  /** Keeps the addon's count: called right before the addon's socket closes. */
  freeze(): void {
    this.#refusedAtClose = this.ctrl[CTRL_SEND_ERRORS]!;
  }
}

export class NativeUdpSocket implements UdpSocket {
  onDatagram: DatagramHandler = () => {};
  readonly stats: NativeUdpStats;
  readonly #addon: NativeUdp;
  readonly #handle: NativeUdpHandle;
  readonly #io: NativeUdpOpened;
  readonly #peers: PeerAddressCache;
  readonly #sendSlots: number;
  readonly #sendArenaBytes: number;
  readonly #metaInts: number;
  /** True while a receive batch is handed up: its sends wait for the addon's flush after it. */
  #inBatch = false;
  #flushQueued = false;
  /** Where the next queued datagram's bytes go in sendArena (back to 0 whenever the ring empties). */
  #sendTail = 0;
  #closed = false;
  /** Set once the addon's socket is closed: nothing may reach it after. */
  #released = false;
  /** Sends waiting for a host name to resolve (close() waits for them too). */
  #resolving = 0;

  private constructor(
    addon: NativeUdp,
    io: NativeUdpOpened,
    readonly local: PeerAddress,
  ) {
    this.#addon = addon;
    this.#io = io;
    this.#handle = io.handle;
    this.#peers = new PeerAddressCache(addon);
    this.#sendSlots = addon.SEND_SLOTS;
    this.#sendArenaBytes = addon.SEND_ARENA_BYTES;
    this.#metaInts = addon.META_INTS;
    this.stats = new NativeUdpStats(io.ctrl);
    addon.start(io.handle, this.#onBatch);
  }

  /** Binds (address literals as given; a host name is resolved first, as node:dgram does). */
  static async bind(addon: NativeUdp, options: UdpBindOptions): Promise<NativeUdpSocket> {
    const asked = options.address ?? "127.0.0.1";
    const literal = isIP(asked.split("%")[0] ?? asked) !== 0;
    const address = literal ? asked : (await dnsLookup(asked)).address;
    const io = addon.open(address, options.port ?? 0, options.ipv6Only ?? false, options.recvBufferSize ?? 0, options.sendBufferSize ?? 0);
    const wire = new Int32Array(addon.META_INTS);
    addon.encodeAddress(address, io.port, wire, 0);
    const family = isIP(address.split("%")[0] ?? address) === 6 ? "IPv6" : "IPv4";
    return new NativeUdpSocket(addon, io, { address: addon.formatAddress(wire, 0), port: io.port, family });
  }

  /** One recvmmsg batch: `count` datagrams at slot i of recvArena, their senders in recvMeta. */
  readonly #onBatch = (count: number): void => {
    if (this.#closed) return; // closing: only draining sends
    const { recvArena, recvMeta } = this.#io;
    const metaInts = this.#metaInts;
    this.#inBatch = true;
    // A handler that throws must not cost the rest of the batch (node:dgram hands each datagram
    // up in its own event): the first error is rethrown after the batch, to reach
    // uncaughtException as it would from a 'message' listener; later ones follow on microtasks.
    let failure: { error: unknown } | undefined;
    try {
      for (let i = 0; i < count; i++) {
        const o = i * metaInts;
        const length = recvMeta[o + META_LENGTH]!;
        const start = recvMeta[o + META_OFFSET]!;
        const data = Buffer.allocUnsafe(length);
        data.set(recvArena.subarray(start, start + length));
        const peer = this.#peers.from(recvMeta, o);
        this.stats.received++;
        try {
          this.onDatagram(data, peer, ANONYMOUS);
        } catch (error) {
          if (failure === undefined) failure = { error };
          else queueMicrotask(() => { throw error; });
        }
        if (this.#closed) break;
      }
    } finally {
      this.#inBatch = false;
    }
    if (failure !== undefined) throw failure.error;
  };

  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (!this.#released) this.#addon.flush(this.#handle);
  };

  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed) return;
    this.stats.sent++;
    const wire = this.#peers.wireOf(peer);
    if (wire !== undefined) this.#enqueue(wire, data);
    else void this.#sendToName(peer, data);
  }

  /** Queues one datagram in the send ring; flushed after the batch, or on a microtask outside one. */
  #enqueue(wire: Wire, data: Uint8Array): void {
    if (data.length > MAX_UDP_PAYLOAD || this.#released) {
      this.stats.dropped++; // node:dgram reports EMSGSIZE for these
      return;
    }
    // An empty datagram still takes one byte of the arena: queued bytes are then never empty
    // while the ring is not, so #reserve can read "tail == oldest" as full (see there).
    const room = Math.max(data.length, 1);
    let at = this.#reserve(room);
    if (at < 0) {
      this.#addon.flush(this.#handle); // more replies than the ring holds: send what is queued now
      at = this.#reserve(room);
      if (at < 0) {
        this.stats.dropped++; // the kernel takes nothing (socket buffer full): the bounded queue overflows
        return;
      }
    }
    const { ctrl, sendArena, sendMeta } = this.#io;
    const queued = ctrl[CTRL_SEND_COUNT]!;
    const o = ((ctrl[CTRL_SEND_HEAD]! + queued) % this.#sendSlots) * this.#metaInts;
    sendArena.set(data, at);
    writeWire(wire, sendMeta, o);
    sendMeta[o + META_LENGTH] = data.length;
    sendMeta[o + META_OFFSET] = at;
    ctrl[CTRL_SEND_COUNT] = queued + 1;
    this.#sendTail = at + room;
    if (!this.#inBatch && !this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  /**
   * Where `length` bytes fit in sendArena without touching a queued datagram, or -1 (the ring of
   * SEND_SLOTS entries is full, or the bytes are). Queued bytes run from the oldest entry's offset
   * to #sendTail, possibly wrapped past the arena's end; every entry takes at least one byte, so
   * with entries queued, tail == oldest means wrapped and full, never empty.
   */
  #reserve(length: number): number {
    const { ctrl, sendMeta } = this.#io;
    const queued = ctrl[CTRL_SEND_COUNT]!;
    if (queued === 0) return 0;
    if (queued === this.#sendSlots) return -1;
    const oldest = sendMeta[ctrl[CTRL_SEND_HEAD]! * this.#metaInts + META_OFFSET]!;
    const tail = this.#sendTail;
    if (tail > oldest) {
      if (tail + length <= this.#sendArenaBytes) return tail;
      return length <= oldest ? 0 : -1; // wrap to the start, below the oldest
    }
    return tail + length <= oldest ? tail : -1; // already wrapped: the gap up to the oldest
  }

  /** A peer given by host name (a configured upstream): resolved per send, as node:dgram's lookup does. */
  async #sendToName(peer: PeerAddress, data: Uint8Array): Promise<void> {
    this.#resolving++;
    try {
      const family = this.local.family === "IPv4" ? 4 : 0;
      const { address } = await dnsLookup(peer.address, { family });
      const wire = this.#peers.wireOf({ address, port: peer.port, family: peer.family });
      if (wire === undefined) throw new Error("not an address");
      this.#enqueue(wire, data);
      if (this.#closed && !this.#released) this.#addon.flush(this.#handle);
    } catch {
      this.stats.dropped++;
    } finally {
      this.#resolving--;
    }
  }

  bufferSizes(): { readonly recv: number; readonly send: number } {
    const [recv, send] = this.#addon.bufferSizes(this.#handle);
    return { recv, send };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { ctrl } = this.#io;
    this.#addon.flush(this.#handle);
    // What the kernel could not take yet is retried when the socket turns writable (the addon
    // polls for it); a datagram still queued at close would be lost, e.g. a DTLS close_notify.
    // At least one turn of the loop first: close() may be called from inside a receive batch,
    // and the addon's socket must not go away under its own callback.
    await new Promise((resolve) => setImmediate(resolve));
    const deadline = Date.now() + CLOSE_DRAIN_MS;
    while ((ctrl[CTRL_SEND_COUNT]! > 0 || this.#resolving > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    this.#released = true;
    // What the kernel has not taken by now goes with the socket: counted, as node:dgram counts
    // the sends still queued when its socket closes (they complete with ECANCELED).
    this.stats.dropped += ctrl[CTRL_SEND_COUNT]!;
    this.stats.freeze();
    this.#addon.close(this.#handle);
  }
}
