/**
 * Cipher suites as data (STYLE.md §8, after pion's cipher_suite_*.go): one row per suite, and
 * one AEAD record path for all of them. The key exchange is named here and implemented by a
 * module under key-exchange/.
 *
 * Record expansion for every row: 8-byte explicit nonce + tag (RFC 6655 §3, RFC 5288 §3).
 * Key block for AEAD suites (RFC 5246 §6.3, no MAC keys):
 *   client_write_key[16] server_write_key[16] client_write_IV[4] server_write_IV[4]
 */
import type { AeadAlgorithm } from "../crypto/index.js";

export type KeyExchangeName = "psk" | "ecdhe_ecdsa";

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly keyExchange: KeyExchangeName;
  readonly aead: AeadAlgorithm;
  readonly keyLength: 16;
  /** The implicit part of the nonce, from the key block ("salt" in RFC 5288). */
  readonly fixedIvLength: 4;
  /** The explicit part of the nonce, carried in each record (we send epoch ‖ sequence_number). */
  readonly explicitNonceLength: 8;
  readonly tagLength: 8 | 16;
  readonly prfHash: "sha256";
}

function aeadSuite(id: number, name: string, keyExchange: KeyExchangeName, aead: AeadAlgorithm, tagLength: 8 | 16): CipherSuite {
  return Object.freeze({ id, name, keyExchange, aead, keyLength: 16, fixedIvLength: 4, explicitNonceLength: 8, tagLength, prfHash: "sha256" });
}

/**
 * Every suite the engine implements, in our default preference order: the 8-byte-tag CCM
 * suites CoAP mandates first (RFC 7252 §9.1.3.1 PSK, §9.1.3.3 certificates), then full-tag CCM,
 * then GCM for peers without CCM. An endpoint offers and accepts only the rows whose key
 * exchange it holds credentials for, so PSK and certificates can be configured together.
 */
export const CIPHER_SUITES: readonly CipherSuite[] = Object.freeze([
  aeadSuite(0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8", "psk", "aes-128-ccm", 8), // RFC 6655; CoAP's mandatory PSK suite (RFC 7252 §9.1.3.1)
  aeadSuite(0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "ecdhe_ecdsa", "aes-128-ccm", 8), // RFC 7251; CoAP's certificate suite (RFC 7252 §9.1.3.3)
  aeadSuite(0xc0a4, "TLS_PSK_WITH_AES_128_CCM", "psk", "aes-128-ccm", 16), // RFC 6655
  aeadSuite(0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "ecdhe_ecdsa", "aes-128-ccm", 16), // RFC 7251
  aeadSuite(0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256", "psk", "aes-128-gcm", 16), // RFC 5487
  aeadSuite(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ecdhe_ecdsa", "aes-128-gcm", 16), // RFC 5289
]);

/** Suite ids by name, for configuration and tests. */
export const CipherSuiteId = {
  TLS_PSK_WITH_AES_128_CCM_8: 0xc0a8,
  TLS_PSK_WITH_AES_128_CCM: 0xc0a4,
  TLS_PSK_WITH_AES_128_GCM_SHA256: 0x00a8,
  TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: 0xc0ae,
  TLS_ECDHE_ECDSA_WITH_AES_128_CCM: 0xc0ac,
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 0xc02b,
} as const;

const byId = new Map(CIPHER_SUITES.map((s) => [s.id, s]));

export function cipherSuiteById(id: number): CipherSuite | undefined {
  return byId.get(id);
}

export function cipherSuiteName(id: number): string {
  return byId.get(id)?.name ?? `0x${id.toString(16).padStart(4, "0")}`;
}

/** Bytes a protected record adds to its plaintext: header + explicit nonce + tag. */
export function recordOverhead(suite: CipherSuite): number {
  return 13 + suite.explicitNonceLength + suite.tagLength;
}

/** Key block length for an AEAD suite: two keys and two fixed IVs. */
export function keyBlockLength(suite: CipherSuite): number {
  return 2 * (suite.keyLength + suite.fixedIvLength);
}

/** Resolves a preference list of ids against the table (unknown ids are a configuration error). */
export function resolveSuites(ids: readonly number[] | undefined): readonly CipherSuite[] {
  if (ids === undefined) return CIPHER_SUITES;
  const out: CipherSuite[] = [];
  for (const id of ids) {
    const s = byId.get(id);
    if (!s) throw new RangeError(`unsupported cipher suite ${cipherSuiteName(id)}`);
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) throw new RangeError("cipherSuites is empty");
  return out;
}
