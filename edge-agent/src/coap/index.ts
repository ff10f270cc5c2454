/**
 * CoAP over datagrams (RFC 7252, RFC 7959) as named layers, one file each (STYLE.md §6, after
 * Californium's CoapUdpStack and aiocoap's messagemanager/tokenmanager):
 *
 *            server/CoapServer                      client/CoapClient
 *    resources, methods, handlers,           request(), URIs, one body per call,
 *    /.well-known/core, separate delay       ETag/offset checks, deadlines
 *                  │                                      │
 *   ┌──────────────┴──────────────┐        ┌──────────────┴──────────────┐
 *   │ block1-reassembler.ts       │        │ client/blockwise-transfer.ts│  block-wise
 *   │ block2-slicer.ts (+ cache)  │        │  (Block1 send, Block2 fetch)│  RFC 7959
 *   └──────────────┬──────────────┘        └──────────────┬──────────────┘
 *                  │ InboundRequest                       │ tokens.ts: token → exchange
 *                  │ respond / acceptSeparately           │ (ResponseSink, TransmissionOwner)
 *   ┌──────────────┴──────────────────────────────────────┴──────────────┐
 *   │ message-layer.ts   CON/NON/ACK/RST, ping → RST, unmatched → RST,   │
 *   │                    retransmission + NSTART (timer-queue.ts),       │  RFC 7252 §4
 *   │                    dedup + reply replay (dedup-cache.ts),          │
 *   │                    message IDs (message-ids.ts), malformed → count │
 *   └──────────────────────────────────┬─────────────────────────────────┘
 *                                      │ encodeMessage / tryDecodeMessage (@coaps-edge/shared)
 *   ┌──────────────────────────────────┴─────────────────────────────────┐
 *   │ DatagramEndpoint: transport/udp.ts (coap), dtls/ (coaps), memory   │
 *   └────────────────────────────────────────────────────────────────────┘
 *
 * Times come from constants.ts (RFC 7252 §4.8.2 formulas); every timer goes through an
 * injected Clock, most of them through one TimerQueue per layer.
 */
export * from "./constants.js";
export * from "./timer-queue.js";
export * from "./dedup-cache.js";
export * from "./message-ids.js";
export * from "./tokens.js";
export * from "./message-layer.js";
export * from "./expiring-map.js";
export * from "./blockwise.js";
export * from "./block1-reassembler.js";
export * from "./block2-slicer.js";
