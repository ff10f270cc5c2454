/**
 * Server side of Block1 (RFC 7959 §2.3, §2.5): reassembles a request body sent in blocks
 * before the handler sees it ("atomic" handling), per (peer, method, path, query, Request-Tag)
 * (RFC 9175 §3: the Request-Tag keeps two concurrent bodies to one resource apart).
 *
 *   block with M=1, at the expected offset → buffered, answered 2.31 Continue with
 *                                            Block1 {num, M=1, our SZX if smaller}
 *   block with M=0, at the expected offset → the whole body goes to the handler; its response
 *                                            carries Block1 {num, M=0, szx}
 *   NUM 0                                  → starts (or restarts) the transfer
 *   gap, or no transfer for NUM > 0        → 4.08 Request Entity Incomplete (state dropped)
 *   repeat of the last block               → 2.31 again (a retransmission with a new MID)
 *   body past maxBodyBytes / Size1 too big → 4.13 Request Entity Too Large with Size1 = limit
 *   M=1 with a payload ≠ the block size    → 4.00 Bad Request
 */
import { Code, OptionNumber, blockOption, blockSize, uintOption, type BlockValue, type CoapOption } from "@coaps-edge/shared";
import type { BlockwiseLimits } from "./blockwise.js";
import { ExpiringMap } from "./expiring-map.js";

/** What the server does with a Block1 request. */
export type Block1Outcome =
  /** The body is complete: run the handler with `payload`, echo `block1` in its response. */
  | { readonly kind: "complete"; readonly payload: Uint8Array; readonly block1: BlockValue }
  /** Answer directly (2.31 Continue, 4.00, 4.08, 4.13) with these options and diagnostic. */
  | { readonly kind: "reply"; readonly code: number; readonly options: CoapOption[]; readonly diagnostic: string };

interface Assembly {
  chunks: Uint8Array[];
  received: number;
  /** Offset and length of the last block, to recognise a repeated block. */
  lastOffset: number;
}

export class Block1Reassembler {
  readonly #transfers: ExpiringMap<Assembly>;
  /** 4.08 answers given (gaps, unknown transfers). */
  incomplete = 0;
  /** 4.13 answers given. */
  tooLarge = 0;
  /** New uploads refused (5.03) because their peer had maxTransfersPerPeer in progress. */
  perPeerRejected = 0;

  constructor(private readonly limits: BlockwiseLimits) {
    this.#transfers = new ExpiringMap({ maxEntries: limits.maxTransfers, maxBytes: limits.maxBufferedBytes, idleMs: limits.transferIdleMs });
  }

  /** Transfers in progress. */
  get active(): number {
    return this.#transfers.size;
  }

  /**
   * Processes one request block. `key` identifies the transfer (see transferKey), `block` is the
   * request's Block1 value, `size1` its Size1 option (if any).
   */
  process(key: string, block: BlockValue, payload: Uint8Array, size1: number | undefined, now: number): Block1Outcome {
    const max = this.limits.maxBodyBytes;
    const size = blockSize(block.szx);
    const offset = block.num * size;
    // §4: Size1 in a request announces the total size; refuse early rather than buffer.
    if ((size1 !== undefined && size1 > max) || offset + payload.length > max) {
      this.#transfers.delete(key);
      this.tooLarge++;
      return { kind: "reply", code: Code.RequestEntityTooLarge, options: [uintOption(OptionNumber.Size1, max)], diagnostic: `body exceeds ${max} bytes` };
    }
    if (block.more && payload.length !== size) {
      this.#transfers.delete(key);
      return { kind: "reply", code: Code.BadRequest, options: [], diagnostic: "Block1 with M=1 must carry a full block" };
    }

    let a = block.num === 0 ? undefined : this.#transfers.get(key, now);
    if (block.num === 0) {
      if (!this.#transfers.get(key, now) && this.#peerTransfers(key) >= this.limits.maxTransfersPerPeer) {
        this.perPeerRejected++;
        return { kind: "reply", code: Code.ServiceUnavailable, options: [uintOption(OptionNumber.MaxAge, 1)], diagnostic: "too many uploads in progress" };
      }
      a = { chunks: [], received: 0, lastOffset: -1 };
      this.#transfers.set(key, a, 64, now);
    } else if (!a) {
      this.incomplete++;
      return { kind: "reply", code: Code.RequestEntityIncomplete, options: [], diagnostic: "no transfer in progress for this Block1" };
    } else if (offset !== a.received) {
      if (offset === a.lastOffset && offset + payload.length === a.received && block.more) {
        return this.#continue(block); // the same block again: acknowledge again, append nothing
      }
      this.#transfers.delete(key);
      this.incomplete++;
      return { kind: "reply", code: Code.RequestEntityIncomplete, options: [], diagnostic: `expected offset ${a.received}, got ${offset}` };
    }

    a.chunks.push(payload);
    a.lastOffset = offset;
    a.received += payload.length;
    if (block.more) {
      this.#transfers.resize(key, 64 + a.received);
      return this.#continue(block);
    }
    this.#transfers.delete(key);
    return { kind: "complete", payload: concat(a.chunks, a.received), block1: block };
  }

  clear(): void {
    this.#transfers.clear();
  }

  /** Uploads in progress from the peer of `key` (transferKey starts "address|port|"). A scan of
   * at most maxTransfers keys, only when an upload starts. */
  #peerTransfers(key: string): number {
    const peer = key.slice(0, key.indexOf("|", key.indexOf("|") + 1) + 1);
    let n = 0;
    for (const k of this.#transfers.keys()) if (k.startsWith(peer)) n++;
    return n;
  }

  /** 2.31 with Block1 echoing NUM and our SZX when it is smaller (§2.3: the client SHOULD adopt it). */
  #continue(block: BlockValue): Block1Outcome {
    const szx = Math.min(block.szx, this.limits.preferredSzx);
    return { kind: "reply", code: Code.Continue, options: [blockOption(OptionNumber.Block1, { num: block.num, more: true, szx })], diagnostic: "" };
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

