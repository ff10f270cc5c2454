/**
 * The client side of the transports of RFC 8323 and of Unix-domain sockets, as one
 * `LayerFactory` for CoapClient (libcoap's coap_new_client_session with COAP_PROTO_TCP, TLS,
 * WS, WSS and AF_UNIX addresses):
 *
 *   coap+tcp   → transport/tcp.ts connectTcp   (Unix path host → transport/unix.ts connectUnix)
 *   coaps+tcp  → transport/tls.ts connectTls   (PSK or certificates)
 *   coap+ws    → transport/ws.ts  connectWs
 *   coaps+ws   → transport/ws.ts  connectWs (secure)
 *   coap       with a Unix path host → a MessageLayer over a UnixDgramEndpoint on a unique path
 *   anything else → undefined (UDP and DTLS stay with the client's own endpoints)
 *
 * Each call is one session; the client caches it per (scheme, peer) until it closes.
 */
import type { LayerFactory, RequestTarget } from "../../client/client.js";
import type { TransmissionParameters } from "../constants.js";
import { MessageLayer } from "../message-layer.js";
import { connectTcp } from "../../transport/tcp.js";
import { connectTls, type TlsConnectOptions } from "../../transport/tls.js";
import { connectUnix } from "../../transport/unix.js";
import { UnixDgramEndpoint } from "../../transport/unix-dgram.js";
import { connectWs } from "../../transport/ws.js";
import type { Clock } from "../../util/clock.js";
import type { StreamConnectionOptions } from "./connection.js";

export interface TransportClientOptions {
  /** Credentials for coaps+tcp and coaps+ws: PSK identity + key, certificate, trust store, policy, SNI. */
  readonly tls?: Pick<TlsConnectOptions, "psk" | "certificate" | "trust" | "policy" | "sni">;
  /** Per-connection options (our Max-Message-Size, Block-Wise-Transfer, CSM/Ping timeouts). */
  readonly connection?: StreamConnectionOptions;
  readonly connectTimeoutMs?: number;
  readonly clock?: Clock;
  /** RFC 7252 parameters for Unix datagram sessions. */
  readonly transmission?: Partial<TransmissionParameters>;
  /** Local address and/or port to connect from (coap-client `-a ADDR` / `-p PORT`). */
  readonly local?: { readonly address?: string; readonly port?: number };
}

/** A LayerFactory for CoapClient's `layerFactory` option. */
export function transportLayerFactory(options: TransportClientOptions = {}): LayerFactory {
  return async (target: RequestTarget, onClosed: () => void) => {
    const unix = target.address.family === "Unix";
    const local = unix ? {} : { ...(options.local?.address !== undefined ? { localAddress: options.local.address } : {}), ...(options.local?.port !== undefined ? { localPort: options.local.port } : {}) };
    const common = { address: target.address, connection: options.connection, clock: options.clock, connectTimeoutMs: options.connectTimeoutMs, onClosed, ...local };
    switch (target.scheme) {
      case "coap+tcp":
        return unix ? connectUnix(common) : connectTcp(common);
      case "coaps+tcp":
        return connectTls({ ...common, ...options.tls, host: target.host });
      case "coap+ws":
        return connectWs({ ...common, host: target.host });
      case "coaps+ws":
        return connectWs({ ...common, ...options.tls, host: target.host, secure: true });
      case "coap":
        if (!unix) return undefined;
        return new MessageLayer(await UnixDgramEndpoint.bind(), { clock: options.clock, transmission: options.transmission });
      default:
        return undefined;
    }
  };
}
