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
import * as nodeCrypto from "node:crypto";
import { createHash, createHmac, type KeyObject } from "node:crypto";

/** One-shot SHA-256: crypto.hash (Node ≥ 20.12), else createHash (package.json allows any Node 20). */
const hash: (algorithm: "sha256", data: Uint8Array, encoding: "buffer") => Uint8Array =
  typeof nodeCrypto.hash === "function" ? nodeCrypto.hash : (algorithm, data) => createHash(algorithm).update(data).digest();

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
  if (data.length === 1) return hash("sha256", data[0]!, "buffer");
  const h = createHash("sha256");
  for (const d of data) h.update(d);
  return h.digest();
}

/**
 * A SHA-256 fed as data arrives, whose digest can be read at any point and fed on (the
 * handshake transcript: the session hash and both Finished hash growing prefixes of it).
 */
export class RunningSha256 {
  readonly #hash = createHash("sha256");

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  /** The digest of everything so far; the hash stays open (a copy is finalized). */
  digest(): Uint8Array {
    return this.#hash.copy().digest();
  }
}

/** SHA-256's block size (RFC 2104 §2: B). */
const BLOCK = 64;
const DIGEST = 32;

/**
 * HMAC-SHA256 key pads (RFC 2104 §2): HMAC(K, m) = H(K ^ opad ‖ H(K ^ ipad ‖ m)), with keys
 * longer than the block hashed first. A handshake's key schedule is a dozen small HMACs; with the
 * pads made once per PRF call and each HMAC as two one-shot `hash()` calls over shared scratch it
 * takes ≈23 µs where `createHmac` per HMAC took ≈30 µs (same process, interleaved; a lone HMAC
 * is no faster this way — the saving is the per-call setup, see bench/micro/prf.ts).
 */
function fillPads(secret: Uint8Array, ipad: Uint8Array, opad: Uint8Array): void {
  const k = secret.length > BLOCK ? hash("sha256", secret, "buffer") : secret;
  for (let i = 0; i < BLOCK; i++) {
    const b = i < k.length ? k[i]! : 0;
    ipad[i] = b ^ 0x36;
    opad[i] = b ^ 0x5c;
  }
}

/**
 * Scratch for the HMAC inputs, allocated once and grown when a seed is longer: a fresh
 * Uint8Array over 64 bytes costs ≈0.4 µs (an off-heap backing store) and feeds the GC. Safe to
 * share: a PRF runs to completion synchronously. Wiped after each use (key pads are in it).
 */
let innerScratch = new Uint8Array(256);
let firstScratch = new Uint8Array(256);
const outerScratch = new Uint8Array(BLOCK + DIGEST);

/**
 * P_SHA256(secret, seed), `length` bytes; `seed` may come in parts (label, randoms), copied once
 * into the HMAC inputs (key pad first):
 *   first = ipad ‖ seed        → A(1) = HMAC(secret, seed)
 *   inner = ipad ‖ A(i) ‖ seed → block i = HMAC(secret, A(i) ‖ seed); its first 96 bytes give A(i+1)
 *   outer = opad ‖ inner hash
 */
export function pSha256(secret: Uint8Array, seed: Uint8Array | readonly Uint8Array[], length: number): Uint8Array {
  const parts = seed instanceof Uint8Array ? [seed] : seed;
  let seedLength = 0;
  for (const p of parts) seedLength += p.length;
  if (innerScratch.length < BLOCK + DIGEST + seedLength) {
    innerScratch = new Uint8Array(BLOCK + DIGEST + seedLength);
    firstScratch = new Uint8Array(BLOCK + seedLength);
  }
  const inner = innerScratch.subarray(0, BLOCK + DIGEST + seedLength);
  const first = firstScratch.subarray(0, BLOCK + seedLength);
  const outer = outerScratch;
  fillPads(secret, inner, outer);
  first.set(inner.subarray(0, BLOCK));
  let at = BLOCK;
  for (const p of parts) {
    inner.set(p, at + DIGEST);
    first.set(p, at);
    at += p.length;
  }
  let a = hmacInto(first, outer);
  const out = new Uint8Array(length);
  at = 0;
  for (;;) {
    inner.set(a, BLOCK);
    const block = hmacInto(inner, outer);
    out.set(block.subarray(0, Math.min(DIGEST, length - at)), at);
    at += DIGEST;
    if (at >= length) break;
    a = hmacInto(inner.subarray(0, BLOCK + DIGEST), outer);
  }
  inner.fill(0);
  first.fill(0);
  outer.fill(0);
  return out;
}

/** HMAC from its two hashes: `message` starts with ipad, `outer` with opad (its tail is scratch). */
function hmacInto(message: Uint8Array, outer: Uint8Array): Uint8Array {
  outer.set(hash("sha256", message, "buffer"), BLOCK);
  return hash("sha256", outer, "buffer");
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
