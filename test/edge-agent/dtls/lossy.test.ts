/**
 * Handshake and 100 application round trips over a hostile in-memory link (pion's
 * e2e_lossy_test): 30 % loss each way, duplicates, reordering by jitter, and a 200-byte MTU
 * that forces handshake fragmentation (a long identity hint and a long identity). Seeded:
 * the same seed gives the same run, counter for counter.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ContentType, HandshakeType } from "../../../edge-agent/src/dtls/constants.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import { pskTable } from "../../../edge-agent/src/dtls/index.js";
import { connect, fixture, TapEndpoint, text, utf8 } from "./helpers.js";

const HINT = "gateway-hint-".padEnd(240, "h");
const IDENTITY = "device-identity-".padEnd(260, "i");
const KEY = utf8("lossy-link-key");

/** Handshake fragments with offset > 0 of `type` in a capture. */
function laterFragments(datagrams: { data: Uint8Array }[], type: number): number {
  let n = 0;
  for (const d of datagrams) {
    for (const r of splitRecords(d.data).records) {
      if (r.header.epoch !== 0 || r.header.type !== ContentType.handshake) continue;
      for (const f of decodeHandshakeFragments(r.fragment)) if (f.type === type && f.offset > 0) n++;
    }
  }
  return n;
}

async function run(seed: number) {
  const f = fixture({
    seed,
    link: { loss: 0.3, duplicate: 0.05, delayMs: 5, jitterMs: 60, mtu: 200 },
    server: { psk: pskTable([{ identity: IDENTITY, key: KEY }], { hint: HINT }), handshakeTimeoutMs: 600_000 },
  });
  const seenByServer = new Map<number, number>();
  f.server.onDatagram = (data, peer) => {
    const i = Number(text(data).split(" ")[1]);
    seenByServer.set(i, (seenByServer.get(i) ?? 0) + 1);
    f.server.send(peer, utf8(`pong ${i}`));
  };
  const clientTap = new TapEndpoint(f.net.endpoint());
  const { client, error } = await connect(f, { psk: { identity: IDENTITY, key: KEY }, handshakeTimeoutMs: 600_000 }, clientTap);
  assert.equal(error, undefined, String(error));
  assert.ok(client);
  const handshakeMs = f.clock.now();

  // 100 request/response round trips, each retried every 300 ms until its answer arrives (a
  // stand-in for CoAP's reliability layer: DTLS itself does not retransmit application data).
  const answered = new Set<number>();
  let next = 0;
  let timer: { cancel(): void } | undefined;
  const sendCurrent = () => {
    if (next >= 100) return;
    const i = next;
    client.send(f.server.local, utf8(`ping ${i}`));
    timer = f.clock.setTimer(300, () => {
      if (!answered.has(i)) sendCurrent();
    });
  };
  client.onDatagram = (d) => {
    const i = Number(text(d).split(" ")[1]);
    if (i !== next || answered.has(i)) return;
    answered.add(i);
    timer?.cancel();
    next++;
    sendCurrent();
  };
  sendCurrent();
  for (let t = 0; t < 3_600_000 && answered.size < 100; t += 1000) f.clock.advance(1000);
  return { f, client, clientTap, handshakeMs, answered, seenByServer };
}

test("30 % loss, duplicates, reordering, 200-byte MTU: handshake + 100 round trips, deterministic", async () => {
  const a = await run(20260601);
  assert.equal(a.answered.size, 100);
  assert.equal(a.f.server.sessionCount, 1);
  assert.equal(a.f.net.stats.tooBig, 0, "every datagram fits the 200-byte MTU");
  assert.ok(a.f.net.stats.lost > 30, `the link lost ${a.f.net.stats.lost} datagrams`);
  assert.ok(a.f.net.stats.duplicated > 0);
  // Fragmentation happened both ways and was reassembled.
  assert.ok(laterFragments(a.f.serverTap.sent, HandshakeType.server_key_exchange) >= 1, "ServerKeyExchange fragmented");
  assert.ok(laterFragments(a.clientTap.sent, HandshakeType.client_key_exchange) >= 1, "ClientKeyExchange fragmented");
  // Loss was repaired by flight retransmission, duplicates by the replay window.
  assert.ok(a.f.server.stats.retransmits + a.client.stats.retransmits > 0);
  assert.ok(a.f.server.stats.replaysDropped + a.client.stats.replaysDropped > 0);
  assert.equal(a.f.server.stats.decryptFailures + a.client.stats.decryptFailures, 0);
  // Every ping reached the application at least once; copies are only our own resends (new records).
  for (let i = 0; i < 100; i++) assert.ok((a.seenByServer.get(i) ?? 0) >= 1, `ping ${i}`);

  const b = await run(20260601);
  assert.deepEqual(b.f.net.stats, a.f.net.stats, "same seed, same link history");
  assert.deepEqual(b.f.server.stats, a.f.server.stats);
  assert.deepEqual(b.client.stats, a.client.stats);
  assert.equal(b.handshakeMs, a.handshakeMs);
});

test("other seeds complete too", async () => {
  for (const seed of [1, 2, 3]) {
    const r = await run(seed);
    assert.equal(r.answered.size, 100, `seed ${seed}`);
    assert.equal(r.f.net.stats.tooBig, 0);
  }
});
