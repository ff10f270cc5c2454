/**
 * One bound UDP socket shared by the two DTLS roles of a CoapSecure agent, as OpenThread's
 * agent has one socket (otCoapSecureStart's port) for both accepting and connecting:
 *
 *   datagram from the peer we connected to ──▶ client side (one DtlsClient)
 *   any other datagram ──▶ admit(data, peer)? ──▶ server side (the DtlsServer, many peers)
 *                                 │ no
 *                                 ▼ dropped and counted (guard time, attempts used up)
 *
 * Each side is a DatagramEndpoint of its own (the DTLS endpoints take over `onDatagram` of the
 * endpoint below them); closing a side does nothing: the owner closes the real socket.
 */
import { peerKey, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../../transport/types.js";

/** One side of a SplitEndpoint. */
export class SideEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  #detached = false;

  constructor(private readonly lower: DatagramEndpoint) {}

  /** From now on nothing is sent or received through this side (an abandoned handshake dies quietly). */
  detach(): void {
    this.#detached = true;
    this.onDatagram = () => {};
  }

  get local(): PeerAddress {
    return this.lower.local;
  }

  send(peer: PeerAddress, data: Uint8Array): void {
    if (!this.#detached) this.lower.send(peer, data);
  }

  maxMessageSize(peer: PeerAddress): number {
    return this.lower.maxMessageSize(peer);
  }

  async close(): Promise<void> {
    // The shared socket belongs to the SplitEndpoint's owner.
  }
}

export class SplitEndpoint {
  readonly server: SideEndpoint;
  /** Datagrams refused by `admit`. */
  dropped = 0;
  /** Decides whether a datagram from a non-client peer reaches the server side. */
  admit: (data: Uint8Array, peer: PeerAddress) => boolean = () => true;
  /** Called after the server side has processed a datagram (CoapSecure counts new handshakes here). */
  afterServerDatagram: (peer: PeerAddress) => void = () => {};
  #client: { key: string; peer: PeerAddress; side: SideEndpoint } | undefined;

  constructor(readonly lower: DatagramEndpoint) {
    this.server = new SideEndpoint(lower);
    lower.onDatagram = (data, peer, identity) => {
      const c = this.#client;
      if (c && peerKey(peer) === c.key) {
        c.side.onDatagram(data, c.peer, identity);
        return;
      }
      if (!this.admit(data, peer)) {
        this.dropped++;
        return;
      }
      this.server.onDatagram(data, peer, identity);
      this.afterServerDatagram(peer);
    };
  }

  /** A side for datagrams from `peer` (replacing any previous client side). */
  attachClient(peer: PeerAddress): SideEndpoint {
    const side = new SideEndpoint(this.lower);
    this.#client = { key: peerKey(peer), peer, side };
    return side;
  }

  /** Datagrams from the former client peer go to the server side again. */
  detachClient(side: SideEndpoint): void {
    if (this.#client?.side === side) this.#client = undefined;
  }
}

/**
 * True when `data` starts with an epoch-0 DTLS handshake record carrying a ClientHello, i.e. a
 * datagram that may open a new association (RFC 6347 §4.1: type 22, epoch 0 at bytes 3–4;
 * §4.2.2: the handshake header's msg_type 1 right after the 13-byte record header).
 */
export function isClientHello(data: Uint8Array): boolean {
  return data.length > 13 && data[0] === 22 && data[3] === 0 && data[4] === 0 && data[13] === 1;
}
