/**
 * Client side of block-wise transfers (RFC 7959), so a caller sends and receives ONE body
 * (libcoap's COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY):
 *
 *   Block1: a payload larger than the block size (the caller's, like coap-client -b, else the
 *   largest that fits a datagram) goes out in blocks; 2.31 Continue moves to the next one and
 *   a smaller SZX in its Block1 is adopted (§2.3: the server's preference). Size1 on block 0.
 *   Any other answer ends the upload and is the response.
 *
 *   Block2: a response with Block2 M=1 is continued with the same request (no payload, except
 *   FETCH, RFC 8132 §2.3.2) and Block2 {NUM+1, SZX}; each block must sit at the expected
 *   offset and carry the first block's ETag (§2.4). An explicit block size is asked for in the
 *   first request (early negotiation, §2.4). An error response mid-transfer is returned as is.
 */
import {
  Code,
  Method,
  OptionNumber,
  blockOption,
  blockSize,
  getBlock,
  getOption,
  isSuccessCode,
  uintOption,
  type BlockValue,
  type CoapOption,
} from "@coaps-edge/shared";
import { WIDEST_BLOCK, fitSzx, overheadBound } from "../coap/blockwise.js";
import { bytesEqual } from "../coap/tokens.js";
import { CoapClientError } from "./errors.js";
import type { ReceivedResponse } from "./exchanges.js";

/** Sends one request message with these options and payload; resolves with its response. */
export type BlockSender = (options: CoapOption[], payload: Uint8Array) => Promise<ReceivedResponse>;

export interface TransferPlan {
  readonly method: number;
  /** Request options without Block1/Block2/Size1. */
  readonly options: readonly CoapOption[];
  readonly payload: Uint8Array;
  readonly tokenLength: number;
  readonly maxMessageSize: number;
  /** SZX to use: the caller's block size, else our preference. */
  readonly szx: number;
  /** True when the caller chose the block size (coap-client -b): it then also bounds single messages. */
  readonly explicitBlockSize: boolean;
  /** First Block2 number to ask for (coap-client -b NUM,size); 0 by default. */
  readonly block2Start: number;
  /** Largest response body reassembled. */
  readonly maxBodyBytes: number;
}

/** The final response with the whole body (options of its first block, without Block2). */
export interface TransferResult {
  readonly response: ReceivedResponse;
  readonly payload: Uint8Array;
  readonly options: readonly CoapOption[];
  /** Messages sent for this request. */
  readonly messages: number;
}

export async function blockwiseRequest(plan: TransferPlan, send: BlockSender): Promise<TransferResult> {
  let messages = 0;
  const sendCounted: BlockSender = (o, p) => {
    messages++;
    return send(o, p);
  };
  const overhead = overheadOf(plan);
  const szx = fitSzx(plan.szx, overhead, plan.maxMessageSize);
  const needBlock1 =
    plan.payload.length > 0 &&
    (plan.explicitBlockSize ? plan.payload.length > blockSize(szx) : overhead + plan.payload.length > plan.maxMessageSize);
  const wantsEarlyBlock2 = plan.explicitBlockSize || plan.block2Start > 0;

  let first: ReceivedResponse;
  if (needBlock1) {
    first = await upload(plan, szx, wantsEarlyBlock2, sendCounted);
  } else {
    const options = [...plan.options];
    if (wantsEarlyBlock2 && (plan.method === Method.GET || plan.method === Method.FETCH)) {
      options.push(blockOption(OptionNumber.Block2, { num: plan.block2Start, more: false, szx }));
    }
    first = await sendCounted(options, plan.payload);
  }
  const result = await download(plan, first, sendCounted);
  return { ...result, messages };
}

/** A request's size without payload, with room for the Block1, Block2 and Size1 a transfer adds. */
function overheadOf(plan: TransferPlan): number {
  return overheadBound(plan.tokenLength, [
    ...plan.options,
    { number: OptionNumber.Block1, value: WIDEST_BLOCK },
    { number: OptionNumber.Block2, value: WIDEST_BLOCK },
    uintOption(OptionNumber.Size1, plan.payload.length),
  ]);
}

async function upload(plan: TransferPlan, startSzx: number, earlyBlock2: boolean, send: BlockSender): Promise<ReceivedResponse> {
  const body = plan.payload;
  let szx = startSzx;
  let offset = 0;
  for (;;) {
    const size = blockSize(szx);
    const num = offset / size;
    const end = Math.min(offset + size, body.length);
    const more = end < body.length;
    const options = [...plan.options, blockOption(OptionNumber.Block1, { num, more, szx })];
    if (num === 0) options.push(uintOption(OptionNumber.Size1, body.length)); // §4: announce the total
    if (!more && earlyBlock2) options.push(blockOption(OptionNumber.Block2, { num: 0, more: false, szx }));
    const res = await send(options, body.subarray(offset, end));
    if (res.message.code !== Code.Continue || !more) return res;
    const b1 = safeBlock(res, OptionNumber.Block1);
    offset = end;
    // §2.3: adopt a smaller block size the server asks for; the offset stays valid (powers of two).
    if (b1 && b1.szx < szx) szx = b1.szx;
  }
}

/**
 * The rest of a Block2 body whose first response is `first` (also used for Observe
 * notifications, RFC 7641 §4.3: the follow-ups are plain requests built from `plan.options`).
 */
export async function download(plan: TransferPlan, first: ReceivedResponse, send: BlockSender): Promise<Omit<TransferResult, "messages">> {
  const b2 = safeBlock(first, OptionNumber.Block2);
  const options = first.message.options.filter((o) => o.number !== OptionNumber.Block2 && o.number !== OptionNumber.Block1);
  if (!b2 || !isSuccessCode(first.message.code)) {
    return { response: first, payload: first.message.payload, options: first.message.options };
  }
  const etag = getOption(first.message, OptionNumber.ETag)?.value;
  const chunks: Uint8Array[] = [first.message.payload];
  let received = first.message.payload.length;
  const start = b2.num * blockSize(b2.szx);
  let block = b2;
  let last = first;
  // Follow-up requests: the same request, minus Block1/Size1, plus Block2; payload only for FETCH.
  const payload = plan.method === Method.FETCH ? plan.payload : new Uint8Array(0);
  while (block.more) {
    if (received > plan.maxBodyBytes) throw new CoapClientError("body-too-large", `response body exceeds ${plan.maxBodyBytes} bytes`);
    const num = (start + received) / blockSize(block.szx);
    if (!Number.isInteger(num)) throw new CoapClientError("block-mismatch", "block boundary does not fit the block size");
    const res = await send([...plan.options, blockOption(OptionNumber.Block2, { num, more: false, szx: block.szx })], payload);
    if (!isSuccessCode(res.message.code)) return { response: res, payload: res.message.payload, options: res.message.options };
    const next = safeBlock(res, OptionNumber.Block2);
    if (!next) {
      // The server ignored Block2 and sent the whole body: take it.
      return { response: res, payload: res.message.payload, options: res.message.options };
    }
    if (next.num * blockSize(next.szx) !== start + received) {
      throw new CoapClientError("block-mismatch", `block ${next.num} at the wrong offset (expected ${start + received})`);
    }
    const tag = getOption(res.message, OptionNumber.ETag)?.value;
    if ((etag === undefined) !== (tag === undefined) || (etag && tag && !bytesEqual(etag, tag))) {
      throw new CoapClientError("block-mismatch", "the representation changed during the block-wise transfer (ETag)");
    }
    chunks.push(res.message.payload);
    received += res.message.payload.length;
    block = next;
    last = res;
  }
  if (received > plan.maxBodyBytes) throw new CoapClientError("body-too-large", `response body exceeds ${plan.maxBodyBytes} bytes`);
  const body = new Uint8Array(received);
  let o = 0;
  for (const c of chunks) {
    body.set(c, o);
    o += c.length;
  }
  return { response: last, payload: body, options };
}

/** A block option, or undefined when absent or malformed (a malformed one is treated as absent). */
function safeBlock(res: ReceivedResponse, number: number): BlockValue | undefined {
  try {
    return getBlock(res.message, number);
  } catch {
    return undefined;
  }
}
