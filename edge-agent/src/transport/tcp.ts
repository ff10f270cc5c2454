/**
 * CoAP over TCP (RFC 8323 §3, `coap+tcp://`, default port 5683) on node:net, both roles.
 * Framing, CSM and signalling are the stream layer's (coap/stream/); this file binds and
 * connects sockets.
 */
import net from "node:net";
import type { CoapServer } from "../server/server.js";
import type { StreamConnectionOptions } from "../coap/stream/connection.js";
import type { StreamLayer } from "../coap/stream/stream-layer.js";
import type { Clock } from "../util/clock.js";
import { SocketChannel, clientLayer, familyOf, remoteOf, serveStream, type StreamListenOptions, type StreamListener } from "./stream-socket.js";
import type { PeerAddress } from "./types.js";

/** Default port of coap+tcp (RFC 8323 §8.1). */
export const COAP_TCP_PORT = 5683;

/** Listens for CoAP over TCP and serves `server` (port default 5683; 0 picks one). */
export function listenTcp(options: StreamListenOptions, server?: CoapServer): Promise<StreamListener> {
  const netServer = net.createServer({ noDelay: true });
  const address = options.address ?? "127.0.0.1";
  return serveStream(
    netServer,
    "tcp",
    "coap",
    (done) => netServer.listen({ host: address, port: options.port ?? COAP_TCP_PORT, ipv6Only: false }, done),
    () => {
      const a = netServer.address() as net.AddressInfo;
      return { address: a.address, port: a.port, family: familyOf(a.family) };
    },
    (socket) => new SocketChannel(socket, "tcp", localOf(socket), remoteOf(socket)),
    options,
    server,
  );
}

/** Where and how a client connects. */
export interface StreamConnectOptions {
  /** The server's address (resolved). */
  readonly address: PeerAddress;
  /** Local address to bind (libcoap's local_if). */
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly connection?: StreamConnectionOptions;
  readonly clock?: Clock;
  /** Connect timeout in ms (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Called once when the connection is gone (the layer is then dead). */
  readonly onClosed?: () => void;
}

/** Connects a coap+tcp client session; resolves with its layer once CSMs are exchanged. */
export async function connectTcp(options: StreamConnectOptions): Promise<StreamLayer> {
  const socket = await connectSocket(
    () => net.connect({ host: options.address.address, port: options.address.port, localAddress: options.localAddress, localPort: options.localPort, noDelay: true }),
    "connect",
    options.connectTimeoutMs,
  );
  return clientLayer(new SocketChannel(socket, "tcp", localOf(socket), options.address), "coap", options);
}

/** The local address of a connected socket. */
export function localOf(socket: net.Socket): PeerAddress {
  return { address: socket.localAddress ?? "", port: socket.localPort ?? 0, family: familyOf(socket.localFamily) };
}

/** Waits for `event` ("connect" / "secureConnect") on a new socket; rejects on error or timeout. */
export function connectSocket<S extends net.Socket>(make: () => S, event: "connect" | "secureConnect", timeoutMs = 10_000): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const socket = make();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once(event, () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}
