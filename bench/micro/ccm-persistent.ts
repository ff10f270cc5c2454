/**
 * A prototype for issue 7's per-record cost: AES-128-CCM (RFC 3610) built from two cipher
 * contexts created ONCE per key — an AES-128-CBC context for the CBC-MAC and an AES-128-ECB
 * context for the CTR keystream — instead of one createCipheriv per record. Only for measuring
 * the idea against AeadCipher (record.ts checks they agree byte for byte); the engine owns the
 * real record path.
 *
 * RFC 3610 §2 with L = 3 (12-byte nonce), M = 8 or 16:
 *   B_0   = flags(0x40 | ((M-2)/2) << 3 | (L-1)) ‖ nonce ‖ l(m) (3 bytes)
 *   AAD   = l(a) (2 bytes) ‖ a, zero-padded to 16;  payload zero-padded to 16
 *   T     = first M bytes of CBC-MAC(B_0 ‖ AAD ‖ payload)
 *   A_i   = (L-1) ‖ nonce ‖ i (3 bytes);  S_i = E(K, A_i)
 *   C     = payload XOR S_1 S_2 …;  U = T XOR first M bytes of S_0
 *
 * A long-lived CBC context keeps chaining: its next output is E(X ⊕ C_prev). XORing the first
 * block of each MAC input with the previous last ciphertext block (C_prev) restarts the chain
 * from IV = 0, so one update() call per record computes the CBC-MAC.
 */
import { createCipheriv, type Cipher } from "node:crypto";

const L = 3;

export class PersistentCcm {
  readonly #cbc: Cipher;
  readonly #ecb: Cipher;
  #chain = Buffer.alloc(16); // the CBC context's last output block (its IV at first)
  // Scratch for the MAC input and the counter blocks, grown on demand and reused: node copies
  // update()'s input synchronously, so a record never sees another record's bytes.
  #macIn = Buffer.alloc(16 * 8);
  #ctr = Buffer.alloc(16 * 8);

  constructor(
    key: Uint8Array,
    readonly tagLength: 8 | 16,
  ) {
    this.#cbc = createCipheriv("aes-128-cbc", key, Buffer.alloc(16)).setAutoPadding(false);
    this.#ecb = createCipheriv("aes-128-ecb", key, null).setAutoPadding(false);
  }

  #mac(nonce: Uint8Array, aad: Uint8Array, payload: Uint8Array): Buffer {
    const aadBlocks = Math.ceil((2 + aad.length) / 16);
    const pBlocks = Math.ceil(payload.length / 16);
    const size = 16 * (1 + aadBlocks + pBlocks);
    if (this.#macIn.length < size) this.#macIn = Buffer.alloc(size);
    const input = this.#macIn.subarray(0, size);
    input.fill(0);
    input[0] = 0x40 | (((this.tagLength - 2) / 2) << 3) | (L - 1);
    input.set(nonce, 1);
    input[13] = payload.length >>> 16;
    input[14] = (payload.length >>> 8) & 0xff;
    input[15] = payload.length & 0xff;
    input[16] = aad.length >>> 8;
    input[17] = aad.length & 0xff;
    input.set(aad, 18);
    input.set(payload, 16 * (1 + aadBlocks));
    for (let i = 0; i < 16; i++) input[i]! ^= this.#chain[i]!;
    const out = this.#cbc.update(input);
    this.#chain = out.subarray(out.length - 16);
    return out.subarray(out.length - 16, out.length - 16 + this.tagLength);
  }

  /** S_0 ‖ S_1 ‖ … for `length` payload bytes. */
  #keystream(nonce: Uint8Array, length: number): Buffer {
    const blocks = 1 + Math.ceil(length / 16);
    if (this.#ctr.length < 16 * blocks) this.#ctr = Buffer.alloc(16 * blocks);
    const ctr = this.#ctr.subarray(0, 16 * blocks);
    for (let b = 0; b < blocks; b++) {
      const o = 16 * b;
      ctr[o] = L - 1;
      ctr.set(nonce, o + 1);
      ctr[o + 14] = b >>> 8;
      ctr[o + 15] = b & 0xff;
    }
    return this.#ecb.update(ctr);
  }

  /** ciphertext ‖ tag, as AeadCipher.seal. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const tag = this.#mac(nonce, aad, plaintext);
    const s = this.#keystream(nonce, plaintext.length);
    const out = new Uint8Array(plaintext.length + this.tagLength);
    for (let i = 0; i < plaintext.length; i++) out[i] = plaintext[i]! ^ s[16 + i]!;
    for (let i = 0; i < this.tagLength; i++) out[plaintext.length + i] = tag[i]! ^ s[i]!;
    return out;
  }

  /** The plaintext, or undefined when the tag does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    const n = sealed.length - this.tagLength;
    if (n < 0) return undefined;
    const s = this.#keystream(nonce, n);
    const pt = new Uint8Array(n);
    for (let i = 0; i < n; i++) pt[i] = sealed[i]! ^ s[16 + i]!;
    const tag = this.#mac(nonce, aad, pt);
    let diff = 0; // constant time over the tag: OR of every byte difference
    for (let i = 0; i < this.tagLength; i++) diff |= sealed[n + i]! ^ s[i]! ^ tag[i]!;
    return diff === 0 ? pt : undefined;
  }
}
