/**
 * CoAP multicast discovery (RFC 7252 §8, §12.8) as a DatagramEndpoint the CoapServer attaches
 * like any other: one socket per group ("All CoAP Nodes" ff02::fd link-local, ff03::fd
 * realm-local), each bound to the group address itself on the listener's port and joined on one
 * interface. Binding the group address (not "::") is what tells a multicast request from a
 * unicast one without IPV6_PKTINFO, which node:dgram does not expose: the kernel delivers a
 * datagram to a socket bound to a specific address only when it was sent to that address.
 * (A unicast socket bound to "::" on the same port would get the group's datagrams too, so the
 * agent binds the interface's unicast addresses instead when multicast is on.)
 *
 * The RFC 7252 rules for answering a multicast request are enforced here, at the boundary, so
 * the server and its handlers need no multicast flag:
 *
 *   inbound   only NON requests (§8.1: multicast requests MUST be NON) — CON, responses,
 *             empty messages are dropped and counted
 *   outbound  never an ACK or RST (§8.1), never an error response (§8.2: 4.xx/5.xx are not
 *             sent to a multicast request), never an empty 2.05 (RFC 6690 §4.1: a filter
 *             that matched nothing gets no answer); the rest is sent after a random delay
 *             within the leisure period (§8.2, DEFAULT_LEISURE 5 s) from a unicast socket on
 *             the interface (§8.1: the response's source is the server's unicast address)
 */
import dgram from "node:dgram";
import { Code, MessageType, tryDecodeMessage } from "@coaps-edge/shared";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "./types.js";
import { isLinkLocalV6 } from "./interfaces.js";

/** RFC 7252 §12.8: "All CoAP Nodes", link-local and realm-local scope (site-local ff05::fd too). */
export const ALL_COAP_NODES = ["ff02::fd", "ff03::fd"] as const;
/** RFC 7252 §8.2 / §4.8: DEFAULT_LEISURE. */
export const DEFAULT_LEISURE_MS = 5000;

export interface MulticastJoinOptions {
  /** Interface to join on (e.g. "wpan0"). */
  readonly interface: string;
  /** UDP port of the groups (the coap:// listener's). */
  readonly port: number;
  /** Groups to join; default ff02::fd and ff03::fd. */
  readonly groups?: readonly string[];
  /**
   * Unicast endpoints on the interface to answer from; a link-local peer is answered from a
   * link-local one when there is one (same zone), anyone else from the first.
   */
  readonly replyVia: readonly DatagramEndpoint[];
  /** Upper bound of the random response delay (§8.2); default 5000 ms. */
  readonly leisureMs?: number;
  /** [0, 1) source for the delay (tests). */
  readonly random?: () => number;
}

export interface MulticastStats {
  /** Multicast NON requests handed to the server. */
  requests: number;
  /** Inbound datagrams that were not a NON request (CON, responses, empty, undecodable). */
  droppedInbound: number;
  /** Outbound messages withheld: ACK/RST, error responses, empty 2.05. */
  suppressed: number;
  /** Responses sent after the leisure delay. */
  sent: number;
}

export type MulticastErrorCode = "no-reply-endpoint" | "join-failed";

export class MulticastError extends Error {
  override readonly name = "MulticastError";
  constructor(
    readonly code: MulticastErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class MulticastEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  readonly stats: MulticastStats = { requests: 0, droppedInbound: 0, suppressed: 0, sent: 0 };
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  private constructor(
    private readonly sockets: readonly dgram.Socket[],
    readonly local: PeerAddress,
    /** The groups joined, "ff02::fd%wpan0" style. */
    readonly groups: readonly string[],
    private readonly replyVia: readonly DatagramEndpoint[],
    private readonly leisureMs: number,
    private readonly random: () => number,
  ) {
    for (const s of sockets) {
      s.on("message", (msg, rinfo) => this.#receive(msg, { address: rinfo.address, port: rinfo.port, family: rinfo.family === "IPv6" ? "IPv6" : "IPv4" }));
      s.on("error", () => void this.stats.droppedInbound++);
    }
  }

  /** Binds one socket per group on `port` and joins it on the interface; rejects with MulticastError. */
  static async join(options: MulticastJoinOptions): Promise<MulticastEndpoint> {
    if (options.replyVia.length === 0) throw new MulticastError("no-reply-endpoint", `no unicast address on ${options.interface} to answer multicast requests from`);
    const groups = options.groups ?? ALL_COAP_NODES;
    const sockets: dgram.Socket[] = [];
    const joined: string[] = [];
    try {
      for (const group of groups) {
        const scoped = `${group}%${options.interface}`;
        const socket = dgram.createSocket({ type: "udp6", reuseAddr: true, ipv6Only: true });
        sockets.push(socket);
        await new Promise<void>((resolve, reject) => {
          socket.once("error", reject);
          socket.bind(options.port, scoped, () => {
            socket.off("error", reject);
            resolve();
          });
        });
        // The interface by zone: libuv reads ipv6mr_interface from the "%ifname" of "::%ifname".
        socket.addMembership(group, `::%${options.interface}`);
        joined.push(scoped);
      }
    } catch (e) {
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
      throw new MulticastError("join-failed", `cannot join ${groups.join(", ")} on ${options.interface}: ${(e as Error).message}`);
    }
    const local: PeerAddress = { address: joined[0] ?? "", port: options.port, family: "IPv6" };
    return new MulticastEndpoint(sockets, local, joined, options.replyVia, options.leisureMs ?? DEFAULT_LEISURE_MS, options.random ?? Math.random);
  }

  #receive(data: Uint8Array, peer: PeerAddress): void {
    if (this.#closed) return;
    const r = tryDecodeMessage(data);
    const m = r.ok ? r.message : undefined;
    // §8.1: only NON requests are valid multicast requests; nothing else gets an answer either.
    if (!m || m.type !== MessageType.NON || m.code === 0 || m.code >> 5 !== 0) {
      this.stats.droppedInbound++;
      return;
    }
    this.stats.requests++;
    this.onDatagram(data, peer, ANONYMOUS);
  }

  /** Sends a response to a multicast request after the leisure delay, unless §8 forbids it. */
  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed) return;
    const r = tryDecodeMessage(data);
    const m = r.ok ? r.message : undefined;
    const cls = m ? m.code >> 5 : 0;
    const suppress =
      !m ||
      m.type === MessageType.ACK ||
      m.type === MessageType.RST ||
      cls === 4 ||
      cls === 5 ||
      m.code === 0 ||
      (m.code === Code.Content && m.payload.length === 0);
    if (suppress) {
      this.stats.suppressed++;
      return;
    }
    const via = this.#replyEndpoint(peer);
    const copy = Uint8Array.from(data);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closed) return;
      this.stats.sent++;
      via.send(peer, copy);
    }, Math.floor(this.random() * this.leisureMs));
    this.#timers.add(timer);
  }

  #replyEndpoint(peer: PeerAddress): DatagramEndpoint {
    const first = this.replyVia[0]!;
    if (!isLinkLocalV6(peer.address)) return first;
    return this.replyVia.find((e) => isLinkLocalV6(e.local.address)) ?? first;
  }

  maxMessageSize(peer: PeerAddress): number {
    return this.#replyEndpoint(peer).maxMessageSize(peer);
  }

  /** Drops pending responses, leaves the groups and closes the sockets (not the reply endpoints). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
