/**
 * The handshake timeout (issue 8): a handshake that stalls after the cookie exchange frees its
 * half-open slot at handshakeTimeoutMs, counted by reason; a peer that stops mid-handshake
 * (after ServerHelloDone) likewise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fixture, KEY_A, pump, startClient, TapEndpoint } from "../dtls/helpers.js";
import { addr, helloWithCookie } from "./helpers.js";

test("a stalled handshake ends at handshakeTimeoutMs and frees its slot", async () => {
  const f = fixture({ server: { handshakeTimeoutMs: 4000 } });
  helloWithCookie(f, addr(1), 1);
  assert.equal(f.server.halfOpenCount, 1);
  f.clock.advance(3999);
  assert.equal(f.server.halfOpenCount, 1);
  f.clock.advance(2);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.peerEntries, 0);
  assert.equal(f.server.limitStats.handshakeFailures.get("handshake_timeout"), 1);
});

test("a client that goes silent after the server's flight times out on the server", async () => {
  const f = fixture({ server: { handshakeTimeoutMs: 4000 } });
  const lower = new TapEndpoint(f.net.endpoint());
  // Let ClientHello 1 and 2 through, then the client's second flight is lost.
  let hellos = 0;
  lower.filter = (d) => d[0] === 22 && d[13] === 1 && ++hellos <= 2;
  startClient(f, { psk: { identity: "dev-a", key: KEY_A }, handshakeTimeoutMs: 60_000 }, lower);
  await pump(f.clock, 100);
  assert.equal(f.server.halfOpenCount, 1);
  await pump(f.clock, 4000, 100);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.sessionCount, 0);
  assert.equal(f.server.limitStats.handshakeFailures.get("handshake_timeout"), 1);
});
