/**
 * The body of the TLS Certificate handshake message (RFC 5246 §7.4.2), which carries our chain
 * and the peer's: a u24-length list of u24-length DER certificates, sender's leaf first.
 *
 *   opaque ASN.1Cert<1..2^24-1>;
 *   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 */
import { TlsAlert } from "./errors.js";

/** Encodes a certificate_list (an empty list is allowed: a client without a certificate, §7.4.6). */
export function encodeCertificateList(chainDer: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chainDer) total += 3 + c.length;
  const out = new Uint8Array(3 + total);
  putU24(out, 0, total);
  let pos = 3;
  for (const c of chainDer) {
    putU24(out, pos, c.length);
    out.set(c, pos + 3);
    pos += 3 + c.length;
  }
  return out;
}

/**
 * Decodes a Certificate body into copies of the DER certificates. Peer input: never throws;
 * framing faults (lengths that do not add up, an empty ASN.1Cert) give decode_error.
 */
export function decodeCertificateList(
  body: Uint8Array,
): { readonly ok: true; readonly chainDer: Uint8Array[] } | { readonly ok: false; readonly code: "bad-length"; readonly alert: number } {
  const bad = { ok: false, code: "bad-length", alert: TlsAlert.decode_error } as const;
  if (body.length < 3 || getU24(body, 0) !== body.length - 3) return bad;
  const chainDer: Uint8Array[] = [];
  let pos = 3;
  while (pos < body.length) {
    if (pos + 3 > body.length) return bad;
    const len = getU24(body, pos);
    if (len === 0 || pos + 3 + len > body.length) return bad;
    chainDer.push(body.slice(pos + 3, pos + 3 + len));
    pos += 3 + len;
  }
  return { ok: true, chainDer };
}

function putU24(out: Uint8Array, pos: number, v: number): void {
  out[pos] = (v >>> 16) & 0xff;
  out[pos + 1] = (v >>> 8) & 0xff;
  out[pos + 2] = v & 0xff;
}

function getU24(b: Uint8Array, pos: number): number {
  return ((b[pos] as number) << 16) | ((b[pos + 1] as number) << 8) | (b[pos + 2] as number);
}
