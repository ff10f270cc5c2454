/**
 * AEAD record protection for one epoch and direction (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1,
 * RFC 6655 §3 for CCM, RFC 5288 §3 for GCM):
 *
 *   struct {
 *      opaque nonce_explicit[8];                 // we send epoch ‖ sequence_number
 *      aead-ciphered struct { opaque content[length]; };
 *   } GenericAEADCipher;
 *
 *   nonce           = client/server_write_IV[4] ‖ nonce_explicit[8]
 *   additional_data = epoch(2) ‖ sequence_number(6) ‖ type(1) ‖ version(2) ‖ plaintext length(2)
 *
 * The nonce and AAD scratch buffers are reused across records (node copies them into the
 * cipher context synchronously), so sealing allocates only the output and what node:crypto does.
 */
import { AeadCipher } from "../crypto/index.js";
import { RECORD_HEADER_LENGTH } from "../constants.js";
import type { CipherSuite } from "../suites/cipher-suites.js";
import type { RecordHeader } from "./header.js";

const TWO_32 = 0x1_0000_0000;

export class RecordCipher {
  readonly #aead: AeadCipher;
  readonly #nonce = Buffer.alloc(12);
  readonly #aad = Buffer.alloc(13);
  /** Bytes added to the plaintext: explicit nonce + tag (the 13-byte header not included). */
  readonly expansion: number;

  constructor(
    readonly suite: CipherSuite,
    key: Uint8Array,
    fixedIv: Uint8Array,
  ) {
    if (fixedIv.length !== suite.fixedIvLength) throw new RangeError("fixed IV length does not match the suite");
    this.#aead = new AeadCipher(suite.aead, key, suite.tagLength);
    this.#nonce.set(fixedIv, 0);
    this.expansion = suite.explicitNonceLength + suite.tagLength;
  }

  #setAad(type: number, version: number, epoch: number, sequence: number, plaintextLength: number): void {
    const a = this.#aad;
    a[0] = epoch >>> 8;
    a[1] = epoch & 0xff;
    writeU48(a, 2, sequence);
    a[8] = type;
    a[9] = version >>> 8;
    a[10] = version & 0xff;
    a[11] = plaintextLength >>> 8;
    a[12] = plaintextLength & 0xff;
  }

  /**
   * Builds a whole protected record (header included) for `plaintext`.
   */
  seal(type: number, version: number, epoch: number, sequence: number, plaintext: Uint8Array): Uint8Array {
    const fragmentLength = this.expansion + plaintext.length;
    const out = new Uint8Array(RECORD_HEADER_LENGTH + fragmentLength);
    out[0] = type;
    out[1] = version >>> 8;
    out[2] = version & 0xff;
    out[3] = epoch >>> 8;
    out[4] = epoch & 0xff;
    writeU48(out, 5, sequence);
    out[11] = fragmentLength >>> 8;
    out[12] = fragmentLength & 0xff;
    // nonce_explicit = epoch ‖ sequence_number: unique per key because sequence numbers never repeat in an epoch.
    out.copyWithin(13, 3, 11);
    this.#nonce.set(out.subarray(13, 21), 4);
    this.#setAad(type, version, epoch, sequence, plaintext.length);
    this.#aead.sealInto(this.#nonce, this.#aad, plaintext, out, 21);
    return out;
  }

  /** Decrypts a record fragment; undefined if it is too short or does not authenticate. */
  open(header: RecordHeader, fragment: Uint8Array): Uint8Array | undefined {
    if (fragment.length < this.expansion) return undefined;
    const plaintextLength = fragment.length - this.expansion;
    this.#nonce.set(fragment.subarray(0, 8), 4);
    this.#setAad(header.type, header.version, header.epoch, header.sequence, plaintextLength);
    return this.#aead.open(this.#nonce, this.#aad, fragment.subarray(8));
  }
}

function writeU48(out: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  const lo = v >>> 0;
  out[at] = hi >>> 8;
  out[at + 1] = hi & 0xff;
  out[at + 2] = lo >>> 24;
  out[at + 3] = (lo >>> 16) & 0xff;
  out[at + 4] = (lo >>> 8) & 0xff;
  out[at + 5] = lo & 0xff;
}
