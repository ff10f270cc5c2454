/**
 * The two reference APIs people arrive with, on the edge agent's layers:
 * - OpenThread's otCoapSecure* as the class `CoapSecure` (openthread/),
 * - libcoap's client endpoint API as `CoapContext` + `newClientSession*` (libcoap/),
 * and libcoap's coap_*_is_supported checks (support.ts). docs/API.md has the tables.
 */
export * from "./openthread/index.js";
export * from "./libcoap/index.js";
export {
  ECDHE_ECDSA_CCM8,
  PSK_CCM8,
  coapAfUnixIsSupported,
  coapDtlsIsSupported,
  coapDtlsPkcs11IsSupported,
  coapDtlsPkiIsSupported,
  coapDtlsPskIsSupported,
  coapDtlsRpkIsSupported,
  coapTcpIsSupported,
  coapTlsIsSupported,
  coapWsIsSupported,
  coapWssIsSupported,
} from "./support.js";
