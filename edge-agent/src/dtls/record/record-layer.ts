/**
 * One connection's record layer (RFC 6347 §4.1): read and write state per epoch, 48-bit
 * sequence numbers per write epoch, the anti-replay window per read epoch.
 *
 * Epoch 0 is the null cipher. Epoch 1 gets the keys from the key block once the key exchange
 * completes. The old epoch stays readable and writable: a lost final flight is retransmitted
 * partly in epoch 0 (ClientKeyExchange, ChangeCipherSpec) and partly in epoch 1 (Finished).
 * There is no renegotiation, so epochs above 1 never occur in a session.
 */
import { DtlsError } from "../errors.js";
import { MAX_SEQUENCE, ProtocolVersion, RECORD_HEADER_LENGTH } from "../constants.js";
import type { RecordHeader } from "./header.js";
import type { RecordCipher } from "./record-cipher.js";
import { ReplayWindow, smallInt } from "./replay-window.js";

/**
 * One epoch's read and write state in one object: the replay window (as the base class), the
 * cipher of each direction and the next write sequence number. An idle session keeps two of
 * these instead of six objects (read state, write state and window per epoch; issue 7).
 */
class EpochState extends ReplayWindow {
  /** undefined: no read state in this epoch yet; null: the null cipher (epoch 0). */
  readCipher: RecordCipher | null | undefined = undefined;
  /** undefined: no write state in this epoch yet; null: the null cipher (epoch 0). */
  writeCipher: RecordCipher | null | undefined = undefined;
  /** The next write sequence number. */
  next = 0;
}

/** Why `open` refused a record; each is counted by the caller, none is answered (§4.1.2.7). */
export type OpenFailure = "no_epoch" | "replay" | "decrypt";

export class RecordLayer {
  // Two fields, not an array of epochs: there is no renegotiation, so no epoch above 1, and an
  // array's element store (~190 bytes after two appends) would outweigh both states of an idle
  // session (issue 7, bench/micro/idle-sessions.ts).
  /** Undefined once retired (retireEpoch0): an established server session needs it no longer. */
  #epoch0: EpochState | undefined;
  #epoch1: EpochState | undefined;

  /**
   * @param initialWriteSequence first epoch-0 sequence number. A stateless server starts at the
   *   ClientHello's record sequence number (RFC 6347 §4.2.1), so its ServerHello does not fall
   *   into the client's replay window behind the HelloVerifyRequest.
   */
  constructor(initialWriteSequence = 0) {
    const e = new EpochState();
    e.readCipher = null;
    e.writeCipher = null;
    e.next = smallInt(initialWriteSequence);
    this.#epoch0 = e;
  }

  /** The state of `epoch` (0 or 1), if it exists. */
  #state(epoch: number): EpochState | undefined {
    return epoch === 0 ? this.#epoch0 : epoch === 1 ? this.#epoch1 : undefined;
  }

  /** Epoch 1's state, made when its first key is installed. */
  #install(epoch: number): EpochState {
    if (epoch === 0) {
      if (this.#epoch0 === undefined) throw new RangeError("epoch 0 was retired");
      return this.#epoch0;
    }
    if (epoch !== 1) throw new RangeError(`epoch ${epoch}: DTLS without renegotiation has epochs 0 and 1 only`);
    return (this.#epoch1 ??= new EpochState());
  }

  /**
   * Forgets epoch 0's read and write state: from now on its records are refused ("no_epoch")
   * and none can be sealed. For a server whose peer has shown it holds epoch 1 (RFC 6347 §4.2.4:
   * our last flight, the only epoch-0 records we would still send, arrived).
   */
  retireEpoch0(): void {
    this.#epoch0 = undefined;
  }

  hasReadEpoch(epoch: number): boolean {
    return this.#state(epoch)?.readCipher !== undefined;
  }

  hasWriteEpoch(epoch: number): boolean {
    return this.#state(epoch)?.writeCipher !== undefined;
  }

  installRead(epoch: number, cipher: RecordCipher): void {
    const e = this.#install(epoch);
    e.readCipher = cipher;
    e.reset();
  }

  installWrite(epoch: number, cipher: RecordCipher): void {
    const e = this.#install(epoch);
    e.writeCipher = cipher;
    e.next = 0;
  }

  /** Bytes one record in `epoch` adds to its plaintext (header + explicit nonce + tag). */
  overhead(epoch: number): number {
    return RECORD_HEADER_LENGTH + (this.#state(epoch)?.writeCipher?.expansion ?? 0);
  }

  /** The next write sequence number of `epoch` (for tests and diagnostics). */
  nextWriteSequence(epoch: number): number | undefined {
    const e = this.#state(epoch);
    return e?.writeCipher === undefined ? undefined : e.next;
  }

  /**
   * Protects `plaintext` as one record of `type` in `epoch`. Throws `sequence_exhausted` rather
   * than wrapping the 48-bit sequence number (a wrap would reuse AEAD nonces).
   */
  seal(type: number, epoch: number, plaintext: Uint8Array, version: number = ProtocolVersion.DTLS1_2): Uint8Array {
    const state = this.#writeState(epoch);
    if (state.writeCipher) return state.writeCipher.seal(type, version, epoch, this.#take(state, epoch), plaintext);
    const out = new Uint8Array(RECORD_HEADER_LENGTH + plaintext.length);
    sealNull(type, version, epoch, this.#take(state, epoch), plaintext, out, 0);
    return out;
  }

  /**
   * `seal` into `out` at `at`, which has room for `overhead(epoch) + plaintext.length` bytes
   * (several records of a flight share one datagram, RFC 6347 §4.1.1); returns the record's length.
   */
  sealInto(type: number, epoch: number, plaintext: Uint8Array, version: number, out: Uint8Array, at: number): number {
    const state = this.#writeState(epoch);
    const sequence = this.#take(state, epoch);
    if (state.writeCipher) return state.writeCipher.sealInto(type, version, epoch, sequence, plaintext, out, at);
    return sealNull(type, version, epoch, sequence, plaintext, out, at);
  }

  #writeState(epoch: number): EpochState {
    const state = this.#state(epoch);
    if (state?.writeCipher === undefined) throw new RangeError(`no write state for epoch ${epoch}`);
    return state;
  }

  /** The next write sequence number of `state`, consumed. */
  #take(state: EpochState, epoch: number): number {
    const sequence = state.next;
    if (sequence > MAX_SEQUENCE) {
      throw new DtlsError("sequence_exhausted", `epoch ${epoch} used all 2^48 sequence numbers`);
    }
    state.next = sequence + 1;
    return sequence;
  }

  /**
   * Replay check, decryption, then window update — in that order (§4.1.2.6: the window moves
   * only for records that authenticate). Returns the plaintext or why the record was refused.
   */
  open(header: RecordHeader, fragment: Uint8Array): Uint8Array | OpenFailure {
    const state = this.#state(header.epoch);
    if (state?.readCipher === undefined) return "no_epoch";
    if (!state.check(header.sequence)) return "replay";
    let plaintext: Uint8Array | undefined = fragment;
    if (state.readCipher) plaintext = state.readCipher.open(header, fragment);
    if (plaintext === undefined) return "decrypt";
    state.accept(header.sequence);
    return plaintext;
  }
}

/** Epoch 0's null cipher (RFC 6347 §4.1): the header, then the plaintext as it is. Returns the record's length. */
function sealNull(type: number, version: number, epoch: number, sequence: number, plaintext: Uint8Array, out: Uint8Array, at: number): number {
  out[at] = type;
  out[at + 1] = version >>> 8;
  out[at + 2] = version & 0xff;
  out[at + 3] = epoch >>> 8;
  out[at + 4] = epoch & 0xff;
  const hi = Math.floor(sequence / 0x1_0000_0000);
  const lo = sequence >>> 0;
  out[at + 5] = hi >>> 8;
  out[at + 6] = hi & 0xff;
  out[at + 7] = lo >>> 24;
  out[at + 8] = (lo >>> 16) & 0xff;
  out[at + 9] = (lo >>> 8) & 0xff;
  out[at + 10] = lo & 0xff;
  out[at + 11] = plaintext.length >>> 8;
  out[at + 12] = plaintext.length & 0xff;
  out.set(plaintext, at + RECORD_HEADER_LENGTH);
  return RECORD_HEADER_LENGTH + plaintext.length;
}
