/**
 * A lossy UDP proxy for fault-injection tests (issue 8): clients talk to `proxy.port`, the proxy
 * talks to `target` from one upstream socket per client (so the server still sees one peer per
 * client), and each datagram, in each direction, may be
 *   - lost         (probability `loss`),
 *   - duplicated   (probability `duplicate`: sent twice, the copy after its own delay),
 *   - delayed      (uniform in `delayMs` = [min, max]),
 *   - reordered    (probability `reorder`: held back by `reorderMs` more, so later ones overtake),
 *   - dropped for the MTU: a datagram longer than `mtu` bytes is lost (no IP fragmentation, as a
 *     6LoWPAN/Thread link with a clamped path MTU).
 * The decisions come from a seeded PRNG per direction per client, so a seed replays the same
 * loss pattern for the same traffic (wall-clock timing can still interleave directions).
 */
import dgram from "node:dgram";

export interface LinkFaults {
  /** Probability a datagram is lost (0..1). */
  readonly loss?: number;
  readonly duplicate?: number;
  readonly reorder?: number;
  /** Extra hold for a reordered datagram (default 30 ms). */
  readonly reorderMs?: number;
  /** [min, max] one-way delay in ms (default [0, 0]: sent at once). */
  readonly delayMs?: readonly [number, number];
  /** Largest datagram (UDP payload bytes) that passes; larger ones are lost. */
  readonly mtu?: number;
}

export interface LossyProxyOptions {
  /** Where the server listens. */
  readonly target: { readonly address: string; readonly port: number };
  readonly seed: number;
  /** client → server faults. */
  readonly up?: LinkFaults;
  /** server → client faults. */
  readonly down?: LinkFaults;
  /** Address the proxy listens on (default 127.0.0.1). */
  readonly address?: string;
  /** Close an idle client's upstream socket after this many ms (default 120 s). */
  readonly idleMs?: number;
}

export interface DirectionStats {
  received: number;
  forwarded: number;
  lost: number;
  duplicated: number;
  reordered: number;
  oversize: number;
}

export interface LossyProxyStats {
  readonly up: DirectionStats;
  readonly down: DirectionStats;
  /** Clients seen (one upstream socket each). */
  clients: number;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Client {
  readonly upstream: dgram.Socket;
  readonly upRandom: () => number;
  readonly downRandom: () => number;
  lastSeen: number;
}

const newStats = (): DirectionStats => ({ received: 0, forwarded: 0, lost: 0, duplicated: 0, reordered: 0, oversize: 0 });

export class LossyProxy {
  readonly stats: LossyProxyStats = { up: newStats(), down: newStats(), clients: 0 };
  readonly #socket: dgram.Socket;
  readonly #clients = new Map<string, Client>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #options: LossyProxyOptions;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;
  /** Faults can be changed while running (e.g. heal the link after the handshake). */
  up: LinkFaults;
  down: LinkFaults;

  private constructor(socket: dgram.Socket, options: LossyProxyOptions) {
    this.#socket = socket;
    this.#options = options;
    this.up = options.up ?? {};
    this.down = options.down ?? {};
  }

  /** Starts a proxy on a free port of `options.address`. */
  static async start(options: LossyProxyOptions): Promise<LossyProxy> {
    const address = options.address ?? "127.0.0.1";
    const socket = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
    const proxy = new LossyProxy(socket, options);
    socket.on("error", () => {}); // ICMP unreachable from a client that went away
    socket.on("message", (msg, rinfo) => proxy.#fromClient(msg, rinfo));
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    const idle = options.idleMs ?? 120_000;
    proxy.#sweeper = setInterval(() => proxy.#sweep(idle), Math.min(idle, 5000));
    proxy.#sweeper.unref();
    return proxy;
  }

  /** The port clients send to. */
  get port(): number {
    return this.#socket.address().port;
  }

  get address(): string {
    return this.#socket.address().address;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#clients.values()) c.upstream.close();
    this.#clients.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let client = this.#clients.get(key);
    if (!client) {
      const upstream = dgram.createSocket(this.#options.target.address.includes(":") ? "udp6" : "udp4");
      upstream.on("error", () => {});
      // Per-client streams derived from the seed and the client's arrival order: deterministic.
      const n = this.stats.clients++;
      client = { upstream, upRandom: seededRandom(this.#options.seed ^ (n * 0x9e3779b1)), downRandom: seededRandom((this.#options.seed + 0x5bd1e995) ^ (n * 0x85ebca6b)), lastSeen: Date.now() };
      const c = client;
      upstream.on("message", (reply) => {
        c.lastSeen = Date.now();
        this.#pass(reply, this.down, this.stats.down, c.downRandom, (d) => this.#socket.send(d, rinfo.port, rinfo.address));
      });
      upstream.bind(0);
      this.#clients.set(key, client);
    }
    client.lastSeen = Date.now();
    const up = client.upstream;
    const { address, port } = this.#options.target;
    this.#pass(msg, this.up, this.stats.up, client.upRandom, (d) => up.send(d, port, address));
  }

  #pass(data: Buffer, faults: LinkFaults, stats: DirectionStats, random: () => number, send: (d: Buffer) => void): void {
    stats.received++;
    // Draw every decision for every datagram so the stream of draws does not depend on outcomes.
    const lossDraw = random();
    const dupDraw = random();
    const reorderDraw = random();
    const delayDraw = random();
    const dupDelayDraw = random();
    if (faults.mtu !== undefined && data.length > faults.mtu) {
      stats.oversize++;
      return;
    }
    if (lossDraw < (faults.loss ?? 0)) {
      stats.lost++;
      return;
    }
    const [min, max] = faults.delayMs ?? [0, 0];
    let delay = min + (max - min) * delayDraw;
    if (reorderDraw < (faults.reorder ?? 0)) {
      stats.reordered++;
      delay += faults.reorderMs ?? 30;
    }
    this.#later(delay, () => {
      stats.forwarded++;
      send(data);
    });
    if (dupDraw < (faults.duplicate ?? 0)) {
      stats.duplicated++;
      this.#later(min + (max - min) * dupDelayDraw + 1, () => send(data));
    }
  }

  #later(ms: number, fn: () => void): void {
    const safe = (): void => {
      if (this.#closed) return;
      try {
        fn();
      } catch {
        // a socket closed under us: the datagram is lost, as on a real link
      }
    };
    if (ms <= 0) return safe();
    const t = setTimeout(() => {
      this.#timers.delete(t);
      safe();
    }, ms);
    this.#timers.add(t);
  }

  #sweep(idleMs: number): void {
    const now = Date.now();
    for (const [key, c] of this.#clients) {
      if (now - c.lastSeen > idleMs) {
        c.upstream.close();
        this.#clients.delete(key);
      }
    }
  }
}
