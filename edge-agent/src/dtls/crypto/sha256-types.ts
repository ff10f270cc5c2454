/**
 * What the handshake's SHA-256 engines (sha256.ts picks one) offer: a running hash that can be
 * read and fed on (the transcript, RFC 5246 §7.4.9), and an HMAC-SHA256 key whose pads are
 * compressed once (RFC 2104 §4) for the PRF (RFC 5246 §5) and the cookie MAC (RFC 6347 §4.2.1).
 */
export const SHA256_BLOCK = 64;
export const SHA256_DIGEST = 32;

/** A SHA-256 computation fed in parts, read without closing (`digestInto`), and copied. */
export interface Sha256 {
  /** Starts over from `other`'s state (of the same engine). */
  copyFrom(other: Sha256): this;
  update(data: Uint8Array, start?: number, end?: number): this;
  /** Writes the digest of everything so far to `out[at..at+32]`; this hash can be fed on. */
  digestInto(out: Uint8Array, at?: number): Uint8Array;
  /** The digest as a new 32-byte array. */
  digest(): Uint8Array;
}

/** An HMAC-SHA256 key, pads compressed once:  HMAC(K, m) = H((K ^ opad) ‖ H((K ^ ipad) ‖ m)). */
export interface HmacSha256 {
  /** Replaces the key (the PRF reuses one instance for every secret it is given). */
  rekey(key: Uint8Array): this;
  /** Writes the first `length` (≤ 32) bytes of HMAC(K, parts concatenated) to `out[at..]`. */
  macInto(out: Uint8Array, at: number, length: number, ...parts: readonly Uint8Array[]): Uint8Array;
  /** HMAC of `parts` concatenated, as a new 32-byte array. */
  mac(...parts: readonly Uint8Array[]): Uint8Array;
  /**
   * Fills `out` with P_SHA256(K, seed) (RFC 5246 §5), the seed's parts concatenated in order:
   *   A(1) = HMAC(K, seed), A(i+1) = HMAC(K, A(i)); output = HMAC(K, A(1) ‖ seed) ‖ HMAC(K, A(2) ‖ seed) ‖ ...
   */
  pSha256Into(out: Uint8Array, seed: readonly Uint8Array[]): Uint8Array;
  /** Wipes the key's midstates (they stand for the secret); MACs throw until `rekey`. */
  wipe(): void;
}
