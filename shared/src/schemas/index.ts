export * from "./base64.js";
export * from "./envelope.js";
export * from "./gateway-key.js";
export * from "./registry.js";
export * from "./config.js";
export * from "./health.js";
