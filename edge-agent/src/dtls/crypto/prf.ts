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
import { createHash, createHmac, createSecretKey, type KeyObject } from "node:crypto";

const encoder = new TextEncoder();

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

/** P_SHA256(secret, seed), `length` bytes. */
export function pSha256(secret: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  // KeyObjects cannot be empty; an empty secret (never a PSK premaster) goes in raw.
  const key: Uint8Array | KeyObject = secret.length === 0 ? secret : createSecretKey(secret);
  const out = new Uint8Array(length);
  let a: Uint8Array = seed;
  let at = 0;
  while (at < length) {
    a = hmacSha256(key, a);
    const block = hmacSha256(key, a, seed);
    out.set(block.subarray(0, Math.min(block.length, length - at)), at);
    at += block.length;
  }
  return out;
}

/** PRF(secret, label, seed) for TLS 1.2 with SHA-256. */
export function prf(secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  const l = encoder.encode(label);
  const s = new Uint8Array(l.length + seed.length);
  s.set(l);
  s.set(seed, l.length);
  return pSha256(secret, s, length);
}

export const MASTER_SECRET_LENGTH = 48;
export const VERIFY_DATA_LENGTH = 12;

/** RFC 5246 §8.1: the classic master secret from both randoms. */
export function masterSecret(preMasterSecret: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): Uint8Array {
  const seed = new Uint8Array(clientRandom.length + serverRandom.length);
  seed.set(clientRandom);
  seed.set(serverRandom, clientRandom.length);
  return prf(preMasterSecret, "master secret", seed, MASTER_SECRET_LENGTH);
}

/** RFC 7627 §4: the master secret bound to the session hash (transcript through ClientKeyExchange). */
export function extendedMasterSecret(preMasterSecret: Uint8Array, sessionHash: Uint8Array): Uint8Array {
  return prf(preMasterSecret, "extended master secret", sessionHash, MASTER_SECRET_LENGTH);
}

/** RFC 5246 §6.3: the key block (note the seed order: server_random first). */
export function keyBlock(master: Uint8Array, serverRandom: Uint8Array, clientRandom: Uint8Array, length: number): Uint8Array {
  const seed = new Uint8Array(serverRandom.length + clientRandom.length);
  seed.set(serverRandom);
  seed.set(clientRandom, serverRandom.length);
  return prf(master, "key expansion", seed, length);
}

/** RFC 5246 §7.4.9: Finished.verify_data. */
export function finishedVerifyData(master: Uint8Array, sender: "client" | "server", handshakeHash: Uint8Array): Uint8Array {
  return prf(master, sender === "client" ? "client finished" : "server finished", handshakeHash, VERIFY_DATA_LENGTH);
}
