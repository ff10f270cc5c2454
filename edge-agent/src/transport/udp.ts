/**
 * Plain UDP endpoints on node:dgram. IPv4 or IPv6 (dual-stack for "::" where the OS allows).
 * Received datagrams are handed up as-is; a send error (e.g. EHOSTUNREACH) is counted, never
 * thrown: UDP is best-effort and the layers above own reliability.
 */
import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "./types.js";

/** Bytes of IP + UDP headers subtracted from the MTU (IPv6 40 + UDP 8: the larger case). */
export const IP_UDP_OVERHEAD = 48;
/** libcoap's default MTU (coap_session_set_mtu). */
export const DEFAULT_MTU = 1152;
/** Longest `close()` waits for sends still in flight (a stuck DNS-less send must not hang shutdown). */
export const CLOSE_DRAIN_MS = 250;

export interface UdpBindOptions {
  /** Local address; default "127.0.0.1". "::" binds dual-stack where the OS allows. */
  readonly address?: string;
  /** Local port; 0 picks a free one. */
  readonly port?: number;
  /** Path MTU used for `maxMessageSize` (default 1152, as libcoap). */
  readonly mtu?: number;
  /** IPV6_V6ONLY for "::" binds (default false: dual-stack). */
  readonly ipv6Only?: boolean;
}

export interface UdpStats {
  received: number;
  sent: number;
  sendErrors: number;
}

export class UdpEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  readonly stats: UdpStats = { received: 0, sent: 0, sendErrors: 0 };
  #closed = false;
  /** Sends whose callback has not run yet: node:dgram drops them if the socket closes first. */
  #inFlight = 0;
  #drained: (() => void) | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: PeerAddress,
    private readonly mtu: number,
  ) {
    socket.on("message", (msg, rinfo) => {
      if (this.#closed) return; // closing: only draining sends
      this.stats.received++;
      const family = rinfo.family === "IPv6" ? "IPv6" : "IPv4";
      this.onDatagram(msg, { address: rinfo.address, port: rinfo.port, family }, ANONYMOUS);
    });
    // A socket error (e.g. ICMP unreachable surfaced on some platforms) must not crash the agent.
    socket.on("error", () => void this.stats.sendErrors++);
  }

  /** Binds a UDP socket and resolves once it is listening. */
  static async bind(options: UdpBindOptions = {}): Promise<UdpEndpoint> {
    const address = options.address ?? "127.0.0.1";
    const ipv6 = isIPv6(address.split("%")[0] ?? address);
    const socket = dgram.createSocket({ type: ipv6 ? "udp6" : "udp4", ipv6Only: options.ipv6Only ?? false });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(options.port ?? 0, address, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    const info = socket.address();
    const local: PeerAddress = { address: info.address, port: info.port, family: info.family === "IPv6" ? "IPv6" : "IPv4" };
    return new UdpEndpoint(socket, local, options.mtu ?? DEFAULT_MTU);
  }

  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed) return;
    this.stats.sent++;
    this.#inFlight++;
    this.socket.send(data, peer.port, peer.address, (err) => {
      if (err) this.stats.sendErrors++;
      if (--this.#inFlight === 0) this.#drained?.();
    });
  }

  maxMessageSize(): number {
    return this.mtu - IP_UDP_OVERHEAD;
  }

  /**
   * Stops sending and receiving, then closes the socket once every send issued before has
   * completed (at most CLOSE_DRAIN_MS): node:dgram resolves the destination asynchronously and
   * silently drops a datagram whose socket closes in between — e.g. a DTLS close_notify or the
   * last response sent right before shutdown.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_DRAIN_MS);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#drained = undefined;
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
