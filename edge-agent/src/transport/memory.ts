/**
 * An in-memory datagram network for socket-free protocol tests (STYLE.md §11, after pion's
 * e2e_lossy_test): endpoints on a shared `MemoryNetwork`, with seeded loss, duplication,
 * reordering (random extra delay) and an MTU clamp. Delivery is scheduled on the injected
 * clock, so a `FakeClock` makes a whole lossy exchange deterministic.
 */
import type { Clock } from "../util/clock.js";
import { seededRandom } from "../util/random.js";
import { ANONYMOUS, peerKey, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "./types.js";

export interface LinkConditions {
  /** Probability (0..1) that a datagram is lost. */
  readonly loss?: number;
  /** Probability (0..1) that a datagram is delivered twice. */
  readonly duplicate?: number;
  /** Each datagram is delayed by base + random(0..jitter) ms; jitter > 0 reorders. */
  readonly delayMs?: number;
  readonly jitterMs?: number;
  /** Datagrams larger than this are dropped (as an IP path would without fragmentation). */
  readonly mtu?: number;
}

export interface LinkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  tooBig: number;
}

export class MemoryNetwork {
  readonly stats: LinkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, tooBig: 0 };
  readonly #endpoints = new Map<string, MemoryEndpoint>();
  readonly #random: () => number;
  #nextPort = 40000;

  constructor(
    readonly clock: Clock,
    public conditions: LinkConditions = {},
    seed = 1,
  ) {
    this.#random = seededRandom(seed);
  }

  /** Creates an endpoint at `address` (default 127.0.0.1) and `port` (default: the next free one). */
  endpoint(port?: number, address = "127.0.0.1"): MemoryEndpoint {
    const local: PeerAddress = { address, port: port ?? this.#nextPort++, family: address.includes(":") ? "IPv6" : "IPv4" };
    const key = peerKey(local);
    if (this.#endpoints.has(key)) throw new Error(`address in use: ${key}`);
    const ep = new MemoryEndpoint(this, local);
    this.#endpoints.set(key, ep);
    return ep;
  }

  /** @internal */
  unbind(ep: MemoryEndpoint): void {
    this.#endpoints.delete(peerKey(ep.local));
  }

  /** @internal Schedules delivery of one datagram under the link conditions. */
  transmit(from: PeerAddress, to: PeerAddress, data: Uint8Array): void {
    const c = this.conditions;
    this.stats.sent++;
    if (c.mtu !== undefined && data.length > c.mtu) {
      this.stats.tooBig++;
      return;
    }
    if (this.#random() < (c.loss ?? 0)) {
      this.stats.lost++;
      return;
    }
    const copies = this.#random() < (c.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const bytes = Uint8Array.from(data); // the sender may reuse its buffer
    for (let i = 0; i < copies; i++) {
      const delay = (c.delayMs ?? 0) + this.#random() * (c.jitterMs ?? 0);
      this.clock.setTimer(delay, () => {
        const target = this.#endpoints.get(peerKey(to));
        if (!target) return;
        this.stats.delivered++;
        target.onDatagram(bytes, from, ANONYMOUS);
      });
    }
  }
}

/** A plain datagram endpoint on a `MemoryNetwork` (scheme "coap"). */
export class MemoryEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  #closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly local: PeerAddress,
  ) {}

  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed) return;
    this.network.transmit(this.local, peer, data);
  }

  maxMessageSize(): number {
    // IP/UDP headers are not modelled: the MTU clamp applies to the datagram payload.
    return this.network.conditions.mtu ?? 1152;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.network.unbind(this);
  }
}
