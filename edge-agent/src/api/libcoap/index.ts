/**
 * libcoap's client endpoint API (coap_new_client_session*, coap_session_set_mtu,
 * coap_session_max_pdu_size, coap_session_release, the coap_*_is_supported checks) on the edge
 * agent's transports; docs/API.md maps each function.
 */
export { CoapContext, type CoapContextOptions } from "./context.js";
export {
  COAP_DEFAULT_MTU,
  CoapSession,
  newClientSession,
  newClientSessionPki,
  newClientSessionPsk,
  type CoapSessionSetup,
} from "./session.js";
export { CoapSessionError, type CoapSessionErrorCode } from "./errors.js";
export {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  COAP_PROTO_DTLS,
  COAP_PROTO_TCP,
  COAP_PROTO_TLS,
  COAP_PROTO_UDP,
  COAP_PROTO_WS,
  COAP_PROTO_WSS,
  defaultPortFor,
  type CoapAddress,
  type CoapDtlsCpsk,
  type CoapDtlsCpskInfo,
  type CoapDtlsPki,
  type CoapPkiKey,
  type CoapProto,
  type CoapSessionRequest,
} from "./types.js";
