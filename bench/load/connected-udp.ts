/**
 * The generator's UDP transport: one socket per session, bound to the session's own loopback
 * source address (sources.ts), talking to one target. Implements the agent's DatagramEndpoint
 * so our DtlsClient runs over it unchanged. Two engines (gen-udp.ts):
 *
 *   native  NativeUdpSocket (recvmmsg/sendmmsg). The addon has no connect(), so datagrams from
 *           anyone but the target are dropped here, as the kernel would for a connected socket.
 *           A send is copied into the socket's arena at once and leaves in one sendmmsg with the
 *           other sends of the same receive batch (or of the same tick).
 *   dgram   node:dgram, `connect()`ed to the target: each send skips the per-call address
 *           handling and the kernel filters other senders.
 *
 * Every datagram is handed up with `target` as its peer (one object for the session's life).
 */
import dgram from "node:dgram";
import type { NativeUdp } from "../../edge-agent/src/transport/udp-native-addon.js";
import { NativeUdpSocket } from "../../edge-agent/src/transport/udp-native.js";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../../edge-agent/src/transport/types.js";
import { DEFAULT_GEN_UDP, requireGenUdp, type GenUdpEngine } from "./gen-udp.js";

/** One engine's socket, as ConnectedUdp drives it. */
interface Link {
  readonly local: PeerAddress;
  /** Set by ConnectedUdp: a datagram from the target. */
  onData: (data: Uint8Array) => void;
  send(data: Uint8Array): void;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Local address to bind (default the loopback address of the target's family). */
  readonly localAddress?: string;
  readonly engine?: GenUdpEngine;
}

export class ConnectedUdp implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  readonly #link: Link;
  #closed = false;

  private constructor(
    link: Link,
    /** The one peer this socket talks to (the object is reused for every datagram). */
    readonly target: PeerAddress,
    readonly engine: GenUdpEngine,
  ) {
    this.#link = link;
    link.onData = (data) => this.onDatagram(data, target, ANONYMOUS);
  }

  /** Binds `localAddress`:0 (an ephemeral port: one session, one socket) for `target`. */
  static async open(target: PeerAddress, options: ConnectOptions = {}): Promise<ConnectedUdp> {
    const engine = options.engine ?? DEFAULT_GEN_UDP;
    const addon = requireGenUdp(engine);
    const localAddress = options.localAddress ?? (target.family === "IPv6" ? "::1" : "127.0.0.1");
    const link = addon ? await openNative(addon, localAddress, target) : await openDgram(localAddress, target);
    return new ConnectedUdp(link, target, engine);
  }

  get local(): PeerAddress {
    return this.#link.local;
  }

  /** Sends to the target (`peer` is ignored: there is only one). */
  send(_peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed) return;
    this.#link.send(data);
  }

  maxMessageSize(): number {
    return 1152 - 48; // libcoap's default MTU minus IP/UDP headers, as UdpEndpoint
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#link.close();
  }
}

async function openNative(addon: NativeUdp, localAddress: string, target: PeerAddress): Promise<Link> {
  const socket = await NativeUdpSocket.bind(addon, { address: localAddress });
  const link: Link = { local: socket.local, onData: () => {}, send: (data) => socket.send(target, data), close: () => socket.close() };
  // The engine hands up one object per sender (its peer cache): after the first datagram from
  // the target, recognising it is an identity check.
  let server: PeerAddress | undefined;
  socket.onDatagram = (data, from) => {
    if (from !== server) {
      if (from.port !== target.port || from.address !== target.address) return;
      server = from;
    }
    link.onData(data);
  };
  return link;
}

async function openDgram(localAddress: string, target: PeerAddress): Promise<Link> {
  const socket = dgram.createSocket({ type: target.family === "IPv6" ? "udp6" : "udp4" });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, localAddress, () => {
      socket.connect(target.port, target.address, () => {
        socket.off("error", reject);
        resolve();
      });
    });
  });
  const a = socket.address();
  const link: Link = {
    local: { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" },
    onData: () => {},
    send: (data) => socket.send(data),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (msg) => link.onData(msg));
  // e.g. ECONNREFUSED after an ICMP unreachable: the request then times out and is counted there.
  socket.on("error", () => {});
  return link;
}
