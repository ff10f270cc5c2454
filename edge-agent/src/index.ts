/**
 * @coaps-edge/edge-agent: the gateway agent — transports, the CoAP message layer and
 * block-wise (coap/), the server and client roles, and the agent assembled from a config.
 * (DTLS, forwarding and the rest are exported by their own modules as they land.)
 */
export * from "./transport/types.js";
export { UdpEndpoint, DEFAULT_MTU, DEFAULT_UDP_ENGINE, IP_UDP_OVERHEAD, UDP_ENGINES, type UdpBindOptions, type UdpEngine, type UdpStats } from "./transport/udp.js";
export { MemoryNetwork, MemoryEndpoint, type LinkConditions, type LinkStats } from "./transport/memory.js";
export { systemClock, FakeClock, type Clock, type TimerHandle } from "./util/clock.js";
export * from "./coap/index.js";
export * from "./server/index.js";
export * from "./client/index.js";
export * from "./agent.js";
export * from "./forward/index.js";
export * from "./api/index.js";
export { startStreamListeners, tlsCredentials, type ExtraListeners } from "./stream-listeners.js";
export { transportLayerFactory, type TransportClientOptions } from "./coap/stream/client-factory.js";
export type { StreamListener, StreamListenOptions } from "./transport/stream-socket.js";
export { listenTcp, connectTcp, COAP_TCP_PORT, type StreamConnectOptions } from "./transport/tcp.js";
export { listenTls, connectTls, COAPS_TCP_PORT, COAP_ALPN, type TlsListenOptions, type TlsConnectOptions, type TlsPskServer, type TlsPskClient, type TlsPkiOptions } from "./transport/tls.js";
export { listenWs, connectWs, COAP_WS_PATH, COAP_WS_PROTOCOL, type WsListenOptions, type WsConnectOptions } from "./transport/ws.js";
export { listenUnix, connectUnix, type UnixListenOptions } from "./transport/unix.js";
export { UnixDgramEndpoint, uniqueSocketPath, type UnixDgramBindOptions } from "./transport/unix-dgram.js";
export * from "./transport/support.js";
export * from "./metrics/index.js";
