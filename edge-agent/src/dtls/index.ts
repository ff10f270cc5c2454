/**
 * DTLS 1.2 (RFC 6347) for the edge agent: server and client endpoints over any datagram
 * endpoint, PSK and ECDHE_ECDSA cipher suites (CCM_8, CCM, GCM) on one AEAD record path. See
 * flights/index.ts for the handshake and DESIGN.md §2 for the wire rules.
 */
export { DtlsServer, type DtlsLimitStats, type DtlsServerOptions } from "./server.js";
export { AddressRateLimiter, DEFAULT_HANDSHAKE_RATE, type RateLimitOptions } from "./rate-limit.js";
export { DtlsClient, type DtlsClientOptions } from "./client.js";
export type { CloseReason, SessionInfo } from "./connection.js";
export { DtlsError, type DtlsErrorCode, type Recovery } from "./errors.js";
export { AlertDescription, AlertLevel, alertName, type Alert, type AlertName } from "./alert.js";
export { pskTable, type PskClientCredentials, type PskServerCredentials } from "./key-exchange/psk.js";
export type { DtlsClientPki, DtlsServerPki } from "./key-exchange/pki-options.js";
export type { EcdheCurve as EcdheGroup } from "./crypto/index.js";
export { CIPHER_SUITES, CipherSuiteId, cipherSuiteById, cipherSuiteName, recordOverhead, type CipherSuite } from "./suites/cipher-suites.js";
export type { DtlsCommonOptions } from "./options.js";
export { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_RETRANSMIT } from "./options.js";
export type { DtlsStats } from "./stats.js";
export type { RetransmitOptions } from "./handshaker.js";
