/**
 * Anti-amplification (RFC 6347 §4.2.1, issue 8): before an address has completed the cookie
 * exchange, the server never sends it more bytes than it received — per datagram and in total —
 * whatever it sends: minimal and oversized hellos, hellos packed into one datagram, forged
 * cookies, retransmissions, other epoch-0 records, junk.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { peerKey, type PeerAddress } from "../../../edge-agent/src/transport/types.js";
import { seededRandom } from "../../../edge-agent/src/util/random.js";
import { clientHelloRecord, fixture } from "../dtls/helpers.js";
import { addr, inject, randomOf } from "./helpers.js";

test("before the cookie exchange: bytes out ≤ bytes in, per datagram and per address", () => {
  const f = fixture();
  const rnd = seededRandom(5);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const received = new Map<string, number>();
  const send = (peer: PeerAddress, data: Uint8Array) => {
    const before = f.serverTap.sent.length;
    inject(f, peer, data);
    const out = f.serverTap.sent.slice(before);
    const outBytes = out.reduce((n, d) => n + d.data.length, 0);
    assert.ok(outBytes <= data.length, `answered ${outBytes} bytes to a ${data.length}-byte datagram`);
    received.set(peerKey(peer), (received.get(peerKey(peer)) ?? 0) + data.length);
  };
  for (let i = 0; i < 300; i++) {
    const peer = addr(i);
    const minimal = clientHelloRecord({ random: randomOf(i) }); // one suite, no extensions: 67 bytes
    send(peer, minimal);
    send(peer, minimal); // a retransmission
    send(peer, clientHelloRecord({ random: randomOf(i + 1000), cipherSuites: Array.from({ length: 200 }, (_, k) => k) }));
    send(peer, clientHelloRecord({ random: randomOf(i + 2000), cookie: bytes(16) }, 1, 1)); // forged cookie
    // Ten hellos packed in one datagram: the HelloVerifyRequests share its budget.
    const packed = Array.from({ length: 10 }, (_, k) => clientHelloRecord({ random: randomOf(i * 10 + k + 5000) }, k));
    send(peer, Uint8Array.from(packed.flatMap((p) => [...p])));
    // Other epoch-0 handshake and alert records, and junk.
    send(peer, Uint8Array.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 2, 0, 16, 16, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]));
    send(peer, Uint8Array.from([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 3, 0, 2, 2, 40]));
    send(peer, bytes(1 + Math.floor(rnd() * 200)));
  }
  const sentTo = new Map<string, number>();
  for (const s of f.serverTap.sent) sentTo.set(peerKey(s.to), (sentTo.get(peerKey(s.to)) ?? 0) + s.data.length);
  for (const [k, n] of sentTo) assert.ok(n <= received.get(k)!, `${k}: ${n} out > ${received.get(k)} in`);
  assert.equal(f.server.stats.cookiesSent, 300 * 14, "the hellos were answered (statelessly)");
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.peerEntries, 0);
  // Only HelloVerifyRequests left the server: content type 22, handshake type 3.
  assert.ok(f.serverTap.sent.every((s) => s.data[0] === 22 && s.data[13] === 3));
});
