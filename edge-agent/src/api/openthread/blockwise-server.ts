/**
 * Requests to block-wise resources (otCoapSecureAddBlockWiseResource), handled the way
 * OpenThread's CoapBase::ProcessBlockwiseRequest does, block by block instead of joining the
 * body first (RFC 7959 §2.3, §2.4):
 *
 *   Block1 + receiveHook   each block → receiveHook(block, NUM×size, M, Size1 or 0)
 *                          M=1 → 2.31 Continue echoing Block1; M=0 → the resource handler
 *                          hook threw NoBufs → 4.13, NoFrameReceived → 4.08, else → 5.00
 *   Block2 + transmitHook  NUM=0 → the resource handler (it answers with sendResponseBlockWise);
 *                          NUM>0 → 2.05 with transmitHook(NUM×size, size) and Block2 {NUM, M, SZX}
 *                          hook threw → 5.00
 *   otherwise              the resource handler, with the message as it came
 *
 * Answers go straight to the message layer (piggybacked on the ACK of a CON, cached there for
 * duplicates), never through CoapServer's reassembly and slicing.
 */
import { Code, OptionNumber, blockOption, blockSize, getBlock, getUintOption, type BlockValue, type CoapOption } from "@coaps-edge/shared";
import type { InboundRequest } from "../../coap/message-layer.js";
import { renderResponse } from "../../server/server.js";
import type { CoapRequest, CoapResponse } from "../../server/types.js";
import { requestFromInbound } from "./messages.js";
import { OtError, otErrorNameOf } from "./ot-error.js";
import type { CoapSecureBlockwiseResource, MessageInfo } from "./types.js";

/** Statistics of block-wise resource handling. */
export interface BlockwiseServerStats {
  block1Received: number;
  block2Served: number;
  hookErrors: number;
  /** Block-wise resource handlers that threw (answered 5.00). */
  handlerErrors: number;
}

/** Sends `response` to `inbound` through its message layer; false if already answered. */
export function respondDirect(inbound: InboundRequest, response: CoapResponse): boolean {
  const parts = renderResponse(response);
  return inbound.layer.respond(inbound, { code: parts.code, token: inbound.message.token, options: parts.options, payload: parts.payload });
}

/** Answers with just a code (and options): the automatic answers of the block-wise path. */
function respondCode(inbound: InboundRequest, code: number, options: CoapOption[] = []): void {
  inbound.layer.respond(inbound, { code, token: inbound.message.token, options, payload: new Uint8Array(0) });
}

/**
 * Handles one request for a block-wise resource. `infoFor` makes the MessageInfo handed to the
 * resource handler (its deliver answers `inbound`).
 */
export function serveBlockwise(
  inbound: InboundRequest,
  resource: CoapSecureBlockwiseResource,
  infoFor: (inbound: InboundRequest, request: CoapRequest) => MessageInfo,
  stats: BlockwiseServerStats,
): void {
  const m = inbound.message;
  let block1: BlockValue | undefined;
  let block2: BlockValue | undefined;
  try {
    block1 = getBlock(m, OptionNumber.Block1);
    block2 = getBlock(m, OptionNumber.Block2);
  } catch {
    respondCode(inbound, Code.BadRequest);
    return;
  }
  const handle = (): void => {
    const request = requestFromInbound(inbound);
    try {
      resource.handler(request, infoFor(inbound, request));
    } catch {
      // As CoapServer does for plain resources: a throwing handler is a 5.00 (if not answered yet).
      stats.handlerErrors++;
      respondCode(inbound, Code.InternalServerError);
    }
  };

  if (block1 && resource.receiveHook) {
    const size = blockSize(block1.szx);
    stats.block1Received++;
    try {
      // OpenThread refuses a block larger than its block buffer with NoBufs (→ 4.13).
      if (m.payload.length > size) throw new OtError("NoBufs", `a ${m.payload.length}-byte block with SZX ${block1.szx}`);
      resource.receiveHook(m.payload, block1.num * size, block1.more, getUintOption(m, OptionNumber.Size1) ?? 0);
    } catch (e) {
      stats.hookErrors++;
      const name = otErrorNameOf(e);
      respondCode(inbound, name === "NoBufs" ? Code.RequestEntityTooLarge : name === "NoFrameReceived" ? Code.RequestEntityIncomplete : Code.InternalServerError);
      return;
    }
    if (block1.more) {
      respondCode(inbound, Code.Continue, [blockOption(OptionNumber.Block1, block1)]);
      return;
    }
    handle();
    return;
  }

  if (block2 && resource.transmitHook && !block1) {
    if (block2.num === 0) {
      handle();
      return;
    }
    const size = blockSize(block2.szx);
    let out: { readonly block: Uint8Array; readonly more: boolean };
    try {
      out = resource.transmitHook(block2.num * size, size);
      if (out.block.length > size) throw new RangeError(`transmit hook returned ${out.block.length} bytes for a ${size}-byte block`);
    } catch {
      stats.hookErrors++;
      respondCode(inbound, Code.InternalServerError);
      return;
    }
    stats.block2Served++;
    inbound.layer.respond(inbound, {
      code: Code.Content,
      token: m.token,
      options: [blockOption(OptionNumber.Block2, { num: block2.num, more: out.more, szx: block2.szx })],
      payload: out.block,
    });
    return;
  }

  handle();
}
