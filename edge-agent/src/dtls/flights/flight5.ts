/**
 * Client flight 5: the key exchange's messages (PSK: ClientKeyExchange with the identity;
 * ECDHE_ECDSA: [Certificate] ClientKeyExchange [CertificateVerify]),
 * ChangeCipherSpec, Finished (epoch 1). Expects the server's ChangeCipherSpec and Finished
 * (flight 6), tolerating a NewSessionTicket before it.
 */
import { DecodeError } from "../codec/bytes.js";
import { HandshakeType } from "../constants.js";
import { constantTimeEqual } from "../crypto/index.js";
import { DtlsError } from "../errors.js";
import { decodeFinished } from "../handshake/messages/finished.js";
import type { ExpectedMessage, Flight } from "./types.js";

const SERVER_FINISHED: readonly ExpectedMessage[] = Object.freeze([
  // RFC 5077 §3.3: a server may send one before its ChangeCipherSpec; we never offer tickets, but tolerate it.
  { type: HandshakeType.new_session_ticket, optional: true },
  { type: HandshakeType.finished, epoch: 1 },
]);

export const flight5: Flight = {
  name: "flight5",
  generate(ctx) {
    ctx.kx!.clientFlight(ctx);
    ctx.deriveKeys();
    ctx.emitChangeCipherSpec();
    ctx.emit(HandshakeType.finished, ctx.verifyData("client"));
  },
  expect: () => SERVER_FINISHED,
  handle(ctx, msg) {
    if (msg.type !== HandshakeType.finished) return;
    let received: Uint8Array;
    try {
      received = decodeFinished(msg.body);
    } catch (err) {
      throw DtlsError.fatal("decode_error", (err as DecodeError).message, err);
    }
    // The transcript already holds this Finished: verify over everything before it.
    if (!constantTimeEqual(received, ctx.verifyData("server", ctx.transcript.length - 1))) {
      throw DtlsError.fatal("decrypt_error", "server Finished does not verify");
    }
  },
  next: () => "done",
};
