/**
 * Tokens (RFC 7252 §5.3.1): 0–8 opaque bytes chosen by the requester to match responses to
 * requests, independent of message IDs (a separate response carries a new message ID but the
 * request's token). Unsecured requests SHOULD carry ≥ 32 random bits, so tokens come from
 * the CSPRNG, drawn from a pooled buffer to keep one syscall per 512 tokens off the data path.
 *
 * Matching key: the requester's peer address plus the token (§5.3.2: the response must come
 * from the endpoint the request was sent to).
 */
import { getRandomValues } from "node:crypto";
import type { PeerAddress } from "../transport/types.js";

const POOL_SIZE = 4096;

export class TokenGenerator {
  #pool = new Uint8Array(POOL_SIZE);
  #offset = POOL_SIZE;

  /** A fresh random token of `length` bytes (0..8). The returned array is a copy, safe to keep. */
  next(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || length > 8) throw new RangeError("token length must be 0..8");
    if (this.#offset + length > POOL_SIZE) {
      getRandomValues(this.#pool);
      this.#offset = 0;
    }
    const t = this.#pool.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return t;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of a short byte string (tokens, ETags, Request-Tags). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] as number];
  return s;
}

/** The key matching a response to the exchange that sent a request with `token` to `peer`. */
export function tokenKey(peer: PeerAddress, token: Uint8Array): string {
  return `${peer.address}|${peer.port}|${toHex(token)}`;
}

/** Byte equality for short arrays (tokens, ETags). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
