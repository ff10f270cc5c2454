/**
 * Server flight 2: HelloVerifyRequest (RFC 6347 §4.2.1). Stateless by design — it is answered
 * by the server endpoint before any per-peer state exists, so it is a function, not a Flight
 * run by a handshaker: the record to send for one ClientHello.
 *
 * §4.2.1: server_version DTLS 1.0 in the message; the record sequence number and the
 * message_seq copy the ClientHello's, so the client's replay window and message order line up
 * with the ServerHello that follows the cookie exchange (RFC 6347 errata 5186).
 */
import { ContentType, HANDSHAKE_HEADER_LENGTH, HandshakeType, ProtocolVersion, RECORD_HEADER_LENGTH } from "../constants.js";
import { ByteWriter } from "../codec/bytes.js";
import { writeHandshakeHeader } from "../handshake/header.js";
import { helloVerifyRequestLength, writeHelloVerifyRequest } from "../handshake/messages/hello-verify-request.js";
import { encodeRecordHeader } from "../record/header.js";

/**
 * The whole record, laid out in one exactly sized buffer (record header, handshake header,
 * body): it is sent once and forgotten, and a cookie exchange should cost the server as little
 * as possible (it is answered to any address that sends a ClientHello).
 */
export function helloVerifyRequestRecord(cookie: Uint8Array, recordSequence: number, messageSeq: number): Uint8Array {
  const hvr = { version: ProtocolVersion.DTLS1_0, cookie };
  const bodyLength = helloVerifyRequestLength(hvr);
  const w = new ByteWriter(RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH + bodyLength);
  encodeRecordHeader(w, {
    type: ContentType.handshake,
    version: ProtocolVersion.DTLS1_0,
    epoch: 0,
    sequence: recordSequence,
    length: HANDSHAKE_HEADER_LENGTH + bodyLength,
  });
  // Unfragmented: fragment_offset 0, fragment_length = length.
  writeHandshakeHeader(w, HandshakeType.hello_verify_request, bodyLength, messageSeq, 0, bodyLength);
  writeHelloVerifyRequest(w, hvr);
  return w.finish();
}
