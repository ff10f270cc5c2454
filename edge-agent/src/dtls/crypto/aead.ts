/**
 * AEAD ciphers for the record layer: AES-128-CCM (RFC 3610; tag 8 for the _CCM_8 suites of
 * RFC 6655/7251, tag 16 for _CCM) and AES-128-GCM (RFC 5288), on node:crypto (OpenSSL).
 *
 * The record path calls `seal`/`open` once per record. node:crypto cannot reuse an AEAD context
 * across nonces, and setting one up per record was the dominant per-record cost (TOOLCHAIN.md:
 * ~12 µs for encrypt+decrypt of 64 bytes), so CCM runs on contexts kept per key (ccm.ts).
 * GCM, used by the ECDHE _GCM suites only, keeps one node AEAD context per record on a
 * `KeyObject` imported once (createCipheriv with a raw key re-imports it every call).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { AesCcm } from "./ccm.js";

export type AeadAlgorithm = "aes-128-ccm" | "aes-128-gcm";

export class AeadCipher {
  /** GCM only. */
  readonly #key: KeyObject | undefined;
  /** CCM only. */
  readonly #ccm: AesCcm | undefined;

  constructor(
    readonly algorithm: AeadAlgorithm,
    key: Uint8Array,
    readonly tagLength: number,
  ) {
    if (key.length !== 16) throw new RangeError(`${algorithm} needs a 16-byte key, got ${key.length}`);
    if (algorithm === "aes-128-gcm" && tagLength !== 16) throw new RangeError("GCM records use a 16-byte tag");
    if (algorithm === "aes-128-ccm") this.#ccm = new AesCcm(key, tagLength);
    else this.#key = createSecretKey(key);
  }

  /**
   * Encrypts `plaintext` and writes ciphertext ‖ tag into `out` at `offset` (which must have
   * room for plaintext.length + tagLength bytes). Returns the number of bytes written.
   */
  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    if (this.#ccm) return this.#ccm.sealInto(nonce, aad, plaintext, out, offset);
    const tagLength = this.tagLength;
    const c = createCipheriv("aes-128-gcm", this.#key!, nonce, { authTagLength: tagLength });
    c.setAAD(aad);
    const ct = c.update(plaintext);
    const rest = c.final();
    out.set(ct, offset);
    out.set(rest, offset + ct.length);
    out.set(c.getAuthTag(), offset + ct.length + rest.length);
    return ct.length + rest.length + tagLength;
  }

  /** Encrypts into a new buffer: ciphertext ‖ tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + this.tagLength);
    this.sealInto(nonce, aad, plaintext, out, 0);
    return out;
  }

  /**
   * Decrypts ciphertext ‖ tag. Returns the plaintext, or undefined when authentication fails
   * (a bad record is an expected event on a datagram transport, not an exception).
   */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    if (this.#ccm) return this.#ccm.open(nonce, aad, sealed);
    const tagLength = this.tagLength;
    if (sealed.length < tagLength) return undefined;
    const ctLength = sealed.length - tagLength;
    const ct = sealed.subarray(0, ctLength);
    const tag = sealed.subarray(ctLength);
    try {
      const d = createDecipheriv("aes-128-gcm", this.#key!, nonce, { authTagLength: tagLength });
      d.setAuthTag(tag);
      d.setAAD(aad);
      const pt = d.update(ct);
      const rest = d.final();
      return rest.length === 0 ? pt : Buffer.concat([pt, rest]);
    } catch {
      return undefined;
    }
  }
}
