/**
 * otCoapSecureSendRequest and otCoapSecureSendRequestBlockWise over a message layer, the way
 * OpenThread's CoapBase sends them (coap.cpp SendNextBlock1Request / SendNextBlock2Request):
 *
 *   message ID     the caller's when non-zero, else the layer's next one (returned at once)
 *   Block1 upload  transmitHook(0, size) fills block 0; each 2.31 Continue asks the hook for
 *                  the next block at (NUM+1)×size in the server's SZX; the last block's answer
 *                  is the response
 *   Block2 fetch   receiveHook(payload, NUM×size, M, Size2 or 0) per block; M=1 → the same
 *                  request with Block2 {NUM+1}; a 4.xx/5.xx ends the transfer as the response
 *   outcome        the handler runs exactly once: (response, info, "None"), or
 *                  (undefined, undefined, "ResponseTimeout" | "Abort" | …) — RST, a closed
 *                  session and a stopped agent are "Abort", as OpenThread's kErrorAbort
 * Every message of one transfer carries the same token (RFC 7959 §2.3; OpenThread does so).
 */
import {
  Code,
  MessageType,
  OptionNumber,
  blockOption,
  blockSize,
  getBlock,
  getUintOption,
  isSuccessCode,
  szxFromSize,
  type CoapMessage,
  type CoapOption,
} from "@coaps-edge/shared";
import { DEFAULT_TOKEN_LENGTH } from "../../coap/constants.js";
import type { MessageLayer } from "../../coap/message-layer.js";
import type { TokenGenerator } from "../../coap/tokens.js";
import { CoapClientError } from "../../client/errors.js";
import type { Exchanges, ReceivedResponse } from "../../client/exchanges.js";
import type { PeerAddress } from "../../transport/types.js";
import type { Clock } from "../../util/clock.js";
import { requestCode, requestOptions, requestPayload } from "./messages.js";
import { OtError, otErrorNameOf, type OtErrorName } from "./ot-error.js";
import {
  MessageInfo,
  type CoapBlockwiseReceiveHook,
  type CoapBlockwiseTransmitHook,
  type CoapSecureRequestMessage,
  type CoapSecureResponseHandler,
} from "./types.js";

export interface RequestDeps {
  readonly exchanges: Exchanges;
  readonly tokens: TokenGenerator;
  readonly clock: Clock;
}

export interface RequestPlan {
  readonly layer: MessageLayer;
  readonly peer: PeerAddress;
  readonly message: CoapSecureRequestMessage;
  readonly handler: CoapSecureResponseHandler | undefined;
  readonly timeoutMs: number;
  readonly transmitHook?: CoapBlockwiseTransmitHook;
  readonly receiveHook?: CoapBlockwiseReceiveHook;
  /** Block1 block size (16..1024). */
  readonly blockSize?: number;
}

/** A failure with the response that was being processed when it happened. */
class TransferError extends Error {
  constructor(
    readonly code: OtErrorName,
    readonly response: ReceivedResponse | undefined,
  ) {
    super(code);
  }
}

function resultOf(e: unknown): TransferError {
  if (e instanceof TransferError) return e;
  if (e instanceof CoapClientError) {
    const code: OtErrorName = e.code === "timeout" ? "ResponseTimeout" : e.code === "bad-request" ? "InvalidArgs" : "Abort";
    return new TransferError(code, undefined);
  }
  return new TransferError(otErrorNameOf(e), undefined);
}

/**
 * Validates the message, starts the exchange and returns its first message ID. Throws OtError
 * InvalidArgs for a message that cannot be sent (bad method, token > 8 bytes, bad block size).
 */
export function startRequest(deps: RequestDeps, plan: RequestPlan): number {
  const m = plan.message;
  const code = requestCode(m);
  const options = requestOptions(m);
  const payload = requestPayload(m);
  if (m.token !== undefined && m.token.length > 8) throw new OtError("InvalidArgs", "token longer than 8 bytes");
  if (m.messageId !== undefined && (!Number.isInteger(m.messageId) || m.messageId < 0 || m.messageId > 0xffff)) {
    throw new OtError("InvalidArgs", `message ID ${m.messageId} is not 0..65535`);
  }
  const szx = plan.blockSize === undefined ? 6 : strictSzx(plan.blockSize);
  const token = m.token ?? deps.tokens.next(DEFAULT_TOKEN_LENGTH);
  const messageId = m.messageId !== undefined && m.messageId > 0 ? m.messageId : plan.layer.nextMessageId();
  const type = m.confirmable === false ? MessageType.NON : MessageType.CON;
  const deadline = deps.clock.now() + plan.timeoutMs;
  let firstSent = false;
  const send = (opts: CoapOption[], body: Uint8Array): Promise<ReceivedResponse> => {
    const message: Omit<CoapMessage, "messageId"> & { messageId?: number } = { type, code, token, options: opts, payload: body };
    if (!firstSent) {
      firstSent = true;
      message.messageId = messageId;
    }
    return deps.exchanges.send(plan.layer, plan.peer, message, deadline);
  };

  let settled = false;
  const finish = (response: ReceivedResponse | undefined, result: OtErrorName): void => {
    if (settled) return;
    settled = true;
    if (!plan.handler) return;
    const info = response ? new MessageInfo(response.peer, plan.layer.endpoint.local, response.identity, undefined) : undefined;
    try {
      plan.handler(response?.message, info, result);
    } catch {
      // A throwing handler must not turn into an unhandled rejection.
    }
  };

  transfer(plan, options, payload, szx, send).then(
    (r) => finish(r, "None"),
    (e: unknown) => {
      const err = resultOf(e);
      finish(err.response, err.code);
    },
  );
  return messageId;
}

async function transfer(
  plan: RequestPlan,
  options: CoapOption[],
  payload: Uint8Array,
  szx: number,
  send: (opts: CoapOption[], body: Uint8Array) => Promise<ReceivedResponse>,
): Promise<ReceivedResponse> {
  let response: ReceivedResponse;
  if (plan.transmitHook) {
    let size = blockSize(szx);
    let out = callTransmit(plan.transmitHook, 0, size, undefined);
    response = await send([...options, blockOption(OptionNumber.Block1, { num: 0, more: out.more, szx })], out.block);
    let num = 0;
    while (out.more && response.message.code === Code.Continue) {
      const b1 = safeBlock(response.message, OptionNumber.Block1);
      if (!b1) break;
      // SendNextBlock1Request: the next block number follows the server's, in the server's SZX.
      num = b1.num + 1;
      szx = b1.szx;
      size = blockSize(szx);
      out = callTransmit(plan.transmitHook, num * size, size, response);
      response = await send([...options, blockOption(OptionNumber.Block1, { num, more: out.more, szx })], out.block);
    }
  } else {
    response = await send(options, payload);
  }

  const receive = plan.receiveHook;
  if (!receive) return response;
  const follow = options.filter((o) => o.number !== OptionNumber.Block1 && o.number !== OptionNumber.Size1);
  for (;;) {
    const b2 = safeBlock(response.message, OptionNumber.Block2);
    if (!b2 || !isSuccessCode(response.message.code)) return response;
    const size = blockSize(b2.szx);
    if (response.message.payload.length > size) throw new TransferError("NoBufs", response);
    try {
      receive(response.message.payload, b2.num * size, b2.more, getUintOption(response.message, OptionNumber.Size2) ?? 0);
    } catch (e) {
      throw new TransferError(otErrorNameOf(e), response);
    }
    if (!b2.more) return response;
    response = await send([...follow, blockOption(OptionNumber.Block2, { num: b2.num + 1, more: false, szx: b2.szx })], new Uint8Array(0));
  }
}

function callTransmit(
  hook: CoapBlockwiseTransmitHook,
  position: number,
  size: number,
  response: ReceivedResponse | undefined,
): { block: Uint8Array; more: boolean } {
  let out: { readonly block: Uint8Array; readonly more: boolean };
  try {
    out = hook(position, size);
  } catch (e) {
    throw new TransferError(otErrorNameOf(e), response);
  }
  // OpenThread: a block longer than the negotiated size is kErrorInvalidArgs.
  if (out.block.length > size) throw new TransferError("InvalidArgs", response);
  return { block: out.block, more: out.more };
}

/** The SZX of a block size that is exactly 16, 32, …, 1024 bytes; else OtError InvalidArgs. */
export function strictSzx(size: number): number {
  const szx = szxFromSize(size);
  if (blockSize(szx) !== size) throw new OtError("InvalidArgs", `block size ${size} is not 16..1024, a power of two`);
  return szx;
}

function safeBlock(m: CoapMessage, n: number) {
  try {
    return getBlock(m, n);
  } catch {
    return undefined;
  }
}
