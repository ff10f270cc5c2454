/** @coaps-edge/shared: runtime-neutral CoAP model and codec, edge↔cloud schemas, gateway tokens. */
export * from "./coap/index.js";
export * from "./schemas/index.js";
export * from "./token.js";
