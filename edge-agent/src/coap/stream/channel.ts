/**
 * The transport seam for reliable transports: one `StreamChannel` per connection (a TCP,
 * TLS or Unix stream socket, or a WebSocket). A channel moves bytes and knows who the peer
 * is; framing, CSM and signalling are the connection's (./connection.ts). With "tcp"
 * framing `onData` delivers arbitrary slices of the byte stream; with "ws" framing each call
 * is exactly one WebSocket binary message, i.e. one CoAP message (RFC 8323 §4.2).
 */
import type { StreamFraming } from "@coaps-edge/shared";
import { ANONYMOUS, type PeerAddress, type PeerIdentity } from "../../transport/types.js";

/** The transports of RFC 8323 plus Unix stream sockets (TCP framing over AF_UNIX). */
export type StreamTransport = "tcp" | "tls" | "ws" | "wss" | "unix";

export interface StreamChannel {
  readonly transport: StreamTransport;
  readonly framing: StreamFraming;
  readonly local: PeerAddress;
  readonly remote: PeerAddress;
  /** Who TLS authenticated (kind "none" for plain transports). */
  readonly identity: PeerIdentity;
  /** Set by the connection: bytes (tcp framing) or one message (ws framing). */
  onData: (bytes: Uint8Array) => void;
  /** Set by the connection: the channel is gone (peer closed, reset, or we closed it). Called once. */
  onClose: (reason: string) => void;
  /** Queues bytes (tcp) or one message (ws) for sending. Ignored once closed. */
  send(bytes: Uint8Array): void;
  /** Graceful close after queued data (TCP FIN, WebSocket close 1000). */
  end(): void;
  /** Immediate close (after an Abort was queued, the socket still flushes it where it can). */
  destroy(): void;
}

/** One side of an in-memory channel pair. */
class MemoryChannel implements StreamChannel {
  onData: (bytes: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  peer: MemoryChannel | undefined;
  closed = false;

  constructor(
    readonly transport: StreamTransport,
    readonly framing: StreamFraming,
    readonly local: PeerAddress,
    readonly remote: PeerAddress,
    readonly identity: PeerIdentity,
    private readonly deliver: (fn: () => void) => void,
  ) {}

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    const copy = Uint8Array.from(bytes);
    const peer = this.peer;
    this.deliver(() => {
      if (peer && !peer.closed) peer.onData(copy);
    });
  }

  end(): void {
    this.#closeBoth("closed by peer");
  }

  destroy(): void {
    this.#closeBoth("reset by peer");
  }

  #closeBoth(peerReason: string): void {
    if (this.closed) return;
    this.closed = true;
    const peer = this.peer;
    // Data queued before the close is delivered first (same queue), as a socket flushes.
    this.deliver(() => {
      this.onClose("closed locally");
      if (peer && !peer.closed) {
        peer.closed = true;
        peer.onClose(peerReason);
      }
    });
  }
}

export interface MemoryChannelOptions {
  readonly transport?: StreamTransport;
  readonly framing?: StreamFraming;
  /** How a send is delivered: default queueMicrotask; tests may collect and run them by hand. */
  readonly deliver?: (fn: () => void) => void;
  /** Identity each side sees of the other (default anonymous). */
  readonly clientIdentity?: PeerIdentity;
  readonly serverIdentity?: PeerIdentity;
  /** Addresses of the two ends (default 127.0.0.1:40001 and 127.0.0.1:5683). */
  readonly clientAddress?: PeerAddress;
  readonly serverAddress?: PeerAddress;
}

/** Two connected in-memory channels (client side, server side) for socket-free tests. */
export function memoryChannelPair(options: MemoryChannelOptions = {}): [StreamChannel, StreamChannel] {
  const deliver = options.deliver ?? queueMicrotask;
  const transport = options.transport ?? "tcp";
  const framing = options.framing ?? "tcp";
  const a: PeerAddress = options.clientAddress ?? { address: "127.0.0.1", port: 40001, family: "IPv4" };
  const b: PeerAddress = options.serverAddress ?? { address: "127.0.0.1", port: 5683, family: "IPv4" };
  const client = new MemoryChannel(transport, framing, a, b, options.serverIdentity ?? ANONYMOUS, deliver);
  const server = new MemoryChannel(transport, framing, b, a, options.clientIdentity ?? ANONYMOUS, deliver);
  client.peer = server;
  server.peer = client;
  return [client, server];
}
