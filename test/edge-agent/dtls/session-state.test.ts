/**
 * What an established session keeps (issue 7: small idle sessions): no handshake timers and no
 * timer of its own — the server sweeps idle sessions with one timer for all — while a lost
 * flight 6 is still answered (RFC 6347 §4.2.4) from the little the session keeps.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, fixture, KEY_A, KEY_B, pump, TapEndpoint, utf8 } from "./helpers.js";

test("50 established sessions leave one timer armed (the server's idle sweep), none per session", async () => {
  const f = fixture({ server: { idleTimeoutMs: 60_000 } });
  const clients = [];
  for (let i = 0; i < 50; i++) {
    const { client, error } = await connect(f, { psk: { identity: i % 2 ? "dev-a" : "dev-b", key: i % 2 ? KEY_A : KEY_B } });
    assert.equal(error, undefined);
    clients.push(client!);
  }
  for (const c of clients) c.send(f.server.local, utf8("hello"));
  await pump(f.clock, 100);
  assert.equal(f.server.sessionCount, 50);
  assert.equal(f.clock.pending, 1, "handshake, retransmission and idle timers are all gone; one sweep remains");

  // The sweep still closes them once idle, and stops when no session is left.
  await pump(f.clock, 80_000, 1000);
  assert.equal(f.server.sessionCount, 0);
  assert.equal(f.server.stats.idleTimeouts, 50);
  assert.equal(f.clock.pending, 0);
});

test("the server still answers a retransmitted flight 5 after the handshake, and app data still flows", async () => {
  const f = fixture();
  let dropped = 0;
  // Lose the server's flight 6 twice: the client's second retransmission reaches an established server.
  f.serverTap.filter = (d) => {
    if (dropped < 2 && d[0] === 20) {
      dropped++;
      return false;
    }
    return true;
  };
  const { client, error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.equal(error, undefined);
  assert.equal(dropped, 2);
  assert.equal(f.server.stats.retransmits, 2, "flight 6 re-sent for each retransmitted flight 5");
  const seen: string[] = [];
  f.server.onDatagram = (d, peer) => {
    seen.push(new TextDecoder().decode(d));
    f.server.send(peer, d);
  };
  const echoed: string[] = [];
  client!.onDatagram = (d) => echoed.push(new TextDecoder().decode(d));
  client!.send(f.server.local, utf8("ping"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["ping"]);
  assert.deepEqual(echoed, ["ping"]);
});

test("once the client's first application record arrives, the server keeps no epoch 0: its flight-5 records are refused as no_epoch", async () => {
  const f = fixture();
  const tap = new TapEndpoint(f.net.endpoint());
  const { client, error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } }, tap);
  assert.equal(error, undefined);
  // Flight 5 (ClientKeyExchange and ChangeCipherSpec in epoch 0, Finished in epoch 1): the client's last handshake datagram.
  const flight5 = tap.sent.at(-1)!.data;
  const inject = async () => {
    tap.inner.send(f.server.local, flight5);
    await pump(f.clock, 20);
  };
  const { replaysDropped, recordsDropped } = f.server.stats;
  await inject(); // epoch 0 still there: all three records are replays of ones it accepted
  assert.equal(f.server.stats.replaysDropped, replaysDropped + 3);
  assert.equal(f.server.stats.recordsDropped, recordsDropped);

  const seen: string[] = [];
  f.server.onDatagram = (d) => void seen.push(new TextDecoder().decode(d));
  client!.send(f.server.local, utf8("ping"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["ping"]);
  await inject(); // epoch 0 retired: its two records have no epoch, the Finished is still a replay
  assert.equal(f.server.stats.replaysDropped, replaysDropped + 4);
  assert.equal(f.server.stats.recordsDropped, recordsDropped + 2);
  client!.send(f.server.local, utf8("pong"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["ping", "pong"], "the session is unaffected");
});

test("a late copy of the hello that made a session is recognised after the handshake state is gone", async () => {
  const f = fixture();
  const tap = new TapEndpoint(f.net.endpoint());
  const { client } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } }, tap);
  assert.ok(client);
  const hello2 = tap.sent[1]!.data; // the ClientHello with the cookie
  assert.equal(hello2[13], 1, "a ClientHello");
  const started = f.server.stats.handshakesStarted;
  const dropped = f.server.stats.recordsDropped;
  tap.inner.send(f.server.local, hello2);
  await pump(f.clock, 50);
  assert.equal(f.server.stats.handshakesStarted, started, "no new handshake for the same client random");
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.stats.recordsDropped, dropped + 1);
  assert.equal(f.server.sessionCount, 1);
});
