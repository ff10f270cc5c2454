/**
 * node:net sockets (TCP, TLS, Unix stream) as StreamChannels, and the listener and connector
 * shared by transport/tcp.ts, tls.ts and unix.ts: a listening socket whose connections feed
 * one StreamLayer attached to a CoapServer; a client connection wrapped in its own layer,
 * returned once the CSM exchange is done.
 */
import type net from "node:net";
import type { CoapServer } from "../server/server.js";
import type { StreamChannel, StreamTransport } from "../coap/stream/channel.js";
import type { StreamConnectionOptions } from "../coap/stream/connection.js";
import { StreamLayer } from "../coap/stream/stream-layer.js";
import type { Clock } from "../util/clock.js";
import { ANONYMOUS, type PeerAddress, type PeerIdentity } from "./types.js";

/** How long a gracefully ended socket may linger before it is destroyed. */
const END_GRACE_MS = 2000;

/** A net.Socket (or tls.TLSSocket) as a "tcp"-framed channel. */
export class SocketChannel implements StreamChannel {
  readonly framing = "tcp" as const;
  onData: (bytes: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  #reason: string | undefined;

  constructor(
    readonly socket: net.Socket,
    readonly transport: StreamTransport,
    readonly local: PeerAddress,
    readonly remote: PeerAddress,
    readonly identity: PeerIdentity = ANONYMOUS,
  ) {
    socket.setNoDelay?.(true);
    socket.on("data", (b: Buffer) => this.onData(b));
    socket.on("error", (e: Error) => void (this.#reason ??= e.message));
    socket.on("end", () => void (this.#reason ??= "closed by peer"));
    socket.once("close", () => this.onClose(this.#reason ?? "closed"));
  }

  send(bytes: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(bytes);
  }

  end(): void {
    if (this.socket.destroyed) return;
    this.#reason ??= "closed locally";
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.#reason ??= "reset";
    this.socket.destroy();
  }
}

/** Options every stream listener takes. */
export interface StreamListenOptions {
  /** Local address (default "127.0.0.1"; "::" for all, dual-stack). */
  readonly address?: string;
  /** Local port (0 picks a free one). */
  readonly port?: number;
  /** Max-Message-Size, Block-Wise-Transfer, CSM/Ping timeouts of each connection. */
  readonly connection?: StreamConnectionOptions;
  /** Connections beyond this are refused (default 1024). */
  readonly maxConnections?: number;
  readonly clock?: Clock;
}

/** A listening reliable transport, serving a CoapServer. */
export interface StreamListener {
  readonly transport: StreamTransport;
  readonly layer: StreamLayer;
  /** The bound address (port resolved). */
  readonly local: PeerAddress;
  /** Stops listening, sends Release on every connection, detaches from the server. */
  close(): Promise<void>;
}

/** "IPv4" | "IPv6" from node's family value. */
export function familyOf(f: string | number | undefined): "IPv4" | "IPv6" {
  return f === "IPv6" || f === 6 ? "IPv6" : "IPv4";
}

/** The remote address of an accepted socket (IPv4-mapped IPv6 kept as node reports it). */
export function remoteOf(socket: net.Socket): PeerAddress {
  return { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0, family: familyOf(socket.remoteFamily) };
}

/**
 * Starts `netServer` (a net.Server or tls.Server) listening and serves its connections through
 * one StreamLayer attached to `server`. `channelOf` makes the channel of an accepted socket
 * (after TLS: with the peer identity), or returns undefined to refuse it. With
 * `connectionEvent` "none" the caller feeds `listener.layer` itself (WebSockets).
 */
export async function serveStream(
  netServer: net.Server,
  transport: StreamTransport,
  scheme: "coap" | "coaps",
  listen: (done: () => void) => void,
  localOf: () => PeerAddress,
  channelOf: (socket: net.Socket) => StreamChannel | undefined,
  options: StreamListenOptions,
  server: CoapServer | undefined,
  connectionEvent: "connection" | "secureConnection" | "none" = "connection",
): Promise<StreamListener> {
  await new Promise<void>((resolve, reject) => {
    netServer.once("error", reject);
    listen(() => {
      netServer.off("error", reject);
      resolve();
    });
  });
  netServer.maxConnections = options.maxConnections ?? 1024;
  const sockets = new Set<net.Socket>();
  const layer = new StreamLayer({
    transport,
    scheme,
    local: localOf(),
    clock: options.clock,
    connection: options.connection,
    onClose: async () => {
      const closed = new Promise<void>((resolve) => netServer.close(() => resolve()));
      // Released connections end by themselves; stragglers are cut after the grace period.
      const timer = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, END_GRACE_MS);
      await closed;
      clearTimeout(timer);
    },
  });
  netServer.on("error", () => {}); // accept errors (EMFILE…) must not crash the agent
  if (connectionEvent !== "none") netServer.on(connectionEvent, (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const channel = channelOf(socket);
    if (!channel) {
      socket.destroy();
      return;
    }
    layer.addChannel(channel);
  });
  server?.attachLayer(layer);
  const local = localOf();
  return {
    transport,
    layer,
    local,
    async close() {
      if (server) server.detach(layer.endpoint);
      await layer.endpoint.close();
    },
  };
}

/**
 * Wraps a connected client socket in a StreamLayer of its own, starts the CSM exchange and
 * resolves once the server's CSM is in. `onClosed` runs when the connection goes away.
 */
export async function clientLayer(
  channel: StreamChannel,
  scheme: "coap" | "coaps",
  options: { readonly connection?: StreamConnectionOptions; readonly clock?: Clock; readonly onClosed?: () => void } = {},
): Promise<StreamLayer> {
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const layer = new StreamLayer({
    transport: channel.transport,
    scheme,
    local: channel.local,
    clock: options.clock,
    connection: options.connection,
    // close() sent Release; wait for the socket to go (bounded by the grace period).
    onClose: () => Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, END_GRACE_MS).unref())]),
  });
  layer.onConnection = (_c, up) => {
    if (up) return;
    markClosed();
    options.onClosed?.();
  };
  const conn = layer.addChannel(channel);
  await conn.ready;
  return layer;
}
