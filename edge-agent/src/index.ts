/**
 * @coaps-edge/edge-agent: the gateway agent — transports, the CoAP message layer and
 * block-wise (coap/), the server and client roles, and the agent assembled from a config.
 * (DTLS, forwarding and the rest are exported by their own modules as they land.)
 */
export * from "./transport/types.js";
export { UdpEndpoint, DEFAULT_MTU, IP_UDP_OVERHEAD, type UdpBindOptions, type UdpStats } from "./transport/udp.js";
export { MemoryNetwork, MemoryEndpoint, type LinkConditions, type LinkStats } from "./transport/memory.js";
export { systemClock, FakeClock, type Clock, type TimerHandle } from "./util/clock.js";
export * from "./coap/index.js";
export * from "./server/index.js";
export * from "./client/index.js";
export * from "./agent.js";
