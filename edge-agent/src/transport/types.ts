/**
 * The transport seam. Everything above (CoAP message layer, server, client) sees datagram
 * endpoints: bytes in, bytes out, peer addresses as values. Plain UDP and DTLS both implement
 * `DatagramEndpoint`, so the CoAP layers do not know whether a datagram was encrypted.
 */

/**
 * A transport address as a value (IPv4 or IPv6; IPv6 may carry a scope id, e.g. "fe80::1%wpan0").
 * "Unix": `address` is the socket path and `port` 0 (datagram) or a per-connection number
 * (stream sockets, whose peers have no path of their own).
 */
export interface PeerAddress {
  readonly address: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6" | "Unix";
}

/** Stable map key for a peer address. */
export function peerKey(peer: PeerAddress): string {
  return `${peer.address}|${peer.port}`;
}

/** Who the transport authenticated the peer as (DESIGN.md §3: the envelope's peer.auth). */
export interface PeerIdentity {
  readonly kind: "psk" | "x509" | "rpk" | "none";
  /** PSK identity, or certificate subject CN. */
  readonly identity?: string;
  /** SHA-256 of the peer certificate DER, hex (x509 only). */
  readonly certificateSha256?: string;
  /** The peer certificate DER (x509 only). */
  readonly certificateDer?: Uint8Array;
}

export const ANONYMOUS: PeerIdentity = Object.freeze({ kind: "none" });

/** Receives one datagram's payload (plaintext CoAP for DTLS) with the authenticated peer. */
export type DatagramHandler = (data: Uint8Array, peer: PeerAddress, identity: PeerIdentity) => void;

export interface DatagramEndpoint {
  /** "coap" for plain UDP, "coaps" for DTLS. */
  readonly scheme: "coap" | "coaps";
  /** The bound local address (after bind; port resolved if 0 was asked for). */
  readonly local: PeerAddress;
  /** Set by the layer above; called once per received application datagram. */
  onDatagram: DatagramHandler;
  /** Sends one application datagram. For DTLS the peer needs an established session; else dropped. */
  send(peer: PeerAddress, data: Uint8Array): void;
  /** The largest CoAP message that fits one datagram to this peer (MTU minus IP/UDP/DTLS overhead). */
  maxMessageSize(peer: PeerAddress): number;
  /** Closes the endpoint (DTLS: close_notify to every peer first). */
  close(): Promise<void>;
}
