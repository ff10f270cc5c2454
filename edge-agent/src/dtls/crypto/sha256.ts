/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the handshake's small hashes only: the PRF
 * (RFC 5246 §5), the transcript (§7.4.9) and the cookie MAC (RFC 6347 §4.2.1). Bulk data
 * (records) never comes here. Two engines with one interface (sha256-types.ts):
 *   - native (edge-agent/native/sha256, OpenSSL's block function; a P_SHA256 is one call), used
 *     when built;
 *   - @noble/hashes (sha256-noble.ts), the fallback, or with COAPS_EDGE_SHA256=js.
 * Both keep what node:crypto cannot: an HMAC key's pads compressed once (RFC 2104 §4), and a
 * running hash read without closing it. Checked against the FIPS 180-2 / RFC 4231 vectors and
 * node:crypto, each engine, in test/edge-agent/dtls/sha256.test.ts.
 */
import { NativeHmacSha256, NativeSha256, nativeSha256 } from "./sha256-native.js";
import { NobleHmacSha256, NobleSha256 } from "./sha256-noble.js";
import type { HmacSha256 as HmacSha256Type, Sha256 as Sha256Type } from "./sha256-types.js";

export { SHA256_BLOCK, SHA256_DIGEST } from "./sha256-types.js";

/** Which engine serves this process. */
export const SHA256_ENGINE: "native" | "noble" = nativeSha256 ? "native" : "noble";

export type Sha256 = Sha256Type;
export const Sha256: new () => Sha256 = nativeSha256 ? NativeSha256 : NobleSha256;

export type HmacSha256 = HmacSha256Type;
export const HmacSha256: new (key: Uint8Array) => HmacSha256 = nativeSha256 ? NativeHmacSha256 : NobleHmacSha256;

/** SHA-256 of `parts` concatenated. */
export function sha256Of(...parts: readonly Uint8Array[]): Uint8Array {
  const s = new Sha256();
  for (const p of parts) s.update(p);
  return s.digest();
}
