/**
 * The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6): every handshake message sent and
 * received, in order, each as one unfragmented message with its 12-byte DTLS header. The first
 * ClientHello and the HelloVerifyRequest are not part of it (the client resets on
 * HelloVerifyRequest; a stateless server starts at the ClientHello with the cookie).
 *
 * Messages are kept (not only a running hash): CertificateVerify signs the messages before it.
 * The hashes (extended_master_secret's session hash through ClientKeyExchange, RFC 7627 §3; both
 * Finished) cover growing prefixes, so one running hash is fed each message once and copied to
 * read a digest; the last digest is kept (the session hash and the client's Finished hash the
 * same prefix on a PSK server).
 */
import { RunningSha256, sha256 } from "../crypto/index.js";
import { encodeWholeMessage } from "./header.js";

export class Transcript {
  readonly #messages: Uint8Array[] = [];
  #running: RunningSha256 | undefined;
  /** How many messages #running has been fed. */
  #hashed = 0;
  #lastDigest: { readonly count: number; readonly digest: Uint8Array } | undefined;

  get length(): number {
    return this.#messages.length;
  }

  /** Appends a message; returns it as hashed (header included), which is what a sender puts in its record. */
  add(type: number, seq: number, body: Uint8Array): Uint8Array {
    const message = encodeWholeMessage(type, seq, body);
    this.#messages.push(message);
    return message;
  }

  reset(): void {
    this.#messages.length = 0;
    this.#running = undefined;
    this.#hashed = 0;
    this.#lastDigest = undefined;
  }

  /** SHA-256 over the first `count` messages (default: all). The result is shared: read it only. */
  hash(count = this.#messages.length): Uint8Array {
    count = Math.min(count, this.#messages.length);
    if (this.#lastDigest?.count === count) return this.#lastDigest.digest;
    // An earlier prefix than the running hash has passed: hash it afresh (not on the usual path).
    if (count < this.#hashed) return sha256(...this.#messages.slice(0, count));
    const running = (this.#running ??= new RunningSha256());
    while (this.#hashed < count) running.update(this.#messages[this.#hashed++]!);
    const digest = running.digest();
    this.#lastDigest = { count, digest };
    return digest;
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
