/**
 * The request every in-process micro-benchmark sends: a CON GET /hello (the agent's demo
 * resource, as in the bench's load workloads), token 01020304.
 */
import { encodeMessage, MessageType, OptionNumber, type CoapMessage } from "@coaps-edge/shared";

export function helloGetMessage(messageId = 0): CoapMessage {
  return {
    type: MessageType.CON,
    code: 1,
    messageId,
    token: Uint8Array.of(1, 2, 3, 4),
    options: [{ number: OptionNumber.UriPath, value: new TextEncoder().encode("hello") }],
    payload: new Uint8Array(0),
  };
}

/** helloGetMessage encoded (the shared codec). */
export function helloGet(messageId = 0): Uint8Array {
  return encodeMessage(helloGetMessage(messageId));
}
