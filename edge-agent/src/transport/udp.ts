/**
 * Plain UDP endpoints. IPv4 or IPv6 (dual-stack for "::" where the OS allows). Received datagrams
 * are handed up as their own bytes; a send error (e.g. EHOSTUNREACH) is counted, never thrown:
 * UDP is best-effort and the layers above own reliability.
 *
 * Two engines with the same behaviour serve it (udp-socket.ts): the native batched socket
 * (udp-native.ts: recvmmsg/sendmmsg, one JavaScript call per batch of datagrams) when its addon
 * is built, else node:dgram (udp-dgram.ts). COAPS_EDGE_UDP=dgram forces node:dgram; `engine`
 * says which one a given endpoint runs on.
 */
import type { DatagramEndpoint, DatagramHandler, PeerAddress } from "./types.js";
import { DgramUdpSocket } from "./udp-dgram.js";
import { NativeUdpSocket } from "./udp-native.js";
import { nativeUdp } from "./udp-native-addon.js";
import { DEFAULT_MTU, IP_UDP_OVERHEAD, type UdpBindOptions, type UdpEngine, type UdpSocket, type UdpStats } from "./udp-socket.js";

export { CLOSE_DRAIN_MS, DEFAULT_MTU, IP_UDP_OVERHEAD, MAX_UDP_PAYLOAD, type UdpBindOptions, type UdpEngine, type UdpStats } from "./udp-socket.js";

/** The engines this process can run, the default first. */
export const UDP_ENGINES: readonly UdpEngine[] = nativeUdp ? ["native", "dgram"] : ["dgram"];
/** The engine `UdpEndpoint.bind` uses unless told otherwise. */
export const DEFAULT_UDP_ENGINE: UdpEngine = UDP_ENGINES[0]!;

export class UdpEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  readonly #socket: UdpSocket;

  private constructor(
    socket: UdpSocket,
    /** Which engine moves this endpoint's datagrams. */
    readonly engine: UdpEngine,
    private readonly mtu: number,
  ) {
    this.#socket = socket;
  }

  /** Binds a UDP socket and resolves once it is listening. */
  static async bind(options: UdpBindOptions = {}): Promise<UdpEndpoint> {
    const engine = options.engine ?? DEFAULT_UDP_ENGINE;
    const mtu = options.mtu ?? DEFAULT_MTU;
    if (engine === "native") {
      if (!nativeUdp) throw new Error("the native UDP engine is not available (npm run build:native -w edge-agent; COAPS_EDGE_UDP unset)");
      return new UdpEndpoint(await NativeUdpSocket.bind(nativeUdp, options), engine, mtu);
    }
    return new UdpEndpoint(await DgramUdpSocket.bind(options), engine, mtu);
  }

  /** The bound local address (port resolved if 0 was asked for). */
  get local(): PeerAddress {
    return this.#socket.local;
  }

  get stats(): UdpStats {
    return this.#socket.stats;
  }

  get onDatagram(): DatagramHandler {
    return this.#socket.onDatagram;
  }

  set onDatagram(handler: DatagramHandler) {
    this.#socket.onDatagram = handler;
  }

  send(peer: PeerAddress, data: Uint8Array): void {
    this.#socket.send(peer, data);
  }

  maxMessageSize(): number {
    return this.mtu - IP_UDP_OVERHEAD;
  }

  /** The socket buffer sizes the kernel granted (Linux reports twice the value set). */
  bufferSizes(): { readonly recv: number; readonly send: number } {
    return this.#socket.bufferSizes();
  }

  /**
   * Stops sending and receiving, then closes the socket once every send issued before has left
   * (at most CLOSE_DRAIN_MS): a datagram still queued when its socket closes is lost — e.g. a
   * DTLS close_notify or the last response sent right before shutdown.
   */
  close(): Promise<void> {
    return this.#socket.close();
  }
}
