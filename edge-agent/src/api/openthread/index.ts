/**
 * OpenThread's CoAP Secure API (otCoapSecure*) as the class `CoapSecure`; see coap-secure.ts
 * for how one agent holds the gateway's many server sessions and OpenThread's single client
 * session, and docs/API.md for the function-by-function table.
 */
export { CoapSecure, DEFAULT_GUARD_TIME_MS, type CoapSecureOptions, type CoapSecureStats } from "./coap-secure.js";
export { OtError, OtErrorValue, otErrorNameOf, type OtErrorName } from "./ot-error.js";
export {
  MessageInfo,
  OT_DEFAULT_COAP_SECURE_PORT,
  type CoapBlockwiseReceiveHook,
  type CoapBlockwiseTransmitHook,
  type CoapSecureAutoStopCallback,
  type CoapSecureBlockwiseResource,
  type CoapSecureConnectEvent,
  type CoapSecureConnectHandler,
  type CoapSecureRequestHandler,
  type CoapSecureRequestMessage,
  type CoapSecureResource,
  type CoapSecureResponseHandler,
  type CoapSecureSendOptions,
  type CoapSecureSessionEvent,
  type CoapSecureState,
} from "./types.js";
