/**
 * ServerHello (RFC 5246 §7.4.1.3):
 *
 *   struct {
 *       ProtocolVersion server_version;
 *       Random random;
 *       SessionID session_id;
 *       CipherSuite cipher_suite;
 *       CompressionMethod compression_method;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ServerHello;
 */
import { ByteReader, ByteWriter, DecodeError } from "../../codec/bytes.js";
import { RANDOM_LENGTH } from "../../constants.js";
import { decodeExtensions, encodeExtensions, extensionsLength, type Extension } from "./extensions.js";

export interface ServerHello {
  readonly version: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: readonly Extension[];
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = new ByteReader(body);
  const version = r.u16("server_version");
  const random = r.bytes(RANDOM_LENGTH, "random");
  const sessionId = r.vec8("session_id");
  if (sessionId.length > 32) throw new DecodeError("session_id longer than 32");
  const cipherSuite = r.u16("cipher_suite");
  const compressionMethod = r.u8("compression_method");
  const extensions = decodeExtensions(r);
  r.end("ServerHello");
  return { version, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export function encodeServerHello(sh: ServerHello): Uint8Array {
  // Sized exactly: finish() then returns the writer's own array (no view, no copy).
  const w = new ByteWriter(2 + sh.random.length + 1 + sh.sessionId.length + 2 + 1 + extensionsLength(sh.extensions));
  w.u16(sh.version).bytes(sh.random).vec8(sh.sessionId).u16(sh.cipherSuite).u8(sh.compressionMethod);
  encodeExtensions(w, sh.extensions);
  return w.finish();
}
