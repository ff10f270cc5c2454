/**
 * Wire constants of DTLS 1.2 (RFC 6347, RFC 5246 and the extension RFCs), as `const` objects
 * so they can be used both as values and as literal types.
 */

/** RFC 5246 §6.2.1 ContentType. */
export const ContentType = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

/** RFC 6347 §4.1: DTLS versions are the 1's complement of the TLS version (so 1.2 < 1.0 numerically). */
export const ProtocolVersion = {
  DTLS1_0: 0xfeff,
  DTLS1_2: 0xfefd,
} as const;

/** RFC 5246 §7.4 + RFC 6347 §4.3.2 (hello_verify_request) + RFC 5077 (new_session_ticket). */
export const HandshakeType = {
  hello_request: 0,
  client_hello: 1,
  server_hello: 2,
  hello_verify_request: 3,
  new_session_ticket: 4,
  certificate: 11,
  server_key_exchange: 12,
  certificate_request: 13,
  server_hello_done: 14,
  certificate_verify: 15,
  client_key_exchange: 16,
  finished: 20,
} as const;
export type HandshakeType = (typeof HandshakeType)[keyof typeof HandshakeType];

const handshakeNames = new Map<number, string>(Object.entries(HandshakeType).map(([k, v]) => [v, k]));
export function handshakeTypeName(type: number): string {
  return handshakeNames.get(type) ?? `handshake_${type}`;
}

/** IANA TLS ExtensionType values we parse, answer, or must tolerate from libcoap's peers. */
export const ExtensionType = {
  server_name: 0, // RFC 6066
  status_request: 5, // RFC 6066 (GnuTLS sends it)
  supported_groups: 10, // RFC 8422
  ec_point_formats: 11, // RFC 8422
  signature_algorithms: 13, // RFC 5246
  use_srtp: 14,
  heartbeat: 15,
  application_layer_protocol_negotiation: 16,
  client_certificate_type: 19, // RFC 7250
  server_certificate_type: 20, // RFC 7250 (GnuTLS sends it)
  padding: 21,
  encrypt_then_mac: 22, // RFC 7366 (meaningless for AEAD suites: never answered)
  extended_master_secret: 23, // RFC 7627
  record_size_limit: 28, // RFC 8449 (GnuTLS sends it)
  session_ticket: 35, // RFC 5077 (not answered: no tickets)
  connection_id: 54, // RFC 9146 (later)
  renegotiation_info: 0xff01, // RFC 5746
} as const;

/** RFC 5746 §3.3: the signalling cipher suite value, equivalent to an empty renegotiation_info. */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/** RFC 5246 §6.2.1: a record fragment is at most 2^14 bytes of plaintext. */
export const MAX_PLAINTEXT = 16384;
/** RFC 5246 §6.2.3: ciphertext may exceed the plaintext by at most 2048 bytes. */
export const MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048;
/** RFC 6347 §4.1 record header: type(1) version(2) epoch(2) sequence_number(6) length(2). */
export const RECORD_HEADER_LENGTH = 13;
/** RFC 6347 §4.2.2 handshake header: msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3). */
export const HANDSHAKE_HEADER_LENGTH = 12;
/** The largest record sequence number (48 bits). Reaching it closes the session: no silent wrap. */
export const MAX_SEQUENCE = 2 ** 48 - 1;
/** RFC 5246 §7.4.1.2: Random is 32 bytes. */
export const RANDOM_LENGTH = 32;

/** RFC 5246 §7.4.4 ClientCertificateType, RFC 8422 §5.5: the only one we request or send. */
export const ClientCertificateType = { ecdsa_sign: 64 } as const;

/** RFC 8422 §5.1.2 ECPointFormat: uncompressed is the only format left (the others are deprecated). */
export const ECPointFormat = { uncompressed: 0 } as const;

/** RFC 5246 §7.4.1.4.1 SignatureAndHashAlgorithm (hash ‖ signature): the only one we sign and accept. */
export const SignatureScheme = { ecdsa_secp256r1_sha256: 0x0403 } as const;
