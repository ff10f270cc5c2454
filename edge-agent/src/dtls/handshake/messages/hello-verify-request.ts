/**
 * HelloVerifyRequest (RFC 6347 §4.2.1):
 *
 *   struct {
 *     ProtocolVersion server_version;
 *     opaque cookie<0..2^8-1>;
 *   } HelloVerifyRequest;
 *
 * §4.2.1: a DTLS 1.2 server SHOULD send server_version DTLS 1.0 here whatever it negotiates later.
 */
import { ByteReader, ByteWriter, DecodeError } from "../../codec/bytes.js";

export interface HelloVerifyRequest {
  readonly version: number;
  readonly cookie: Uint8Array;
}

/** RFC 6347 §4.2.1: cookies are at most 255 bytes in DTLS 1.2 (the field is <0..2^8-1>). */
export const MAX_COOKIE_LENGTH = 255;

export function decodeHelloVerifyRequest(body: Uint8Array): HelloVerifyRequest {
  const r = new ByteReader(body);
  const version = r.u16("server_version");
  const cookie = r.vec8("cookie");
  r.end("HelloVerifyRequest");
  if (cookie.length === 0) throw new DecodeError("empty cookie in HelloVerifyRequest");
  return { version, cookie };
}

/** Bytes `writeHelloVerifyRequest` writes. */
export function helloVerifyRequestLength(hvr: HelloVerifyRequest): number {
  return 3 + hvr.cookie.length;
}

/** Writes the body into `w` (the stateless server builds the whole record in one buffer). */
export function writeHelloVerifyRequest(w: ByteWriter, hvr: HelloVerifyRequest): void {
  w.u16(hvr.version).vec8(hvr.cookie);
}

export function encodeHelloVerifyRequest(hvr: HelloVerifyRequest): Uint8Array {
  const w = new ByteWriter(helloVerifyRequestLength(hvr));
  writeHelloVerifyRequest(w, hvr);
  return w.finish();
}
