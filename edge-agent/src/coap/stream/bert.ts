/**
 * BERT (RFC 8323 §6) at the edge of the stream layer, so the block-wise code above it
 * (server/ Block1 reassembly and Block2 slicing, client/ transfers) keeps working in
 * 1024-byte blocks (SZX 6) and never sees SZX 7:
 *
 *   server, inbound Block1 SZX 7, NUM n, k×1024 bytes → k sub-requests Block1 {n+i, SZX 6};
 *       the 2.31 of all but the last stay inside; the answer carries Block1 {n, M, BERT}
 *       (Figure 18: the response echoes the request's NUM).
 *   server, Block2 SZX 7 asked, or no Block2 asked → the request goes up with SZX 6; a
 *       sliced response (Block2 SZX 6, M=1) is topped up with the next blocks, fetched as
 *       sub-requests from the server's Block2 cache, to as many 1024-byte blocks as fit
 *       the Max-Message-Size, and sent as Block2 {n, M, BERT}.
 *   client, outbound Block2 SZX 6 → SZX 7 (asks for BERT; NUM is the same offset unit);
 *       inbound Block1/Block2 SZX 7 → SZX 6 (NUM unchanged, payload may hold many blocks;
 *       the client computes the next NUM from the bytes received).
 *
 * These are pure functions over options; stream-layer.ts does the sub-request orchestration.
 */
import {
  BERT_SZX,
  BERT_UNIT,
  OptionNumber,
  bertBlockOption,
  decodeBlockAllowingBert,
  type BlockValue,
  type CoapOption,
  type StreamMessage,
} from "@coaps-edge/shared";

/** The Block1/Block2 value of `options` (SZX 7 allowed), or undefined when absent or malformed. */
export function findBlock(options: readonly CoapOption[], number: number): BlockValue | undefined {
  const o = options.find((x) => x.number === number);
  if (!o) return undefined;
  try {
    return decodeBlockAllowingBert(o.value);
  } catch {
    return undefined;
  }
}

/** `options` without the given option numbers, plus `extra`. */
export function replaceOptions(options: readonly CoapOption[], remove: readonly number[], extra: readonly CoapOption[] = []): CoapOption[] {
  return [...options.filter((o) => !remove.includes(o.number)), ...extra];
}

/** Rewrites a block option's SZX `from` → `to` (NUM and M unchanged); other messages are returned as they are. */
export function rewriteBlockSzx<M extends StreamMessage>(msg: M, number: number, from: number, to: number): M {
  const b = findBlock(msg.options, number);
  if (!b || b.szx !== from) return msg;
  return { ...msg, options: replaceOptions(msg.options, [number], [bertBlockOption(number, { ...b, szx: to })]) };
}

/** The BERT Block1 of a response to a BERT upload: NUM of the request, M of the response's Block1. */
export function bertBlock1Answer<M extends StreamMessage>(msg: M, request: BlockValue): M {
  const b = findBlock(msg.options, OptionNumber.Block1);
  if (!b) return msg;
  return { ...msg, options: replaceOptions(msg.options, [OptionNumber.Block1], [bertBlockOption(OptionNumber.Block1, { num: request.num, more: b.more, szx: BERT_SZX })]) };
}

/** How a BERT Block1 payload splits into 1024-byte blocks, or a reason it is malformed. */
export function splitBertPayload(block: BlockValue, payload: Uint8Array): Uint8Array[] | string {
  // §6: "For non-final BERT blocks, the payload is always a multiple of 1024 bytes."
  if (block.more && (payload.length === 0 || payload.length % BERT_UNIT !== 0)) {
    return `a non-final BERT block of ${payload.length} bytes is not a multiple of 1024`;
  }
  const count = block.more ? payload.length / BERT_UNIT : Math.max(1, Math.ceil(payload.length / BERT_UNIT));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(payload.subarray(i * BERT_UNIT, Math.min((i + 1) * BERT_UNIT, payload.length)));
  return out;
}

/** Joins payloads into one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
