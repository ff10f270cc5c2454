/**
 * Server flight 2: HelloVerifyRequest (RFC 6347 §4.2.1). Stateless by design — it is answered
 * by the server endpoint before any per-peer state exists, so it is a function, not a Flight
 * run by a handshaker: the record to send for one ClientHello.
 *
 * §4.2.1: server_version DTLS 1.0 in the message; the record sequence number and the
 * message_seq copy the ClientHello's, so the client's replay window and message order line up
 * with the ServerHello that follows the cookie exchange (RFC 6347 errata 5186).
 */
import { ContentType, HandshakeType, ProtocolVersion, RECORD_HEADER_LENGTH } from "../constants.js";
import { ByteWriter } from "../codec/bytes.js";
import { encodeWholeMessage } from "../handshake/header.js";
import { encodeHelloVerifyRequest } from "../handshake/messages/hello-verify-request.js";
import { encodeRecordHeader } from "../record/header.js";

export function helloVerifyRequestRecord(cookie: Uint8Array, recordSequence: number, messageSeq: number): Uint8Array {
  const body = encodeHelloVerifyRequest({ version: ProtocolVersion.DTLS1_0, cookie });
  const message = encodeWholeMessage(HandshakeType.hello_verify_request, messageSeq, body);
  const w = new ByteWriter(RECORD_HEADER_LENGTH + message.length);
  encodeRecordHeader(w, {
    type: ContentType.handshake,
    version: ProtocolVersion.DTLS1_0,
    epoch: 0,
    sequence: recordSequence,
    length: message.length,
  });
  w.bytes(message);
  return Uint8Array.from(w.finish());
}
