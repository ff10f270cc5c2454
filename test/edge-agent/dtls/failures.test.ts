/**
 * Handshakes that must fail, and fail the right way: wrong key (bad_record_mac, both sides told),
 * unknown identity (unknown_psk_identity), timeouts on the RFC 6347 §4.2.4 schedule, and a server
 * that keeps serving other peers meanwhile.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DtlsClient, DtlsError } from "../../../edge-agent/src/dtls/index.js";
import { RecordLayer } from "../../../edge-agent/src/dtls/record/record-layer.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { decodeHelloVerifyRequest } from "../../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { clientHelloRecord, connect, fixture, KEY_A, KEY_B, pump, startClient, TapEndpoint, text, utf8 } from "./helpers.js";

test("wrong key: bad_record_mac on both sides, while another peer completes and exchanges data", async () => {
  const f = fixture();
  const failed: [number, DtlsError][] = [];
  f.server.onHandshakeFailed = (peer, e) => failed.push([peer.port, e]);
  f.server.onDatagram = (data, peer) => f.server.send(peer, utf8(`echo ${text(data)}`));

  const bad = startClient(f, { psk: { identity: "dev-a", key: KEY_B } });
  const good = startClient(f, { psk: { identity: "dev-b", key: KEY_B } });
  await pump(f.clock, 2000);

  assert.ok(bad.error instanceof DtlsError, String(bad.error));
  assert.equal(bad.error.code, "peer_alert");
  assert.ok(bad.error.isPeerAlert("bad_record_mac"), bad.error.message);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]![1].code, "bad_record_mac");
  assert.deepEqual(failed[0]![1].alert, { level: 2, description: 20 });

  assert.ok(good.client, String(good.error));
  const got: string[] = [];
  good.client.onDatagram = (d) => got.push(text(d));
  good.client.send(f.server.local, utf8("still serving"));
  await pump(f.clock, 50);
  assert.deepEqual(got, ["echo still serving"]);
  assert.equal(f.server.sessionCount, 1);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.stats.handshakesFailed, 1);
});

test("unknown identity: unknown_psk_identity (115)", async () => {
  const f = fixture();
  const failed: DtlsError[] = [];
  f.server.onHandshakeFailed = (_p, e) => failed.push(e);
  const { error } = await connect(f, { psk: { identity: "stranger", key: KEY_A } });
  assert.ok(error instanceof DtlsError);
  assert.ok(error.isPeerAlert("unknown_psk_identity"));
  assert.equal(error.alert?.description, 115);
  assert.equal(failed[0]?.code, "unknown_psk_identity");
  assert.equal(f.server.sessionCount + f.server.halfOpenCount, 0);
});

test("client retransmits flight 1 at 0, 1, 3, 7, 15 s (doubling) and gives up at handshakeTimeoutMs", async () => {
  const f = fixture();
  const tap = new TapEndpoint(f.net.endpoint());
  const times: number[] = [];
  const send = tap.send.bind(tap);
  tap.send = (peer, data) => {
    times.push(f.clock.now());
    send(peer, data);
  };
  const nobody = { address: "127.0.0.9", port: 9, family: "IPv4" as const };
  let error: unknown;
  DtlsClient.connect(tap, nobody, { clock: f.clock, psk: { identity: "dev-a", key: KEY_A }, handshakeTimeoutMs: 20_000 }).catch((e: unknown) => (error = e));
  await pump(f.clock, 25_000, 100);
  assert.deepEqual(times, [0, 1000, 3000, 7000, 15000]);
  assert.ok(error instanceof DtlsError);
  assert.equal(error.code, "handshake_timeout");
  assert.equal(error.alert, undefined);
});

test("the retransmission timer is capped at retransmit.maxMs", async () => {
  const f = fixture();
  const tap = new TapEndpoint(f.net.endpoint());
  const times: number[] = [];
  const send = tap.send.bind(tap);
  tap.send = (peer, data) => {
    times.push(f.clock.now());
    send(peer, data);
  };
  DtlsClient.connect(tap, { address: "127.0.0.9", port: 9, family: "IPv4" }, {
    clock: f.clock,
    psk: { identity: "dev-a", key: KEY_A },
    retransmit: { initialMs: 500, maxMs: 2000 },
    handshakeTimeoutMs: 9000,
  }).catch(() => {});
  await pump(f.clock, 10_000, 100);
  assert.deepEqual(times, [0, 500, 1500, 3500, 5500, 7500]);
});

test("a half-open handshake whose client vanishes is dropped after handshakeTimeoutMs", () => {
  const f = fixture({ server: { handshakeTimeoutMs: 5000 } });
  const failed: string[] = [];
  f.server.onHandshakeFailed = (_p, e) => failed.push(e.code);
  const peer = f.net.endpoint(40100);
  const replies: Uint8Array[] = [];
  peer.onDatagram = (d) => replies.push(Uint8Array.from(d));
  const random = new Uint8Array(32).fill(3);
  peer.send(f.server.local, clientHelloRecord({ random }));
  f.clock.advance(1);
  const cookie = decodeHelloVerifyRequest(decodeHandshakeFragments(replies[0]!.subarray(13))[0]!.data).cookie;
  peer.send(f.server.local, clientHelloRecord({ random, cookie }, 1, 1));
  f.clock.advance(1);
  assert.equal(f.server.halfOpenCount, 1);
  f.clock.advance(4000);
  assert.ok(f.server.stats.retransmits >= 2, "flight 4 retransmitted while waiting");
  f.clock.advance(1100);
  assert.equal(f.server.halfOpenCount, 0);
  assert.deepEqual(failed, ["handshake_timeout"]);
});

test("record sequence numbers never wrap: sealing past 2^48 - 1 throws sequence_exhausted", () => {
  const rl = new RecordLayer(2 ** 48 - 1);
  const rec = rl.seal(22, 0, Uint8Array.of(1));
  assert.equal(rec.subarray(5, 11).every((b) => b === 0xff), true);
  assert.throws(() => rl.seal(22, 0, Uint8Array.of(1)), (e: unknown) => e instanceof DtlsError && e.code === "sequence_exhausted");
});
