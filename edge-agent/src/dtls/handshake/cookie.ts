/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): the server keeps no per-client state
 * until a ClientHello returns a cookie it made.
 *
 *   cookie = HMAC-SHA256(secret, client address ‖ port ‖ client_version ‖ random ‖ session_id
 *                                ‖ cipher_suites ‖ compression_methods)[0..15]
 *
 * §4.2.1 requires the second ClientHello to repeat the first one's parameters, so the cookie
 * binds them (a cookie cannot be moved to another address or another hello). Extensions are
 * left out: some clients legitimately change them (padding). The secret rotates every
 * `rotateMs` (lazily, on use — no timer) and the previous secret is still accepted, so a
 * cookie stays valid for between one and two rotation periods.
 */
import { ByteWriter } from "../codec/bytes.js";
import { constantTimeEqual, HmacSha256Key, randomBytes } from "../crypto/index.js";
import type { Clock } from "../../util/clock.js";
import type { PeerAddress } from "../../transport/types.js";
import type { ClientHello } from "./messages/client-hello.js";

export const COOKIE_LENGTH = 16;

export class CookieJar {
  #current: HmacSha256Key;
  #previous: HmacSha256Key | undefined;
  #rotatedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly rotateMs: number,
    private readonly random: (n: number) => Uint8Array = randomBytes,
  ) {
    this.#current = new HmacSha256Key(this.random(32));
    this.#rotatedAt = clock.now();
  }

  #rotate(): void {
    const now = this.clock.now();
    if (now - this.#rotatedAt < this.rotateMs) return;
    // More than two periods idle: the previous secret is stale too.
    this.#previous = now - this.#rotatedAt < 2 * this.rotateMs ? this.#current : undefined;
    this.#current = new HmacSha256Key(this.random(32));
    this.#rotatedAt = now;
  }

  /** Makes the cookie for this client and hello. */
  make(peer: PeerAddress, hello: ClientHello): Uint8Array {
    this.#rotate();
    return this.#current.truncatedMacInto(new Uint8Array(COOKIE_LENGTH), input(peer, hello));
  }

  /** True if `hello.cookie` was made by us (current or previous secret) for this client and hello. */
  verify(peer: PeerAddress, hello: ClientHello): boolean {
    if (hello.cookie.length !== COOKIE_LENGTH) return false;
    this.#rotate();
    const data = input(peer, hello);
    const expected = expectedScratch;
    if (constantTimeEqual(this.#current.truncatedMacInto(expected, data), hello.cookie)) return true;
    return this.#previous !== undefined && constantTimeEqual(this.#previous.truncatedMacInto(expected, data), hello.cookie);
  }
}

/**
 * The MAC input is laid out in one scratch buffer reused for every hello (make and verify run
 * to completion synchronously): no allocation per ClientHello. A hello with more suites than
 * fit makes the writer grow into a buffer of its own for that call.
 */
const inputScratch = new Uint8Array(512);
const expectedScratch = new Uint8Array(COOKIE_LENGTH);

/** The MAC input (a view of the scratch, valid until the next call). */
function input(peer: PeerAddress, hello: ClientHello): Uint8Array {
  const w = new ByteWriter(inputScratch);
  // The address as ASCII (an IPv4 or IPv6 literal), length-prefixed.
  const address = peer.address;
  w.u8(address.length);
  for (let i = 0; i < address.length; i++) w.u8(address.charCodeAt(i));
  w.u16(peer.port);
  w.u16(hello.version).bytes(hello.random).vec8(hello.sessionId);
  w.u16(hello.cipherSuites.length);
  for (const s of hello.cipherSuites) w.u16(s);
  w.vec8(hello.compressionMethods);
  return w.finish();
}
