/**
 * libcoap's feature checks (coap_*_is_supported, man coap_tls_library), answered from what this
 * build can do right now: the transports from transport/support.ts, the DTLS key exchanges
 * from the cipher-suite table (a suite is listed only once its key exchange is implemented).
 */
import { CIPHER_SUITES } from "../dtls/suites/cipher-suites.js";
import {
  dtlsIsSupported,
  tcpIsSupported,
  tlsIsSupported,
  unixDgramIsSupported,
  unixStreamIsSupported,
  wsIsSupported,
  wssIsSupported,
} from "../transport/support.js";

/** TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655): OpenThread's SetPsk suite. */
export const PSK_CCM8 = 0xc0a8;
/** TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7251): OpenThread's SetCertificate suite. */
export const ECDHE_ECDSA_CCM8 = 0xc0ae;

/** The certificate suite id when the DTLS engine implements it, else undefined. */
export function certificateSuiteId(): number | undefined {
  return CIPHER_SUITES.some((s) => s.id === ECDHE_ECDSA_CCM8) ? ECDHE_ECDSA_CCM8 : undefined;
}

/** coap_dtls_is_supported: CoAP over DTLS 1.2 (our engine; needs AES-CCM in node:crypto). */
export function coapDtlsIsSupported(): boolean {
  return dtlsIsSupported();
}

/** coap_tcp_is_supported: CoAP over TCP (RFC 8323). */
export function coapTcpIsSupported(): boolean {
  return tcpIsSupported();
}

/** coap_tls_is_supported: CoAP over TLS (RFC 8323). */
export function coapTlsIsSupported(): boolean {
  return tlsIsSupported();
}

/** coap_ws_is_supported: CoAP over WebSockets (RFC 8323 §4). */
export function coapWsIsSupported(): boolean {
  return wsIsSupported();
}

/** coap_wss_is_supported: CoAP over secure WebSockets. */
export function coapWssIsSupported(): boolean {
  return wssIsSupported();
}

/** coap_dtls_psk_is_supported: PSK key exchange over DTLS. */
export function coapDtlsPskIsSupported(): boolean {
  return dtlsIsSupported() && CIPHER_SUITES.some((s) => s.keyExchange === "psk");
}

/** coap_dtls_pki_is_supported: X.509 certificates over DTLS (ECDHE-ECDSA). */
export function coapDtlsPkiIsSupported(): boolean {
  return dtlsIsSupported() && certificateSuiteId() !== undefined;
}

/** coap_dtls_rpk_is_supported: raw public keys (RFC 7250) — not implemented. */
export function coapDtlsRpkIsSupported(): boolean {
  return false;
}

/** coap_dtls_pkcs11_is_supported: PKCS#11 keys — not implemented. */
export function coapDtlsPkcs11IsSupported(): boolean {
  return false;
}

/** coap_af_unix_is_supported: Unix-domain sockets, datagram (coap://) or stream (coap+tcp://). */
export function coapAfUnixIsSupported(): boolean {
  return unixDgramIsSupported() || unixStreamIsSupported();
}
