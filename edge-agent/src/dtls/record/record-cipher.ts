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
 * The nonce and AAD scratch buffers are shared by every cipher (seal/open run synchronously and
 * node copies them into the cipher context), so sealing allocates only the output and what
 * node:crypto does, and an idle session carries no scratch buffers of its own (4 per session
 * before: ~1 kB of ArrayBuffers with their backing stores).
 */
import { AeadCipher, AesCcm } from "../crypto/index.js";
import { ContentType, RECORD_HEADER_LENGTH } from "../constants.js";
import type { CipherSuite } from "../suites/cipher-suites.js";
import type { RecordHeader } from "./header.js";

const TWO_32 = 0x1_0000_0000;

const nonceScratch = Buffer.alloc(12);
const aadScratch = Buffer.alloc(13);

export class RecordCipher {
  /**
   * CCM suites hold their AesCcm directly (AeadCipher only delegates to it): one object less
   * per direction of every idle session (issue 7).
   */
  readonly #aead: AesCcm | AeadCipher;
  /**
   * The 4-byte fixed IV (client/server_write_IV) as a signed 32-bit number: always a small
   * integer to V8, where an unsigned one above 2^31 would be a boxed heap number per session.
   */
  readonly #fixedIv: number;
  /** Bytes added to the plaintext: explicit nonce + tag (the 13-byte header not included). */
  readonly expansion: number;

  // The suite is not kept: what the record path needs of it is in the fields (an idle session
  // holds two RecordCiphers, so each field is 8 bytes × 2 per session; issue 7).
  constructor(suite: CipherSuite, key: Uint8Array, fixedIv: Uint8Array) {
    if (fixedIv.length !== suite.fixedIvLength) throw new RangeError("fixed IV length does not match the suite");
    this.#aead = suite.aead === "aes-128-ccm" ? new AesCcm(key, suite.tagLength) : new AeadCipher(suite.aead, key, suite.tagLength);
    this.#fixedIv = (fixedIv[0]! << 24) | (fixedIv[1]! << 16) | (fixedIv[2]! << 8) | fixedIv[3]!;
    this.expansion = suite.explicitNonceLength + suite.tagLength;
  }

  /**
   * Builds a whole protected record (header included) for `plaintext`.
   */
  seal(type: number, version: number, epoch: number, sequence: number, plaintext: Uint8Array): Uint8Array {
    const out = newRecord(type, RECORD_HEADER_LENGTH + this.expansion + plaintext.length);
    this.sealInto(type, version, epoch, sequence, plaintext, out, 0);
    return out;
  }

  /**
   * Writes the whole protected record for `plaintext` into `out` at `at` (a flight packs its
   * records into one datagram this way, without a buffer per record); returns its length.
   */
  sealInto(type: number, version: number, epoch: number, sequence: number, plaintext: Uint8Array, out: Uint8Array, at: number): number {
    const fragmentLength = this.expansion + plaintext.length;
    out[at] = type;
    out[at + 1] = version >>> 8;
    out[at + 2] = version & 0xff;
    out[at + 3] = epoch >>> 8;
    out[at + 4] = epoch & 0xff;
    writeU48(out, at + 5, sequence);
    out[at + 11] = fragmentLength >>> 8;
    out[at + 12] = fragmentLength & 0xff;
    // nonce_explicit = epoch ‖ sequence_number: unique per key because sequence numbers never repeat in an epoch.
    // Copied byte by byte: a subarray of the small (on-heap) record would move it off the heap.
    nonceScratch.writeInt32BE(this.#fixedIv, 0);
    for (let i = 0; i < 8; i++) nonceScratch[4 + i] = out[at + 13 + i] = out[at + 3 + i]!;
    setAad(type, version, epoch, sequence, plaintext.length);
    this.#aead.sealInto(nonceScratch, aadScratch, plaintext, out, at + 21);
    return RECORD_HEADER_LENGTH + fragmentLength;
  }

  /** Decrypts a record fragment; undefined if it is too short or does not authenticate. */
  open(header: RecordHeader, fragment: Uint8Array): Uint8Array | undefined {
    if (fragment.length < this.expansion) return undefined;
    const plaintextLength = fragment.length - this.expansion;
    nonceScratch.writeInt32BE(this.#fixedIv, 0);
    for (let i = 0; i < 8; i++) nonceScratch[4 + i] = fragment[i]!;
    setAad(header.type, header.version, header.epoch, header.sequence, plaintextLength);
    return this.#aead.open(nonceScratch, aadScratch, fragment.subarray(8));
  }
}

/**
 * Application data records are sent and forgotten, so they come from node's shared slab
 * (Buffer.allocUnsafe: no malloc, and already off the V8 heap where the socket and OpenSSL need
 * them). Other records sealed one by one (alerts) may be kept by their caller: a slab slice kept
 * alive would pin its whole 8 KiB slab, so those get arrays of their own. (A flight's records are
 * sealed into its datagram with `sealInto`.)
 */
function newRecord(type: number, length: number): Uint8Array {
  if (type !== ContentType.application_data) return new Uint8Array(length);
  const slab = Buffer.allocUnsafe(length);
  return new Uint8Array(slab.buffer, slab.byteOffset, length);
}

/** additional_data into the shared scratch (a module function: a private method would add a brand field per instance). */
function setAad(type: number, version: number, epoch: number, sequence: number, plaintextLength: number): void {
  const a = aadScratch;
  a[0] = epoch >>> 8;
  a[1] = epoch & 0xff;
  writeU48(a, 2, sequence);
  a[8] = type;
  a[9] = version >>> 8;
  a[10] = version & 0xff;
  a[11] = plaintextLength >>> 8;
  a[12] = plaintextLength & 0xff;
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
