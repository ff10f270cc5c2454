/**
 * Server flight 6: ChangeCipherSpec and Finished (epoch 1). The last flight: no timer; it is
 * re-sent only when the client re-sends its flight 5 (RFC 6347 §4.2.4, the "FINISHED" state).
 */
import { HandshakeType } from "../constants.js";
import type { ExpectedMessage, Flight } from "./types.js";

/** Nothing comes back: this is the last flight. */
const NOTHING: readonly ExpectedMessage[] = Object.freeze([]);

export const flight6: Flight = {
  name: "flight6",
  generate(ctx) {
    ctx.emitChangeCipherSpec();
    ctx.emit(HandshakeType.finished, ctx.verifyData("server"));
  },
  expect: () => NOTHING,
  handle() {},
  next: () => "done",
};
