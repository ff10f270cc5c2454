/**
 * CoAP over reliable transports (RFC 8323): channel (transport seam), frame reader, connection
 * (CSM, Ping/Pong, Release, Abort), BERT translation and the stream layer that server/ and
 * client/ use in place of the UDP message layer. See stream-layer.ts for the stack drawing.
 */
export * from "./channel.js";
export * from "./frame-reader.js";
export * from "./connection.js";
export * from "./bert.js";
export * from "./stream-layer.js";
export * from "./client-factory.js";
