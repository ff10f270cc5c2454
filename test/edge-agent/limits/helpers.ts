/** Shared helpers for the limit tests: spoofed-source injection and the cookie exchange by hand. */
import assert from "node:assert/strict";
import { ANONYMOUS, type PeerAddress } from "../../../edge-agent/src/transport/types.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { decodeHelloVerifyRequest } from "../../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { clientHelloRecord, type Fixture } from "../dtls/helpers.js";

/** The i-th spoofed source: distinct IPs 10.x.y.z, distinct ports. */
export const addr = (i: number, port = 1024 + (i % 60000)): PeerAddress => ({
  address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  port,
  family: "IPv4",
});

/** Delivers a datagram to the server as if it came from `peer` (spoofed source). */
export function inject(f: Fixture, peer: PeerAddress, data: Uint8Array): void {
  f.serverTap.inner.onDatagram(data, peer, ANONYMOUS);
}

/** A 32-byte random derived from `n` (distinct per n). */
export function randomOf(n: number): Uint8Array {
  const r = new Uint8Array(32);
  new DataView(r.buffer).setUint32(0, n);
  r[31] = 1;
  return r;
}

/** Sends ClientHello 1 from `peer`, returns the cookie of the HelloVerifyRequest. */
export function cookieFor(f: Fixture, peer: PeerAddress, random: Uint8Array, cipherSuites?: number[]): Uint8Array {
  inject(f, peer, clientHelloRecord({ random, ...(cipherSuites ? { cipherSuites } : {}) }));
  const hvr = f.serverTap.sent.at(-1)!;
  assert.deepEqual(hvr.to, peer);
  return decodeHelloVerifyRequest(decodeHandshakeFragments(hvr.data.subarray(13))[0]!.data).cookie;
}

/** A reachable peer's second ClientHello (with its cookie): starts a handshake if the limits allow. */
export function helloWithCookie(f: Fixture, peer: PeerAddress, n: number): void {
  const random = randomOf(n);
  inject(f, peer, clientHelloRecord({ random, cookie: cookieFor(f, peer, random) }, 1, 1));
}
