/**
 * Floods at the DTLS port (issue 8): 10,000 ClientHellos from 1,000 spoofed addresses leave no
 * per-peer state and a legitimate client still connects; a flood from reachable addresses (past
 * the cookie exchange) is held by the half-open cap (libcoap's 100) and the per-address rate
 * limit, whose address map stays within its bound.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { clientHelloRecord, connect, fixture, KEY_A, KEY_B, pump, pumpUntil, startClient } from "../dtls/helpers.js";
import { addr, helloWithCookie, inject, randomOf } from "./helpers.js";

test("10,000 ClientHellos from 1,000 spoofed addresses: state stays flat, a legitimate client connects", async () => {
  const f = fixture();
  const bounds = () => ({ sessions: f.server.sessionCount, halfOpen: f.server.halfOpenCount, peers: f.server.peerEntries, rate: f.server.rateLimitedAddresses });
  let legit: ReturnType<typeof startClient> | undefined;
  for (let n = 0; n < 10_000; n++) {
    // 1,000 addresses, each from a different source port every time.
    inject(f, addr(n % 1000, 2000 + n), clientHelloRecord({ random: randomOf(n), cipherSuites: [0xc0a8, 0x00a8] }));
    if (n === 5000) legit = startClient(f, { psk: { identity: "dev-a", key: KEY_A } });
    if (n % 1000 === 999) {
      // Only the legitimate client may hold state: nothing grows with the flood.
      const b = bounds();
      assert.ok(b.sessions <= 1 && b.halfOpen <= 1 && b.peers <= 1 && b.rate <= 1, JSON.stringify(b));
      await pump(f.clock, 10);
    }
  }
  assert.equal(f.server.stats.cookiesSent, 10_000 + (legit ? 1 : 0));
  assert.equal(f.server.stats.handshakesStarted, 1, "only the legitimate client got past the cookie");
  await pumpUntil(f.clock, () => legit!.client !== undefined || legit!.error !== undefined);
  assert.ok(legit!.client, String(legit!.error));
  assert.deepEqual(bounds(), { sessions: 1, halfOpen: 0, peers: 1, rate: 1 });
});

test("a flood past the cookie exchange: half-open cap (default 100) and the rate limiter's map stay bounded", async () => {
  const f = fixture({ server: { handshakeRate: { perSecond: 1, burst: 2, maxAddresses: 256 }, handshakeTimeoutMs: 5000 } });
  for (let n = 0; n < 3000; n++) helloWithCookie(f, addr(n % 1000), n);
  assert.equal(f.server.halfOpenCount, 100, "libcoap's default half-open cap");
  assert.ok(f.server.peerEntries <= 100);
  assert.ok(f.server.rateLimitedAddresses <= 256, "rate map bounded");
  assert.ok(f.server.stats.halfOpenRejected > 0);
  // Handshakes that go nowhere free their slots at the handshake timeout; a real client then connects.
  await pump(f.clock, 5100, 100);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.peerEntries, 0);
  assert.equal(f.server.limitStats.handshakeFailures.get("handshake_timeout"), 100);
  const c = await connect(f, { psk: { identity: "dev-b", key: KEY_B } });
  assert.ok(c.client);
});
