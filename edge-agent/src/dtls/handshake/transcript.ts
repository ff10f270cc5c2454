/**
 * The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6): every handshake message sent and
 * received, in order, each as one unfragmented message with its 12-byte DTLS header. The first
 * ClientHello and the HelloVerifyRequest are not part of it (the client resets on
 * HelloVerifyRequest; a stateless server starts at the ClientHello with the cookie).
 *
 * Messages are kept (not only a running hash): Finished hashes the transcript minus itself,
 * extended_master_secret hashes through ClientKeyExchange, and CertificateVerify signs the
 * messages before it.
 */
import { sha256 } from "../crypto/index.js";
import { encodeWholeMessage } from "./header.js";

export class Transcript {
  readonly #messages: Uint8Array[] = [];

  get length(): number {
    return this.#messages.length;
  }

  add(type: number, seq: number, body: Uint8Array): void {
    this.#messages.push(encodeWholeMessage(type, seq, body));
  }

  reset(): void {
    this.#messages.length = 0;
  }

  /** SHA-256 over the first `count` messages (default: all). */
  hash(count = this.#messages.length): Uint8Array {
    return sha256(...this.#messages.slice(0, count));
  }

  /** The first `count` messages, in order (signed as one stream, without concatenating). */
  messages(count = this.#messages.length): readonly Uint8Array[] {
    return this.#messages.slice(0, count);
  }

  /** The concatenated messages (for signatures over handshake_messages). */
  bytes(count = this.#messages.length): Uint8Array {
    return Buffer.concat(this.#messages.slice(0, count));
  }
}
