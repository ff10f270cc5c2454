/** The CoAP client role: CoapClient (requests, URIs, block-wise), typed errors. */
export * from "./errors.js";
export * from "./uri.js";
export * from "./exchanges.js";
export * from "./blockwise-transfer.js";
export * from "./client.js";
export * from "./observe.js";
