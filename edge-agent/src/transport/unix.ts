/**
 * Unix-domain stream sockets with RFC 8323 TCP framing (libcoap's `coap+tcp://%2Fpath…`), on
 * node:net. A stream client needs no path of its own (the kernel pairs the sockets), so only
 * the listening path exists on disk; it is removed when the listener closes. Peers have no
 * address: each connection gets the listening path plus a connection number as its key.
 * The datagram variant (`coap://%2Fpath…`) is transport/unix-dgram.ts.
 */
import { rmSync } from "node:fs";
import net from "node:net";
import type { CoapServer } from "../server/server.js";
import type { StreamLayer } from "../coap/stream/stream-layer.js";
import type { StreamConnectOptions } from "./tcp.js";
import { connectSocket } from "./tcp.js";
import { SocketChannel, clientLayer, serveStream, type StreamListenOptions, type StreamListener } from "./stream-socket.js";
import type { PeerAddress } from "./types.js";

export interface UnixListenOptions extends Omit<StreamListenOptions, "address" | "port"> {
  /** The socket path; an existing socket file there is replaced. */
  readonly path: string;
}

let nextConnection = 1;

/** Listens on a Unix stream socket and serves `server`; the path is removed on close. */
export async function listenUnix(options: UnixListenOptions, server?: CoapServer): Promise<StreamListener> {
  rmSync(options.path, { force: true }); // a stale socket file from a crash would make listen fail (EADDRINUSE)
  const netServer = net.createServer();
  const local: PeerAddress = { address: options.path, port: 0, family: "Unix" };
  const listener = await serveStream(
    netServer,
    "unix",
    "coap",
    (done) => netServer.listen(options.path, done),
    () => local,
    (socket) => new SocketChannel(socket, "unix", local, { address: options.path, port: nextConnection++, family: "Unix" }),
    options,
    server,
  );
  return {
    ...listener,
    async close() {
      await listener.close(); // node unlinks the path when the server closes; make sure
      rmSync(options.path, { force: true });
    },
  };
}

/** Connects to a Unix stream socket at `options.address.address` (the path). */
export async function connectUnix(options: StreamConnectOptions): Promise<StreamLayer> {
  const path = options.address.address;
  const socket = await connectSocket(() => net.connect({ path }), "connect", options.connectTimeoutMs);
  const local: PeerAddress = { address: "", port: 0, family: "Unix" };
  return clientLayer(new SocketChannel(socket, "unix", local, options.address), "coap", options);
}
