/** The CoAP server role: resources, handlers, /.well-known/core (see server.ts for the request pipeline). */
export * from "./types.js";
export * from "./coap-error.js";
export * from "./router.js";
export * from "./well-known.js";
export * from "./request.js";
export * from "./server.js";
export * from "./observe.js";
export * from "./demo-resources.js";
