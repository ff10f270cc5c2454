/**
 * libcoap's client-side setup types (coap3/coap.h: coap_proto_t, coap_address_t,
 * coap_dtls_cpsk_t, coap_dtls_pki_t, block modes) in TypeScript spelling. Field names follow
 * libcoap's in lowerCamelCase; callbacks take closures instead of `arg` pointers.
 */
import type { PemOrDerInput } from "../../pki/pem.js";

/** coap_proto_t: COAP_PROTO_UDP, _DTLS, _TCP, _TLS, _WS, _WSS. */
export type CoapProto = "udp" | "dtls" | "tcp" | "tls" | "ws" | "wss";
export const COAP_PROTO_UDP: CoapProto = "udp";
export const COAP_PROTO_DTLS: CoapProto = "dtls";
export const COAP_PROTO_TCP: CoapProto = "tcp";
export const COAP_PROTO_TLS: CoapProto = "tls";
export const COAP_PROTO_WS: CoapProto = "ws";
export const COAP_PROTO_WSS: CoapProto = "wss";

/** Default ports (libcoap COAP_DEFAULT_PORT, COAPS_DEFAULT_PORT; RFC 8323 §8.3–8.4 for WebSockets). */
export function defaultPortFor(proto: CoapProto): number {
  switch (proto) {
    case "udp":
    case "tcp":
      return 5683;
    case "dtls":
    case "tls":
      return 5684;
    case "ws":
      return 80;
    case "wss":
      return 443;
  }
}

/**
 * coap_address_t: AF_INET / AF_INET6 (an address literal or host name, and a port; port 0 in
 * a server address means the protocol's default port) or AF_UNIX (a socket path).
 */
export type CoapAddress = { readonly address: string; readonly port: number } | { readonly path: string };

/** coap_block_t flags (coap_context_set_block_mode). */
export const COAP_BLOCK_USE_LIBCOAP = 0x01;
export const COAP_BLOCK_SINGLE_BODY = 0x02;

/** coap_dtls_cpsk_info_t: an identity and its key (strings are UTF-8; libcoap's coap-client -k is ASCII). */
export interface CoapDtlsCpskInfo {
  readonly identity: string | Uint8Array;
  readonly key: string | Uint8Array;
}

/** coap_dtls_cpsk_t (coap_new_client_session_psk2). */
export interface CoapDtlsCpsk extends CoapDtlsCpskInfo {
  /**
   * validate_ih_call_back: the server sent this identity hint; return the credentials to use
   * (possibly others than `identity`/`key`), or undefined to abort the handshake.
   */
  readonly validateIdentityHint?: (hint: string) => CoapDtlsCpskInfo | undefined;
  /** client_sni: the server name (SNI) to send. */
  readonly clientSni?: string;
}

/**
 * coap_pki_key_t: PEM files (COAP_PKI_KEY_PEM), PEM buffers (COAP_PKI_KEY_PEM_BUF) or DER
 * (COAP_PKI_KEY_ASN1). PKCS#11 is not supported.
 */
export type CoapPkiKey =
  | { readonly keyType: "pem"; readonly caFile?: string; readonly publicCert?: string; readonly privateKey?: string }
  | { readonly keyType: "pem_buf"; readonly caCert?: string | Uint8Array; readonly publicCert?: string | Uint8Array; readonly privateKey?: string | Uint8Array }
  | { readonly keyType: "asn1"; readonly caCert?: Uint8Array; readonly publicCert?: Uint8Array; readonly privateKey?: Uint8Array }
  | { readonly keyType: "pkcs11" };

/**
 * coap_dtls_pki_t, the fields that apply to a client. Defaults (libcoap zeroes the struct; the
 * seed's example sets): verifyPeerCert true, checkCommonCa true, the rest as pki/validate.ts
 * DEFAULT_PKI_POLICY.
 */
export interface CoapDtlsPki {
  /** verify_peer_cert: validate the server's certificate at all. */
  readonly verifyPeerCert?: boolean;
  /** check_common_ca: the server's chain must end at one of our CAs. */
  readonly checkCommonCa?: boolean;
  /** allow_self_signed (ignored with checkCommonCa). */
  readonly allowSelfSigned?: boolean;
  /** allow_expired_certs (also not-yet-valid ones). */
  readonly allowExpiredCerts?: boolean;
  /** cert_chain_validation + cert_chain_verify_depth (intermediate CAs allowed). */
  readonly certChainValidation?: boolean;
  readonly certChainVerifyDepth?: number;
  /** check_cert_revocation / allow_no_crl / allow_expired_crl: no CRL support (see pki/validate.ts). */
  readonly checkCertRevocation?: boolean;
  readonly allowNoCrl?: boolean;
  readonly allowExpiredCrl?: boolean;
  /** allow_bad_md_hash / allow_short_rsa_length: accepted for parity; we only do P-256 ECDSA with SHA-256. */
  readonly allowBadMdHash?: boolean;
  readonly allowShortRsaLength?: boolean;
  /** is_rpk_not_cert: raw public keys (RFC 7250) are not supported; true fails with "not-supported". */
  readonly isRpkNotCert?: boolean;
  /** validate_cn_call_back(cn, der, depth, validated): false refuses the certificate. */
  readonly validateCn?: (cn: string, der: Uint8Array, depth: number, validated: boolean) => boolean;
  /** client_sni. */
  readonly clientSni?: string;
  /** pki_key: our certificate and key (optional for a client) and the CA(s). */
  readonly pkiKey: CoapPkiKey;
}

/** What a session request takes (a libcoap PDU with its URI options, as coap-client builds it). */
export interface CoapSessionRequest {
  /** "GET" (default), "post"…, or the method code. */
  readonly method?: string | number;
  /** "/a/b" or ["a", "b"]. */
  readonly path?: string | readonly string[];
  /** "a=1&b" or ["a=1", "b"]. */
  readonly query?: string | readonly string[];
  /** Uri-Host, when the server is known by a name. */
  readonly uriHost?: string;
  readonly payload?: Uint8Array | string;
  readonly contentFormat?: number;
  readonly accept?: number;
  readonly options?: readonly import("@coaps-edge/shared").CoapOption[];
  /** CON (default) or NON. */
  readonly confirmable?: boolean;
  readonly token?: Uint8Array;
  /** Block size for Block1 uploads and the Block2 size asked for (coap-client -b). */
  readonly blockSize?: number;
  /** Deadline of the whole request in ms (default: the context's / MAX_TRANSMIT_WAIT). */
  readonly timeoutMs?: number;
}

/** A PEM/DER input as pki/ takes it, from a coap_pki_key_t member. */
export type PkiInput = PemOrDerInput;
