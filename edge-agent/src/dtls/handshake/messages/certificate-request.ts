/**
 * CertificateRequest (RFC 5246 §7.4.4, RFC 8422 §5.5):
 *
 *   enum { rsa_sign(1), dss_sign(2), ..., ecdsa_sign(64), (255) } ClientCertificateType;
 *   opaque DistinguishedName<1..2^16-1>;
 *   struct {
 *       ClientCertificateType certificate_types<1..2^8-1>;
 *       SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;
 *       DistinguishedName certificate_authorities<0..2^16-1>;
 *   } CertificateRequest;
 *
 * certificate_authorities holds DER-encoded X.501 Names of acceptable CAs (empty: any).
 */
import { ByteReader, ByteWriter, DecodeError } from "../../codec/bytes.js";

export interface CertificateRequest {
  readonly certificateTypes: Uint8Array;
  readonly signatureAlgorithms: readonly number[];
  /** DER subject Names (views into the message body). */
  readonly certificateAuthorities: readonly Uint8Array[];
}

export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  const r = new ByteReader(body);
  const certificateTypes = r.vec8("certificate_types");
  if (certificateTypes.length < 1) throw new DecodeError("empty certificate_types");
  const algs = r.vec16("supported_signature_algorithms");
  if (algs.length % 2 !== 0) throw new DecodeError("supported_signature_algorithms length must be even");
  const signatureAlgorithms: number[] = [];
  for (let i = 0; i < algs.length; i += 2) signatureAlgorithms.push((algs[i]! << 8) | algs[i + 1]!);
  const cas = r.sub(r.u16("certificate_authorities length"), "certificate_authorities");
  r.end("CertificateRequest");
  const certificateAuthorities: Uint8Array[] = [];
  while (cas.remaining > 0) {
    const name = cas.vec16("DistinguishedName");
    if (name.length < 1) throw new DecodeError("empty DistinguishedName");
    certificateAuthorities.push(name);
  }
  return { certificateTypes, signatureAlgorithms, certificateAuthorities };
}

export function encodeCertificateRequest(cr: CertificateRequest): Uint8Array {
  const w = new ByteWriter(64);
  w.vec8(cr.certificateTypes);
  w.prefixed(2, (x) => {
    for (const a of cr.signatureAlgorithms) x.u16(a);
  });
  w.prefixed(2, (x) => {
    for (const name of cr.certificateAuthorities) x.vec16(name);
  });
  return Uint8Array.from(w.finish());
}
