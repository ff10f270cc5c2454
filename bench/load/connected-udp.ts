/**
 * The generator's UDP transport: one socket per session, `connect()`ed to the target so each
 * send skips node:dgram's per-call address handling and the kernel filters other senders.
 * Implements the agent's DatagramEndpoint so our DtlsClient can run over it unchanged.
 */
import dgram from "node:dgram";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../../edge-agent/src/transport/types.js";

export class ConnectedUdp implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  sendErrors = 0;
  #closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: PeerAddress,
    /** The one peer this socket talks to (the object is reused for every datagram). */
    readonly target: PeerAddress,
  ) {
    socket.on("message", (msg) => this.onDatagram(msg, target, ANONYMOUS));
    socket.on("error", () => void this.sendErrors++);
  }

  /** Binds `localAddress`:0 (an ephemeral port: one session, one socket) and connects to `target`. */
  static async open(target: PeerAddress, localAddress = target.family === "IPv6" ? "::1" : "127.0.0.1"): Promise<ConnectedUdp> {
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
    return new ConnectedUdp(socket, { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" }, target);
  }

  /** Sends to the connected target (`peer` is ignored: there is only one). */
  send(_peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed) return;
    this.socket.send(data);
  }

  maxMessageSize(): number {
    return 1152 - 48; // libcoap's default MTU minus IP/UDP headers, as UdpEndpoint
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
