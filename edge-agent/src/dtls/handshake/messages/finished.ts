/**
 * Finished (RFC 5246 §7.4.9):
 *
 *   struct {
 *       opaque verify_data[verify_data_length];   // 12 for every suite we implement
 *   } Finished;
 *
 * ServerHelloDone (§7.4.5) is `struct { } ServerHelloDone;` — an empty body, checked here too.
 */
import { DecodeError } from "../../codec/bytes.js";
import { VERIFY_DATA_LENGTH } from "../../crypto/index.js";

export function decodeFinished(body: Uint8Array): Uint8Array {
  if (body.length !== VERIFY_DATA_LENGTH) throw new DecodeError(`Finished is ${body.length} bytes, expected ${VERIFY_DATA_LENGTH}`);
  return body;
}

export function decodeServerHelloDone(body: Uint8Array): void {
  if (body.length !== 0) throw new DecodeError("ServerHelloDone must be empty");
}
