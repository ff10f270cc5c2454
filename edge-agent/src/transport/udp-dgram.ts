/**
 * The node:dgram UDP engine: one `message` event (a Buffer and an rinfo object) and one
 * `send` per datagram. Always available; the native engine (udp-native.ts) replaces it when its
 * addon is built, and COAPS_EDGE_UDP=dgram forces this one.
 */
import dgram from "node:dgram";
import { lookup as dnsLookup, type LookupOneOptions } from "node:dns";
import { isIP, isIPv6 } from "node:net";
import { ANONYMOUS, type DatagramHandler, type PeerAddress } from "./types.js";
import { CLOSE_DRAIN_MS, type UdpBindOptions, type UdpSocket } from "./udp-socket.js";

/**
 * Datagrams up to this size are copied into node's shared slab before sending. The socket needs
 * the bytes off the V8 heap, and a small Uint8Array (a CoAP reply, kept by the dedup cache) lives
 * on it: handing it over as is makes V8 move it out with a malloc of its own, which costs more
 * than the copy (bench/micro/udp-send.ts). The copy is garbage once sent, so it pins no slab.
 */
const SLAB_COPY_MAX = 1024;

function slabCopy(data: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafe(data.length);
  copy.set(data);
  return copy;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * node:dgram resolves every send's destination through `lookup`; the default (dns.lookup)
 * answers even an IP literal on the next tick, after a regex test. Peers here are IP literals
 * (rinfo addresses, configured upstreams), so answer those synchronously and send at once;
 * names still go through dns.lookup.
 */
function literalFirstLookup(hostname: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else if (typeof options === "number") dnsLookup(hostname, options, callback);
  else dnsLookup(hostname, options, callback);
}

export class DgramUdpSocket implements UdpSocket {
  onDatagram: DatagramHandler = () => {};
  readonly stats = { received: 0, sent: 0, sendErrors: 0 };
  #closed = false;
  /** Sends whose callback has not run yet: node:dgram drops them if the socket closes first. */
  #inFlight = 0;
  #drained: (() => void) | undefined;
  /** One completion callback for every send (no closure per datagram). */
  readonly #afterSend = (err: Error | null): void => {
    if (err) this.stats.sendErrors++;
    if (--this.#inFlight === 0) this.#drained?.();
  };

  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: PeerAddress,
  ) {
    socket.on("message", (msg, rinfo) => {
      if (this.#closed) return; // closing: only draining sends
      this.stats.received++;
      // rinfo is a fresh { address, family: "IPv4" | "IPv6", port, size } per datagram (Node ≥ 18.4):
      // it is a PeerAddress as it stands, so hand it up instead of copying it.
      this.onDatagram(msg, rinfo as PeerAddress, ANONYMOUS);
    });
    // A socket error (e.g. ICMP unreachable surfaced on some platforms) must not crash the agent.
    socket.on("error", () => void this.stats.sendErrors++);
  }

  /** Binds a UDP socket and resolves once it is listening. */
  static async bind(options: UdpBindOptions): Promise<DgramUdpSocket> {
    const address = options.address ?? "127.0.0.1";
    const ipv6 = isIPv6(address.split("%")[0] ?? address);
    const { recvBufferSize: rcv, sendBufferSize: snd } = options;
    const socket = dgram.createSocket({
      type: ipv6 ? "udp6" : "udp4",
      ipv6Only: options.ipv6Only ?? false,
      lookup: literalFirstLookup,
      ...(rcv ? { recvBufferSize: rcv } : {}),
      ...(snd ? { sendBufferSize: snd } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(options.port ?? 0, address, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    const info = socket.address();
    return new DgramUdpSocket(socket, { address: info.address, port: info.port, family: info.family === "IPv6" ? "IPv6" : "IPv4" });
  }

  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed) return;
    this.stats.sent++;
    this.#inFlight++;
    // With the synchronous lookup the datagram leaves inside this call (uv_udp_try_send) unless
    // the socket buffer is full; the callback only counts errors and tracks what close() drains.
    this.socket.send(data.length <= SLAB_COPY_MAX ? slabCopy(data) : data, peer.port, peer.address, this.#afterSend);
  }

  bufferSizes(): { readonly recv: number; readonly send: number } {
    return { recv: this.socket.getRecvBufferSize(), send: this.socket.getSendBufferSize() };
  }

  /**
   * Stops sending and receiving, then closes the socket once every send issued before has
   * completed (at most CLOSE_DRAIN_MS): a datagram still queued (socket buffer full, or a host
   * name being resolved) is silently dropped when its socket closes — e.g. a DTLS close_notify
   * or the last response sent right before shutdown.
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
