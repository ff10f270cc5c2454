/**
 * Server side of Block2 (RFC 7959 §2.4): slices a response body that is larger than the block
 * size the client asked for, or than one datagram to this peer, and serves the later blocks
 * from a bounded, expiring cache so the handler runs once per representation, not per block.
 *
 * Block size: the smallest of our preferred SZX, the client's SZX (early negotiation: Block2
 * NUM 0 in the request) and the largest block that still fits the endpoint's maxMessageSize.
 * A client asking NUM n at a larger SZX gets the block at the same byte offset in our size.
 * Sliced bodies carry an ETag (the handler's, else generated) so the client can check that
 * the blocks belong together, and Size2 when the request asked for it (Size2: 0) or on block 0.
 */
import {
  Code,
  OptionNumber,
  blockOption,
  blockSize,
  sliceBlock,
  uintOption,
  type BlockValue,
  type CoapOption,
} from "@coaps-edge/shared";
import { WIDEST_BLOCK, fitSzx, generatedEtag, overheadBound, type BlockwiseLimits } from "./blockwise.js";
import { ExpiringMap } from "./expiring-map.js";

/** A response before the message layer adds type, message ID and token. */
export interface ResponseParts {
  readonly code: number;
  readonly options: CoapOption[];
  readonly payload: Uint8Array;
}

/** How the request asked for blocks. */
export interface Block2Request {
  /** The request's Block2 (control usage), if any. */
  readonly block: BlockValue | undefined;
  /** The request carried Size2 (asking for the total size, §4). */
  readonly size2: boolean;
  readonly tokenLength: number;
  readonly maxMessageSize: number;
}

/** Stands in for the ETag we may generate (8 bytes) while sizing blocks. */
const GENERATED_ETAG_SIZE = new Uint8Array(8);

interface CachedBody {
  readonly code: number;
  /** The response options with the ETag, without Block2/Size2. */
  readonly options: CoapOption[];
  readonly body: Uint8Array;
}

export class Block2Slicer {
  readonly #bodies: ExpiringMap<CachedBody>;

  constructor(private readonly limits: BlockwiseLimits) {
    this.#bodies = new ExpiringMap({ maxEntries: limits.maxTransfers, maxBytes: limits.maxBufferedBytes, idleMs: limits.transferIdleMs });
  }

  /** Bodies cached for follow-up block requests. */
  get cached(): number {
    return this.#bodies.size;
  }

  /** The requested block of a cached body (a follow-up Block2 request), or undefined if none is cached. */
  fromCache(key: string, req: Block2Request, now: number): ResponseParts | undefined {
    const c = this.#bodies.get(key, now);
    if (!c) return undefined;
    return this.#block(key, c, req, now);
  }

  /**
   * `response` as it goes on the wire: unchanged when it fits and no block was asked for, else the
   * requested block (block 0 by default) with Block2/ETag/Size2; later blocks are cached under `key`.
   */
  slice(key: string, response: ResponseParts, req: Block2Request, now: number): ResponseParts {
    const body = response.payload;
    if (this.fits(response, req)) {
      if (!req.size2) return response;
      return { ...response, options: [...response.options, uintOption(OptionNumber.Size2, body.length)] };
    }
    let options = response.options;
    if (body.length > blockSize(this.#szx(req, options, body.length)) && !options.some((o) => o.number === OptionNumber.ETag)) {
      options = [...options, { number: OptionNumber.ETag, value: generatedEtag(body) }];
    }
    return this.#block(key, { code: response.code, options, body }, req, now);
  }

  /** True when `response` goes out whole (no Block2 asked for, fits one datagram): no transfer key needed. */
  fits(response: ResponseParts, req: Block2Request): boolean {
    return !req.block && overheadBound(req.tokenLength, response.options) + response.payload.length <= req.maxMessageSize;
  }

  clear(): void {
    this.#bodies.clear();
  }

  /** The block size for a body of `bodyLength` with `options`, counting the ETag, Block2 and Size2 we add. */
  #szx(req: Block2Request, options: readonly CoapOption[], bodyLength: number): number {
    const asked = req.block ? Math.min(req.block.szx, this.limits.preferredSzx) : this.limits.preferredSzx;
    const added: CoapOption[] = [{ number: OptionNumber.Block2, value: WIDEST_BLOCK }, uintOption(OptionNumber.Size2, bodyLength)];
    if (!options.some((o) => o.number === OptionNumber.ETag)) added.push({ number: OptionNumber.ETag, value: GENERATED_ETAG_SIZE });
    return fitSzx(asked, overheadBound(req.tokenLength, [...options, ...added]), req.maxMessageSize);
  }

  #block(key: string, c: CachedBody, req: Block2Request, now: number): ResponseParts {
    const szx = this.#szx(req, c.options, c.body.length);
    // The same byte offset in our (smaller or equal) block size.
    const num = req.block ? (req.block.num * blockSize(req.block.szx)) / blockSize(szx) : 0;
    const part = sliceBlock(c.body, num, szx);
    if (!part) {
      return { code: Code.BadOption, options: [], payload: new TextEncoder().encode("Block2 past the end of the body") };
    }
    if (part.more) this.#bodies.set(key, c, c.body.length + 128, now);
    else this.#bodies.delete(key);
    const options = [...c.options, blockOption(OptionNumber.Block2, { num, more: part.more, szx })];
    if (req.size2 || num === 0) options.push(uintOption(OptionNumber.Size2, c.body.length));
    return { code: c.code, options, payload: part.data };
  }
}
