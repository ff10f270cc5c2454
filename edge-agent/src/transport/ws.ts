/**
 * CoAP over WebSockets (RFC 8323 §4, `coap+ws://`, `coaps+ws://`) on the `ws` package, both
 * roles. The WebSocket endpoint is always `/.well-known/coap` with subprotocol "coap" (§4.1);
 * each binary message holds exactly one CoAP message with Len = 0 (§4.2). WSS is the same
 * over node's TLS, with the credentials of transport/tls.ts (certificates; PSK where the
 * client's TLS stack offers it).
 */
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type tls from "node:tls";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import type { CoapServer } from "../server/server.js";
import type { StreamChannel, StreamTransport } from "../coap/stream/channel.js";
import { DEFAULT_STREAM_MAX_MESSAGE_SIZE } from "../coap/stream/connection.js";
import type { StreamLayer } from "../coap/stream/stream-layer.js";
import { clientLayer, familyOf, remoteOf, serveStream, type StreamListener } from "./stream-socket.js";
import { clientPskCallback, identify, secureOptions, type TlsConnectOptions, type TlsListenOptions } from "./tls.js";
import { ANONYMOUS, type PeerAddress, type PeerIdentity } from "./types.js";

/** The resource path of the CoAP WebSocket endpoint (RFC 8323 §4.1, §8.3). */
export const COAP_WS_PATH = "/.well-known/coap";
/** The WebSocket subprotocol (RFC 8323 §4.1, §11.5). */
export const COAP_WS_PROTOCOL = "coap";

/** A WebSocket as a "ws"-framed channel: one binary message per CoAP message. */
export class WebSocketChannel implements StreamChannel {
  readonly framing = "ws" as const;
  onClose: (reason: string) => void = () => {};
  #onData: ((bytes: Uint8Array) => void) | undefined;
  /** Messages that arrived before the connection took the channel (the server's CSM may come at once). */
  #early: Uint8Array[];

  /** `early`: messages a caller collected between the handshake and this channel. */
  constructor(
    readonly ws: WebSocket,
    readonly transport: StreamTransport,
    readonly local: PeerAddress,
    readonly remote: PeerAddress,
    readonly identity: PeerIdentity = ANONYMOUS,
    early: Uint8Array[] = [],
  ) {
    this.#early = early;
    ws.binaryType = "nodebuffer";
    ws.on("message", (data: RawData, isBinary: boolean) => {
      // §4.2: CoAP messages travel in binary frames; a text frame is a protocol error.
      if (!isBinary) {
        ws.close(1003, "CoAP needs binary messages");
        return;
      }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      if (this.#onData) this.#onData(bytes);
      else this.#early.push(bytes);
    });
    ws.on("error", () => {});
    ws.once("close", (code: number, reason: Buffer) => this.onClose(`websocket closed (${code}${reason.length ? ` ${reason.toString()}` : ""})`));
  }

  get onData(): (bytes: Uint8Array) => void {
    return this.#onData ?? (() => {});
  }

  set onData(fn: (bytes: Uint8Array) => void) {
    this.#onData = fn;
    const early = this.#early.splice(0);
    if (early.length > 0) queueMicrotask(() => early.forEach((b) => fn(b)));
  }

  send(bytes: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes, { binary: true });
  }

  end(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}

export interface WsListenOptions extends TlsListenOptions {
  /** Serve coaps+ws (TLS with `certificate` and/or `psk`) instead of coap+ws. */
  readonly secure?: boolean;
}

/**
 * Listens for CoAP over WebSockets (ws://, or wss:// with `secure`) and serves `server`. The
 * port has no CoAP default (80/443 belong to HTTP): give one (0 picks a free one).
 */
export function listenWs(options: WsListenOptions, server?: CoapServer): Promise<StreamListener> {
  const secure = options.secure ?? false;
  if (secure && !options.psk && !options.certificate) throw new TypeError("listenWs with secure needs PSK credentials or a certificate");
  const pskIdentities = new WeakMap<net.Socket, string>();
  const psk = options.psk;
  const notFound = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" }).end(`CoAP over WebSockets at ${COAP_WS_PATH}\n`);
  };
  const httpServer: http.Server = secure
    ? https.createServer(
        {
          ...secureOptions(options, psk !== undefined),
          ALPNProtocols: ["http/1.1"],
          requestCert: options.trust !== undefined,
          rejectUnauthorized: false,
          ...(psk
            ? {
                pskIdentityHint: psk.hint,
                pskCallback: (socket: tls.TLSSocket, identity: string) => {
                  const key = psk.lookup(identity, undefined);
                  if (!key) return null;
                  pskIdentities.set(socket, identity);
                  return Buffer.from(key);
                },
              }
            : {}),
        },
        notFound,
      )
    : http.createServer(notFound);
  const maxPayload = options.connection?.maxMessageSize ?? DEFAULT_STREAM_MAX_MESSAGE_SIZE;
  const wss = new WebSocketServer({
    server: httpServer,
    path: COAP_WS_PATH,
    maxPayload,
    perMessageDeflate: false,
    // §4.1: the client MUST offer "coap"; without it there is no CoAP here.
    verifyClient: (info: { req: http.IncomingMessage }) => (info.req.headers["sec-websocket-protocol"] ?? "").split(",").some((p) => p.trim() === COAP_WS_PROTOCOL),
    handleProtocols: (protocols: Set<string>) => (protocols.has(COAP_WS_PROTOCOL) ? COAP_WS_PROTOCOL : false),
  });
  const transport: StreamTransport = secure ? "wss" : "ws";
  const address = options.address ?? "127.0.0.1";
  const localOf = (): PeerAddress => {
    const a = httpServer.address() as net.AddressInfo;
    return { address: a.address, port: a.port, family: familyOf(a.family) };
  };
  // serveStream listens and builds the layer; WebSocket connections are fed to it below.
  const listening = serveStream(
    httpServer,
    transport,
    secure ? "coaps" : "coap",
    (done) => httpServer.listen({ host: address, port: options.port ?? 0, ipv6Only: false }, done),
    localOf,
    () => undefined,
    options,
    server,
    "none", // sockets belong to the HTTP server; upgraded WebSockets are fed to the layer below
  );
  return listening.then((listener) => {
    wss.on("connection", (ws: WebSocket, req: http.IncomingMessage) => {
      const socket = req.socket;
      let identity: PeerIdentity = ANONYMOUS;
      if (secure) {
        const id = identify(socket as tls.TLSSocket, options, pskIdentities.get(socket), undefined);
        if (typeof id === "string") {
          ws.terminate();
          return;
        }
        identity = id;
      }
      listener.layer.addChannel(new WebSocketChannel(ws, transport, localOf(), remoteOf(socket), identity));
    });
    return {
      ...listener,
      async close() {
        const closing = listener.close(); // Release to every connection, then the HTTP server
        httpServer.closeIdleConnections();
        await closing;
        for (const c of wss.clients) c.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      },
    };
  });
}

export interface WsConnectOptions extends TlsConnectOptions {
  /** coaps+ws (wss://) instead of coap+ws. */
  readonly secure?: boolean;
  /** The host as written in the URI (Host header, SNI, certificate match). */
  readonly host?: string;
}

/** Connects a coap+ws / coaps+ws client session; resolves after the CSM exchange. */
export async function connectWs(options: WsConnectOptions): Promise<StreamLayer> {
  const secure = options.secure ?? false;
  const a = options.address;
  const hostForUrl = a.family === "IPv6" ? `[${a.address}]` : a.address;
  const url = `${secure ? "wss" : "ws"}://${hostForUrl}:${a.port}${COAP_WS_PATH}`;
  const psk = options.psk;
  const ws = new WebSocket(url, COAP_WS_PROTOCOL, {
    perMessageDeflate: false,
    maxPayload: options.connection?.maxMessageSize ?? DEFAULT_STREAM_MAX_MESSAGE_SIZE,
    handshakeTimeout: options.connectTimeoutMs ?? 10_000,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    ...(options.host ? { headers: { host: options.host.includes(":") ? `[${options.host}]:${a.port}` : `${options.host}:${a.port}` } } : {}),
    ...(secure
      ? {
          ...secureOptions(options, psk !== undefined),
          ALPNProtocols: ["http/1.1"],
          rejectUnauthorized: false,
          ...(options.sni ?? (options.host && !/^[\d.:]+$/.test(options.host) ? options.host : undefined) ? { servername: options.sni ?? options.host } : {}),
          ...(psk ? { pskCallback: clientPskCallback(psk) } : {}),
        }
      : {}),
  });
  const early: Uint8Array[] = [];
  const collect = (data: RawData): void => void early.push(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  ws.on("message", collect);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", (e: Error) => reject(e));
    ws.once("unexpected-response", (_req: unknown, res: http.IncomingMessage) => reject(new Error(`HTTP ${res.statusCode} instead of a WebSocket`)));
  });
  // §4.1: without the "coap" subprotocol the server does not speak CoAP.
  if (ws.protocol !== COAP_WS_PROTOCOL) {
    ws.terminate();
    throw new Error(`the server did not accept the "${COAP_WS_PROTOCOL}" subprotocol`);
  }
  const raw = (ws as unknown as { _socket: net.Socket })._socket;
  let identity: PeerIdentity = ANONYMOUS;
  if (secure) {
    const id = psk ? ({ kind: "psk", identity: psk.identity } as const) : identify(raw as tls.TLSSocket, options, undefined, options.sni ?? options.host);
    if (typeof id === "string") {
      ws.terminate();
      throw new Error(id);
    }
    identity = id;
  }
  const local: PeerAddress = { address: raw?.localAddress ?? "", port: raw?.localPort ?? 0, family: familyOf(raw?.localFamily) };
  ws.off("message", collect);
  return clientLayer(new WebSocketChannel(ws, secure ? "wss" : "ws", local, a, identity, early), secure ? "coaps" : "coap", options);
}
