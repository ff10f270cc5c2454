/**
 * Helpers shared by the block-wise layers (RFC 7959) of server and client: limits, transfer
 * keys, message size bounds and generated ETags. The block option math itself (BlockValue,
 * SZX, sliceBlock) lives in @coaps-edge/shared.
 */
import { MAX_SZX, blockSize, encodedOptionsSize, type CoapOption } from "@coaps-edge/shared";
import type { PeerAddress } from "../transport/types.js";

/** Limits of the block-wise layer (all bounded, all expiring). */
export interface BlockwiseLimits {
  /** The block size this endpoint prefers, as SZX 0..6 (default 6: 1024 bytes). The smaller of ours and the peer's wins. */
  readonly preferredSzx: number;
  /** Largest request body reassembled from Block1 (and largest response body a client reassembles); default 1 MiB. */
  readonly maxBodyBytes: number;
  /** Concurrent transfers kept (Block1 buffers and Block2 bodies, each); default 256. */
  readonly maxTransfers: number;
  /** Total bytes of buffered transfer state, each store; default 16 MiB. */
  readonly maxBufferedBytes: number;
  /** A transfer idle for this long is forgotten; default 60 s. */
  readonly transferIdleMs: number;
  /**
   * Block1 uploads one peer may have in progress at once (default 4): bounds one peer's
   * reassembly memory to this × maxBodyBytes, so it cannot take the whole store (issue 8).
   */
  readonly maxTransfersPerPeer: number;
}

export const DEFAULT_BLOCKWISE: BlockwiseLimits = Object.freeze({
  preferredSzx: MAX_SZX,
  maxBodyBytes: 1024 * 1024,
  maxTransfers: 256,
  maxBufferedBytes: 16 * 1024 * 1024,
  transferIdleMs: 60_000,
  maxTransfersPerPeer: 4,
});

/** Completes partial limits with the defaults; throws RangeError on impossible values. */
export function blockwiseLimits(overrides: Partial<BlockwiseLimits> = {}): BlockwiseLimits {
  const l: BlockwiseLimits = { ...DEFAULT_BLOCKWISE };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (l as unknown as Record<string, unknown>)[k] = v;
  if (!Number.isInteger(l.preferredSzx) || l.preferredSzx < 0 || l.preferredSzx > MAX_SZX) throw new RangeError("preferredSzx must be 0..6");
  if (!(l.maxBodyBytes > 0)) throw new RangeError("maxBodyBytes must be > 0");
  return Object.freeze(l);
}

/**
 * The encoded size of a message without its payload bytes: header, token, options (exact, RFC
 * 7252 §3.1) and the payload marker. Callers include the block options they will add, at their
 * largest (see WIDEST_BLOCK), so a block sized by it always fits.
 */
export function overheadBound(tokenLength: number, options: readonly CoapOption[]): number {
  return 4 + tokenLength + encodedOptionsSize(options) + 1;
}

/** The widest Block1/Block2 value (3 bytes, RFC 7959 §2.2): stands in for any block number while sizing. */
export const WIDEST_BLOCK = new Uint8Array(3);

/** The largest SZX ≤ `szx` whose block plus `overhead` (block options included) fits `maxMessageSize`. */
export function fitSzx(szx: number, overhead: number, maxMessageSize: number): number {
  let s = szx;
  while (s > 0 && blockSize(s) + overhead > maxMessageSize) s--;
  return s;
}

/** The key of one resource representation for one peer: peer, path, query and a discriminator. */
export function transferKey(peer: PeerAddress, path: readonly string[], query: readonly string[], extra: string): string {
  return `${peer.address}|${peer.port}|${path.join("/")}|${query.join("&")}|${extra}`;
}

/**
 * An 8-byte ETag for a body we slice without one from the handler, so a client can tell that
 * blocks belong to the same representation (RFC 7959 §2.4). FNV-1a, two 32-bit lanes: not a
 * security property, only change detection.
 */
export function generatedEtag(body: Uint8Array): Uint8Array {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ body.length;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as number;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, a >>> 0);
  v.setUint32(4, b >>> 0);
  return out;
}
