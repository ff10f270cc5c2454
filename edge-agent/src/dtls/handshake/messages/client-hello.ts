/**
 * ClientHello (RFC 6347 §4.2.1, RFC 5246 §7.4.1.2):
 *
 *   struct {
 *     ProtocolVersion client_version;
 *     Random random;
 *     SessionID session_id;                       // opaque <0..32>
 *     opaque cookie<0..2^8-1>;                    // New field
 *     CipherSuite cipher_suites<2..2^16-1>;
 *     CompressionMethod compression_methods<1..2^8-1>;
 *     select (extensions_present) {
 *         case false: struct {};
 *         case true:  Extension extensions<0..2^16-1>;
 *     };
 *   } ClientHello;
 */
import { ByteReader, ByteWriter, DecodeError } from "../../codec/bytes.js";
import { RANDOM_LENGTH } from "../../constants.js";
import { decodeExtensions, encodeExtensions, type Extension } from "./extensions.js";

export interface ClientHello {
  readonly version: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cookie: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: Uint8Array;
  readonly extensions: readonly Extension[];
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = new ByteReader(body);
  const version = r.u16("client_version");
  const random = r.bytes(RANDOM_LENGTH, "random");
  const sessionId = r.vec8("session_id");
  if (sessionId.length > 32) throw new DecodeError("session_id longer than 32");
  const cookie = r.vec8("cookie");
  const suites = r.vec16("cipher_suites");
  if (suites.length < 2 || suites.length % 2 !== 0) throw new DecodeError("cipher_suites length must be even and non-zero");
  const cipherSuites: number[] = [];
  for (let i = 0; i < suites.length; i += 2) cipherSuites.push((suites[i]! << 8) | suites[i + 1]!);
  const compressionMethods = r.vec8("compression_methods");
  if (compressionMethods.length < 1) throw new DecodeError("no compression methods");
  const extensions = decodeExtensions(r);
  r.end("ClientHello");
  return { version, random, sessionId, cookie, cipherSuites, compressionMethods, extensions };
}

export function encodeClientHello(ch: ClientHello): Uint8Array {
  const w = new ByteWriter(128);
  w.u16(ch.version).bytes(ch.random).vec8(ch.sessionId).vec8(ch.cookie);
  w.prefixed(2, (x) => {
    for (const s of ch.cipherSuites) x.u16(s);
  });
  w.vec8(ch.compressionMethods);
  encodeExtensions(w, ch.extensions);
  return Uint8Array.from(w.finish());
}
