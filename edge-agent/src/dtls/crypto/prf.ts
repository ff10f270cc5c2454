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
import { HmacSha256, Sha256, sha256Of } from "./sha256.js";

const encoder = new TextEncoder();
/** Labels as bytes, encoded once. */
const labels = new Map<string, Uint8Array>();
function labelBytes(label: string): Uint8Array {
  let l = labels.get(label);
  if (!l) labels.set(label, (l = encoder.encode(label)));
  return l;
}

/** HMAC-SHA256 of `data` concatenated under `key` (a one-off: the key's pads are not kept). */
export function hmacSha256(key: Uint8Array, ...data: readonly Uint8Array[]): Uint8Array {
  const mac = new HmacSha256(key);
  const out = mac.mac(...data);
  mac.wipe();
  return out;
}

/** SHA-256 of `data` concatenated. */
export function sha256(...data: readonly Uint8Array[]): Uint8Array {
  return sha256Of(...data);
}

/**
 * A SHA-256 fed as data arrives, whose digest can be read at any point and fed on (the
 * handshake transcript: the session hash and both Finished hash growing prefixes of it).
 */
export class RunningSha256 {
  readonly #hash = new Sha256();

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  /** The digest of everything so far; the hash stays open. */
  digest(): Uint8Array {
    return this.#hash.digest();
  }
}

/**
 * One HMAC key for every P_SHA256 call on a raw secret, re-keyed per call (RFC 2104 §4: the
 * pads are compressed once per secret; sha256.ts). Safe to share: a PRF runs to completion
 * synchronously. Wiped after each call.
 */
const prfMac = new HmacSha256(new Uint8Array(0));

/**
 * A PRF secret keyed once: its HMAC pads compressed when it is made (RFC 2104 §4), not per PRF
 * call. The master secret keys three PRF calls per handshake (the key block and both Finished,
 * RFC 5246 §6.3, §7.4.9); keying it once saves two HMAC key setups per handshake side. `wipe`
 * when done with it.
 */
export class PrfSecret {
  /** @internal The keyed HMAC (pSha256 runs on its pads). */
  readonly mac: HmacSha256;

  constructor(secret: Uint8Array) {
    this.mac = new HmacSha256(secret);
  }

  /** Wipes the pads (they stand for the secret). */
  wipe(): void {
    this.mac.wipe();
  }
}

/**
 * P_SHA256(secret, seed), `length` bytes (RFC 5246 §5); `seed` may come in parts (label,
 * randoms), fed in order without concatenating:
 *   A(1) = HMAC(secret, seed), A(i+1) = HMAC(secret, A(i))
 *   output = HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ ...
 */
export function pSha256(secret: Uint8Array | PrfSecret, seed: Uint8Array | readonly Uint8Array[], length: number): Uint8Array {
  const parts = seed instanceof Uint8Array ? [seed] : seed;
  // A pool slice (off the V8 heap), which the native engine writes in place (sha256-native.ts);
  // every byte is written. Secrets in it (master secret, key block) are wiped by their owners.
  const out = Buffer.allocUnsafe(length);
  if (secret instanceof PrfSecret) return secret.mac.pSha256Into(out, parts);
  prfMac.rekey(secret).pSha256Into(out, parts);
  prfMac.wipe();
  return out;
}

/** PRF(secret, label, seed) for TLS 1.2 with SHA-256 (`seed` in parts: concatenated in order). */
export function prf(secret: Uint8Array | PrfSecret, label: string, seed: Uint8Array | readonly Uint8Array[], length: number): Uint8Array {
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
export function keyBlock(master: Uint8Array | PrfSecret, serverRandom: Uint8Array, clientRandom: Uint8Array, length: number): Uint8Array {
  return prf(master, "key expansion", [serverRandom, clientRandom], length);
}

/** RFC 5246 §7.4.9: Finished.verify_data. */
export function finishedVerifyData(master: Uint8Array | PrfSecret, sender: "client" | "server", handshakeHash: Uint8Array): Uint8Array {
  return prf(master, sender === "client" ? "client finished" : "server finished", handshakeHash, VERIFY_DATA_LENGTH);
}
