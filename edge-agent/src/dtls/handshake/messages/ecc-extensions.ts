/**
 * The hello extensions an ECDHE_ECDSA handshake negotiates with:
 *
 *   supported_groups (RFC 8422 §5.1.1; "elliptic_curves" in RFC 4492):
 *     enum { secp256r1 (23), x25519(29), ... (0xFFFF) } NamedCurve;
 *     struct { NamedCurve named_curve_list<2..2^16-1> } NamedCurveList;
 *
 *   ec_point_formats (RFC 8422 §5.1.2):
 *     enum { uncompressed (0), deprecated (1..2), reserved (248..255) } ECPointFormat;
 *     struct { ECPointFormat ec_point_format_list<1..2^8-1> } ECPointFormatList;
 *
 *   signature_algorithms (RFC 5246 §7.4.1.4.1):
 *     struct { HashAlgorithm hash; SignatureAlgorithm signature; } SignatureAndHashAlgorithm;
 *     SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
 *
 * The same `u16 list` shape also carries CertificateRequest.supported_signature_algorithms.
 */
import { ByteReader, ByteWriter, DecodeError } from "../../codec/bytes.js";
import { ExtensionType } from "../../constants.js";
import type { Extension } from "./extensions.js";

/** A `<2..2^16-2>` vector of u16 values (groups, signature schemes). */
export function decodeU16List(data: Uint8Array, what: string): number[] {
  const r = new ByteReader(data);
  const v = r.vec16(what);
  r.end(what);
  if (v.length < 2 || v.length % 2 !== 0) throw new DecodeError(`${what}: length must be even and non-zero`);
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 2) out.push((v[i]! << 8) | v[i + 1]!);
  return out;
}

export function encodeU16List(values: readonly number[]): Uint8Array {
  return Uint8Array.from(
    new ByteWriter(2 + 2 * values.length)
      .prefixed(2, (w) => {
        for (const v of values) w.u16(v);
      })
      .finish(),
  );
}

/** The ec_point_format_list (at least one entry). */
export function decodeEcPointFormats(data: Uint8Array): Uint8Array {
  const r = new ByteReader(data);
  const v = r.vec8("ec_point_format_list");
  r.end("ec_point_formats");
  if (v.length < 1) throw new DecodeError("empty ec_point_format_list");
  return v;
}

export function encodeEcPointFormats(formats: readonly number[]): Uint8Array {
  return Uint8Array.from(new ByteWriter(1 + formats.length).vec8(Uint8Array.from(formats)).finish());
}

export function supportedGroupsExtension(groups: readonly number[]): Extension {
  return { type: ExtensionType.supported_groups, data: encodeU16List(groups) };
}

export function signatureAlgorithmsExtension(schemes: readonly number[]): Extension {
  return { type: ExtensionType.signature_algorithms, data: encodeU16List(schemes) };
}

export function ecPointFormatsExtension(formats: readonly number[]): Extension {
  return { type: ExtensionType.ec_point_formats, data: encodeEcPointFormats(formats) };
}
