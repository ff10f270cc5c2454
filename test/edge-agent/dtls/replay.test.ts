/**
 * Captured records re-sent later: the anti-replay window drops them (RFC 6347 §4.1.2.6) and the
 * application sees each record once; tampered records are dropped and counted without an alert
 * or teardown (§4.1.2.7); a replayed final flight only makes the server repeat its own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, fixture, KEY_A, pump, TapEndpoint, text, utf8 } from "./helpers.js";

async function established() {
  const f = fixture();
  const seen: string[] = [];
  f.server.onDatagram = (d) => seen.push(text(d));
  const tap = new TapEndpoint(f.net.endpoint());
  const { client } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } }, tap);
  assert.ok(client);
  return { f, seen, tap, client };
}

test("replayed application records are dropped; the handler sees each once", async () => {
  const { f, seen, tap, client } = await established();
  client.send(f.server.local, utf8("open the valve"));
  client.send(f.server.local, utf8("close the valve"));
  await pump(f.clock, 50);
  const captured = tap.sent.slice(-2).map((s) => s.data);
  assert.deepEqual(seen, ["open the valve", "close the valve"]);

  // Re-inject both, in reverse order and twice, from the client's own address.
  for (const d of [...captured].reverse().concat(captured)) tap.inner.send(f.server.local, d);
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["open the valve", "close the valve"]);
  assert.equal(f.server.stats.replaysDropped, 4);
  assert.equal(f.server.sessionCount, 1);

  // Fresh records still flow.
  client.send(f.server.local, utf8("status"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["open the valve", "close the valve", "status"]);
});

test("a tampered record is dropped and counted: no alert, no teardown", async () => {
  const { f, seen, tap, client } = await established();
  const alertsBefore = f.server.stats.alertsSent;
  // Lose the genuine record on the way (the link decides at send time), deliver a modified copy instead.
  f.net.conditions = { loss: 1 };
  client.send(f.server.local, utf8("genuine"));
  f.net.conditions = {};
  const genuine = tap.sent.at(-1)!.data;
  const forged = Uint8Array.from(genuine);
  forged[forged.length - 3]! ^= 0x01;
  tap.inner.send(f.server.local, forged);
  await pump(f.clock, 50);
  assert.deepEqual(seen, []);
  assert.equal(f.server.stats.decryptFailures, 1);
  assert.equal(f.server.stats.alertsSent, alertsBefore);
  assert.equal(f.server.sessionCount, 1);
  // The forgery did not advance the window: the genuine record (same sequence number) is still accepted.
  tap.inner.send(f.server.local, genuine);
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["genuine"]);
});

test("an exact replay of flight 5 is dropped by the window; a real retransmission gets flight 6 again", async () => {
  const { f, seen, tap } = await established();
  const flight5 = tap.sent.at(-1)!.data; // ClientKeyExchange, ChangeCipherSpec, Finished
  const sentBefore = f.serverTap.sent.length;
  const replaysBefore = f.server.stats.replaysDropped;
  tap.inner.send(f.server.local, flight5);
  await pump(f.clock, 50);
  assert.equal(f.server.stats.replaysDropped, replaysBefore + 3, "same record sequence numbers: all three are replays");
  assert.equal(f.serverTap.sent.length, sentBefore, "a replay is not a retransmission: nothing re-sent");
  assert.equal(f.server.sessionCount, 1);
  assert.deepEqual(seen, []);
});

test("flight 6 lost: the client re-sends flight 5 (new records) and the server answers with flight 6 again", async () => {
  const f = fixture();
  let dropped = 0;
  // Drop the server's first flight 6: the datagram that starts with a ChangeCipherSpec record.
  f.serverTap.filter = (d) => {
    if (dropped === 0 && d[0] === 20) {
      dropped++;
      return false;
    }
    return true;
  };
  const { client, error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.equal(error, undefined);
  assert.ok(client);
  assert.equal(dropped, 1);
  assert.equal(client.stats.retransmits, 1, "the client's timer re-sent flight 5 once");
  assert.equal(f.server.stats.retransmits, 1, "the server repeated flight 6 for it");
  assert.equal(f.server.stats.handshakesOk, 1);
  assert.ok(f.clock.now() >= 1000 && f.clock.now() < 1100, `completed after one retransmission timeout (${f.clock.now()} ms)`);
});
