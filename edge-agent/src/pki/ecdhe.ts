/**
 * Ephemeral ECDH for TLS_ECDHE_ECDSA (RFC 8422 §5.10): secp256r1 with uncompressed points
 * (65 bytes, 0x04 ‖ X ‖ Y; RFC 8422 §5.1.2 deprecates every other format) and x25519 with 32-byte
 * u-coordinates (RFC 8422 §5.11, RFC 7748). The premaster secret is the shared X coordinate for
 * P-256 (RFC 8422 §5.10: "the x-coordinate ... leading zeros preserved") and the X25519 output
 * for x25519. node:crypto only: ~30× faster than @noble here (bench/micro/p256.ts).
 */
import { createECDH, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type ECDH, type KeyObject } from "node:crypto";
import { TlsAlert } from "./errors.js";

export type EcdheCurve = "secp256r1" | "x25519";

/** NamedCurve code points (RFC 8422 §5.1.1, IANA TLS Supported Groups). */
export const NamedCurve = { secp256r1: 23, x25519: 29 } as const;

/** ECCurveType named_curve (RFC 8422 §5.4); the only type allowed. */
export const EC_CURVE_TYPE_NAMED = 3;

/** The curve for a NamedCurve code point, or undefined when we do not support it. */
export function curveFromId(id: number): EcdheCurve | undefined {
  return id === NamedCurve.secp256r1 ? "secp256r1" : id === NamedCurve.x25519 ? "x25519" : undefined;
}

/** Public key length on the wire for each curve. */
export const PUBLIC_KEY_LENGTH: Record<EcdheCurve, number> = { secp256r1: 65, x25519: 32 };

/** One side's ephemeral key pair. Use once: a new pair for every handshake. */
export interface EcdheKeyPair {
  readonly curve: EcdheCurve;
  /** The ECPoint to send: 65-byte uncompressed point, or the 32-byte X25519 public key. */
  readonly publicKey: Uint8Array;
  /** @internal the private half, kept in the form the curve's node API wants */
  readonly private: ECDH | KeyObject;
}

export type PremasterResult =
  | { readonly ok: true; readonly premaster: Uint8Array }
  | {
      readonly ok: false;
      readonly code: "bad-length" | "bad-format" | "not-on-curve" | "all-zero";
      /** illegal_parameter (RFC 8422 §5.10/§5.11: an invalid peer point aborts the handshake) */
      readonly alert: number;
    };

// PKCS#8 prefix for a raw X25519 private key (RFC 8410 §7): a fixed DER header.
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

/** A fresh ephemeral key pair on `curve`. */
export function generateEcdheKeyPair(curve: EcdheCurve): EcdheKeyPair {
  if (curve === "secp256r1") {
    const ecdh = createECDH("prime256v1");
    const publicKey = new Uint8Array(ecdh.generateKeys());
    return { curve, publicKey, private: ecdh };
  }
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return { curve, publicKey: rawX25519Public(publicKey), private: privateKey };
}

/**
 * A key pair from a known private key (test vectors, deterministic tests): a 32-byte P-256
 * scalar or a 32-byte X25519 private key. Throws on a bad scalar: not for peer input.
 */
export function ecdheKeyPairFromPrivate(curve: EcdheCurve, privateKey: Uint8Array): EcdheKeyPair {
  if (privateKey.length !== 32) throw new RangeError(`${curve} private key must be 32 bytes`);
  if (curve === "secp256r1") {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(privateKey));
    return { curve, publicKey: new Uint8Array(ecdh.getPublicKey()), private: ecdh };
  }
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: "der", type: "pkcs8" });
  return { curve, publicKey: rawX25519Public(createPublicKey(key)), private: key };
}

// X25519 keys cross the node API as JWK (RFC 8037 §2: x = base64url of the 32 raw bytes), not
// SPKI DER: OpenSSL 3's DER encoder/decoder cost ~65 + ~75 µs per handshake, JWK ~0.6 + ~5 µs
// (docs/benchmarks.md, micro-benchmarks). Same bytes either way.
function rawX25519Public(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: "jwk" }).x!, "base64url"));
}

function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
}

function reject(code: Extract<PremasterResult, { ok: false }>["code"]): PremasterResult {
  return { ok: false, code, alert: TlsAlert.illegal_parameter };
}

/**
 * The premaster secret from our pair and the peer's public key bytes (from ServerKeyExchange or
 * ClientKeyExchange). Peer input: never throws. P-256 points must be uncompressed and on the
 * curve (node/OpenSSL checks); an all-zero X25519 result is refused (RFC 8422 §5.11, RFC 7748 §6.1).
 */
export function computePremaster(own: EcdheKeyPair, peerPublicKey: Uint8Array): PremasterResult {
  if (peerPublicKey.length !== PUBLIC_KEY_LENGTH[own.curve]) return reject("bad-length");
  if (own.curve === "secp256r1") {
    if (peerPublicKey[0] !== 0x04) return reject("bad-format");
    try {
      return { ok: true, premaster: new Uint8Array((own.private as ECDH).computeSecret(Buffer.from(peerPublicKey))) };
    } catch {
      return reject("not-on-curve");
    }
  }
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey: own.private as KeyObject, publicKey: x25519PublicKey(peerPublicKey) });
  } catch {
    return reject("all-zero"); // OpenSSL refuses to derive an all-zero X25519 output
  }
  if (secret.every((b) => b === 0)) return reject("all-zero");
  return { ok: true, premaster: new Uint8Array(secret) };
}
