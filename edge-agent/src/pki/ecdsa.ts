/**
 * ECDSA for TLS_ECDHE_ECDSA (RFC 8422 §5.4, §5.8; RFC 5246 §4.7, §7.4.3, §7.4.8):
 * ecdsa_secp256r1_sha256 (SignatureAndHashAlgorithm 0x0403) over cached KeyObjects, signatures
 * DER-encoded (ECDSA-Sig-Value, RFC 8422 §5.4) as TLS carries them; the ServerKeyExchange
 * signed params, CertificateVerify and the ClientKeyExchange ECPoint. The engine owns the
 * handshake headers and transcript; these functions handle the message bodies.
 *
 *   struct { ECCurveType curve_type; NamedCurve namedcurve; } ECParameters;  // 3, 23 | 29
 *   struct { opaque point <1..2^8-1>; } ECPoint;
 *   struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;
 *   struct { ServerECDHParams params; digitally-signed struct {
 *       opaque client_random[32]; opaque server_random[32]; ServerECDHParams params;
 *   } signed_params; } ServerKeyExchange;                                       // RFC 8422 §5.4
 *   struct { SignatureAndHashAlgorithm algorithm; opaque signature<0..2^16-1>; } // RFC 5246 §4.7
 *   struct { ECPoint ecdh_Yc; } ClientECDiffieHellmanPublic;                     // RFC 8422 §5.7
 *   struct { digitally-signed struct { opaque handshake_messages[...]; } } CertificateVerify;
 */
import { createSign, createVerify, sign, verify, type KeyObject } from "node:crypto";
import { EC_CURVE_TYPE_NAMED, NamedCurve, PUBLIC_KEY_LENGTH, curveFromId, type EcdheCurve } from "./ecdhe.js";
import { TlsAlert } from "./errors.js";

/** SignatureAndHashAlgorithm ecdsa_secp256r1_sha256: hash sha256 (4), signature ecdsa (3). */
export const ECDSA_SECP256R1_SHA256 = 0x0403;

/** Bytes to sign: one buffer, or several fed in order (a transcript kept as messages). */
export type SignedData = Uint8Array | readonly Uint8Array[];

/** ECDSA-P256-SHA256 signature of `data` with our private key, DER-encoded. */
export function ecdsaSign(privateKey: KeyObject, data: SignedData): Uint8Array {
  if (data instanceof Uint8Array) return new Uint8Array(sign("sha256", data, privateKey));
  const s = createSign("sha256");
  for (const part of data) s.update(part);
  return new Uint8Array(s.sign(privateKey));
}

/** Verifies a DER ECDSA-P256-SHA256 signature. Peer input: malformed signatures give false. */
export function ecdsaVerify(publicKey: KeyObject, data: SignedData, derSignature: Uint8Array): boolean {
  try {
    if (data instanceof Uint8Array) return verify("sha256", data, publicKey, derSignature);
    const v = createVerify("sha256");
    for (const part of data) v.update(part);
    return v.verify(publicKey, derSignature);
  } catch {
    return false;
  }
}

export type DecodeFailure = {
  readonly ok: false;
  readonly code: "truncated" | "trailing-bytes" | "bad-curve-type" | "unsupported-curve" | "bad-point" | "unsupported-signature-scheme";
  /** decode_error for framing faults, illegal_parameter for values we did not offer */
  readonly alert: number;
};

function decodeFail(code: DecodeFailure["code"]): DecodeFailure {
  const framing = code === "truncated" || code === "trailing-bytes";
  return { ok: false, code, alert: framing ? TlsAlert.decode_error : TlsAlert.illegal_parameter };
}

/** DigitallySigned with ecdsa_secp256r1_sha256: 0x04 0x03 ‖ u16 length ‖ DER signature. */
export function encodeDigitallySigned(derSignature: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + derSignature.length);
  out[0] = ECDSA_SECP256R1_SHA256 >> 8;
  out[1] = ECDSA_SECP256R1_SHA256 & 0xff;
  out[2] = derSignature.length >> 8;
  out[3] = derSignature.length & 0xff;
  out.set(derSignature, 4);
  return out;
}

/** Reads a DigitallySigned that must fill `bytes` exactly; only 0x0403 is accepted. */
export function decodeDigitallySigned(
  bytes: Uint8Array,
): { readonly ok: true; readonly scheme: number; readonly signature: Uint8Array } | DecodeFailure {
  if (bytes.length < 4) return decodeFail("truncated");
  const scheme = ((bytes[0] as number) << 8) | (bytes[1] as number);
  const len = ((bytes[2] as number) << 8) | (bytes[3] as number);
  if (4 + len > bytes.length) return decodeFail("truncated");
  if (4 + len < bytes.length) return decodeFail("trailing-bytes");
  if (scheme !== ECDSA_SECP256R1_SHA256) return decodeFail("unsupported-signature-scheme");
  return { ok: true, scheme, signature: bytes.slice(4) };
}

/** ServerECDHParams: 3 ‖ u16 curve ‖ u8 length ‖ point. */
export function encodeServerEcdhParams(curve: EcdheCurve, publicKey: Uint8Array): Uint8Array {
  const id = NamedCurve[curve];
  const out = new Uint8Array(4 + publicKey.length);
  out[0] = EC_CURVE_TYPE_NAMED;
  out[1] = id >> 8;
  out[2] = id & 0xff;
  out[3] = publicKey.length;
  out.set(publicKey, 4);
  return out;
}

export interface ServerKeyExchangeInput {
  /** Our certificate's private key (P-256). */
  readonly key: KeyObject;
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
  readonly curve: EcdheCurve;
  /** Our ephemeral public key (EcdheKeyPair.publicKey). */
  readonly publicKey: Uint8Array;
}

/** The whole ServerKeyExchange body: params ‖ DigitallySigned(client_random ‖ server_random ‖ params). */
export function signServerKeyExchange(input: ServerKeyExchangeInput): Uint8Array {
  const params = encodeServerEcdhParams(input.curve, input.publicKey);
  const sig = ecdsaSign(input.key, [input.clientRandom, input.serverRandom, params]);
  const signed = encodeDigitallySigned(sig);
  const out = new Uint8Array(params.length + signed.length);
  out.set(params, 0);
  out.set(signed, params.length);
  return out;
}

export interface ParsedServerKeyExchange {
  readonly ok: true;
  readonly curve: EcdheCurve;
  /** The server's ephemeral public key (ECPoint contents). */
  readonly publicKey: Uint8Array;
  /** The ServerECDHParams bytes as received (what the signature covers). */
  readonly params: Uint8Array;
  readonly scheme: number;
  readonly signature: Uint8Array;
}

/**
 * Parses a ServerKeyExchange body of an ECDHE_ECDSA suite. Peer input: never throws. Only
 * named curves we support, points of their exact length (uncompressed for P-256).
 */
export function parseServerKeyExchange(body: Uint8Array): ParsedServerKeyExchange | DecodeFailure {
  if (body.length < 4) return decodeFail("truncated");
  if (body[0] !== EC_CURVE_TYPE_NAMED) return decodeFail("bad-curve-type");
  const curve = curveFromId(((body[1] as number) << 8) | (body[2] as number));
  if (!curve) return decodeFail("unsupported-curve");
  const pointLen = body[3] as number;
  if (4 + pointLen > body.length) return decodeFail("truncated");
  const publicKey = body.slice(4, 4 + pointLen);
  if (!validPointForm(curve, publicKey)) return decodeFail("bad-point");
  const signed = decodeDigitallySigned(body.subarray(4 + pointLen));
  if (!signed.ok) return signed;
  return { ok: true, curve, publicKey, params: body.slice(0, 4 + pointLen), scheme: signed.scheme, signature: signed.signature };
}

/** Checks the server's signature over client_random ‖ server_random ‖ params with its certificate key. */
export function verifyServerKeyExchange(
  ske: ParsedServerKeyExchange,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  serverPublicKey: KeyObject,
): boolean {
  return ecdsaVerify(serverPublicKey, [clientRandom, serverRandom, ske.params], ske.signature);
}

/** Alert to send when verifyServerKeyExchange / verifyCertificateVerify fail (RFC 5246 §7.2.2). */
export const BAD_SIGNATURE_ALERT = TlsAlert.decrypt_error;

/** ClientECDiffieHellmanPublic body: u8 length ‖ point. */
export function encodeClientEcdhPublic(publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + publicKey.length);
  out[0] = publicKey.length;
  out.set(publicKey, 1);
  return out;
}

/** Parses ClientECDiffieHellmanPublic for the curve we chose. Peer input: never throws. */
export function parseClientEcdhPublic(
  body: Uint8Array,
  curve: EcdheCurve,
): { readonly ok: true; readonly publicKey: Uint8Array } | DecodeFailure {
  if (body.length < 1) return decodeFail("truncated");
  const len = body[0] as number;
  if (1 + len > body.length) return decodeFail("truncated");
  if (1 + len < body.length) return decodeFail("trailing-bytes");
  const publicKey = body.slice(1);
  if (!validPointForm(curve, publicKey)) return decodeFail("bad-point");
  return { ok: true, publicKey };
}

/** CertificateVerify body: DigitallySigned over all handshake messages so far (RFC 5246 §7.4.8). */
export function signCertificateVerify(privateKey: KeyObject, handshakeMessages: SignedData): Uint8Array {
  return encodeDigitallySigned(ecdsaSign(privateKey, handshakeMessages));
}

/** Verifies a CertificateVerify body against the transcript and the peer's certificate key. */
export function verifyCertificateVerify(
  body: Uint8Array,
  handshakeMessages: SignedData,
  peerPublicKey: KeyObject,
): { readonly ok: true } | DecodeFailure | { readonly ok: false; readonly code: "bad-signature"; readonly alert: number } {
  const signed = decodeDigitallySigned(body);
  if (!signed.ok) return signed;
  if (!ecdsaVerify(peerPublicKey, handshakeMessages, signed.signature)) {
    return { ok: false, code: "bad-signature", alert: BAD_SIGNATURE_ALERT };
  }
  return { ok: true };
}

function validPointForm(curve: EcdheCurve, point: Uint8Array): boolean {
  // RFC 8422 §5.1.2: uncompressed is the only point format; on-curve is checked at derivation.
  return point.length === PUBLIC_KEY_LENGTH[curve] && (curve !== "secp256r1" || point[0] === 0x04);
}
