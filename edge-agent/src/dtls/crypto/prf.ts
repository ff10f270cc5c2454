/**
 * TLS 1.2 key schedule on SHA-256 (RFC 5246 §5, §6.3, §7.4.9, §8.1; RFC 7627 §4):
 *
 *   P_SHA256(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
 *       A(0) = seed, A(i) = HMAC(secret, A(i-1))
 *   PRF(secret, label, seed) = P_SHA256(secret, label + seed)
 *   master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]
 *   master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47]   (RFC 7627)
 *   key_block     = PRF(master_secret, "key expansion", server_random + client_random)
 *   verify_data   = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]
 */
import { createHash, createHmac, type KeyObject } from "node:crypto";

const encoder = new TextEncoder();
/** Labels as bytes, encoded once. */
const labels = new Map<string, Uint8Array>();
function labelBytes(label: string): Uint8Array {
  let l = labels.get(label);
  if (!l) labels.set(label, (l = encoder.encode(label)));
  return l;
}

export function hmacSha256(key: Uint8Array | KeyObject, ...data: readonly Uint8Array[]): Uint8Array {
  const h = createHmac("sha256", key);
  for (const d of data) h.update(d);
  return h.digest();
}

export function sha256(...data: readonly Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const d of data) h.update(d);
  return h.digest();
}

/**
 * P_SHA256(secret, seed), `length` bytes; `seed` may come in parts (label, randoms), hashed in
 * order without concatenating. The secret goes to createHmac raw: importing it into a KeyObject
 * first costs a key import per PRF and saves nothing per HMAC (bench/micro).
 */
export function pSha256(secret: Uint8Array, seed: Uint8Array | readonly Uint8Array[], length: number): Uint8Array {
  const parts = seed instanceof Uint8Array ? [seed] : seed;
  const out = new Uint8Array(length);
  let a: Uint8Array | undefined; // A(0) = seed
  let at = 0;
  while (at < length) {
    a = a === undefined ? hmacSha256(secret, ...parts) : hmacSha256(secret, a);
    const block = hmacSha256(secret, a, ...parts);
    out.set(block.subarray(0, Math.min(block.length, length - at)), at);
    at += block.length;
  }
  return out;
}

/** PRF(secret, label, seed) for TLS 1.2 with SHA-256 (`seed` in parts: concatenated in order). */
export function prf(secret: Uint8Array, label: string, seed: Uint8Array | readonly Uint8Array[], length: number): Uint8Array {
  return pSha256(secret, [labelBytes(label), ...(seed instanceof Uint8Array ? [seed] : seed)], length);
}

export const MASTER_SECRET_LENGTH = 48;
export const VERIFY_DATA_LENGTH = 12;

/** RFC 5246 §8.1: the classic master secret from both randoms. */
export function masterSecret(preMasterSecret: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): Uint8Array {
  return prf(preMasterSecret, "master secret", [clientRandom, serverRandom], MASTER_SECRET_LENGTH);
}

/** RFC 7627 §4: the master secret bound to the session hash (transcript through ClientKeyExchange). */
export function extendedMasterSecret(preMasterSecret: Uint8Array, sessionHash: Uint8Array): Uint8Array {
  return prf(preMasterSecret, "extended master secret", sessionHash, MASTER_SECRET_LENGTH);
}

/** RFC 5246 §6.3: the key block (note the seed order: server_random first). */
export function keyBlock(master: Uint8Array, serverRandom: Uint8Array, clientRandom: Uint8Array, length: number): Uint8Array {
  return prf(master, "key expansion", [serverRandom, clientRandom], length);
}

/** RFC 5246 §7.4.9: Finished.verify_data. */
export function finishedVerifyData(master: Uint8Array, sender: "client" | "server", handshakeHash: Uint8Array): Uint8Array {
  return prf(master, sender === "client" ? "client finished" : "server finished", handshakeHash, VERIFY_DATA_LENGTH);
}
