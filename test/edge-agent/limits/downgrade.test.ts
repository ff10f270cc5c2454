/**
 * Downgrade and renegotiation (issue 8): a ClientHello offering only suites we do not enable
 * fails with a fatal handshake_failure alert and no ServerHello — no fallback; a ClientHello
 * inside an established session (renegotiation) is refused with no_renegotiation and the session
 * goes on unchanged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CipherSuiteId, DtlsError } from "../../../edge-agent/src/dtls/index.js";
import { RecordLayer } from "../../../edge-agent/src/dtls/record/record-layer.js";
import { clientHelloRecord, connect, fixture, KEY_A, pump, text, utf8 } from "../dtls/helpers.js";
import { addr, cookieFor, inject, randomOf } from "./helpers.js";

test("only suites we do not enable (NULL, CBC, GCM when CCM_8 only): handshake_failure, no ServerHello", () => {
  const f = fixture({ server: { cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] } });
  const offers = [
    [0x002c, 0x00ff], // TLS_PSK_WITH_NULL_SHA + SCSV
    [0x008c, 0x00ae], // PSK AES-128-CBC-SHA / -SHA256
    [CipherSuiteId.TLS_PSK_WITH_AES_128_GCM_SHA256], // implemented, but not enabled here
  ];
  offers.forEach((cipherSuites, i) => {
    const peer = addr(i);
    const random = randomOf(i);
    const cookie = cookieFor(f, peer, random, cipherSuites);
    const before = f.serverTap.sent.length;
    inject(f, peer, clientHelloRecord({ random, cookie, cipherSuites }, 1, 1));
    const out = f.serverTap.sent.slice(before);
    assert.equal(out.length, 1, "one answer");
    // Alert record, epoch 0: level fatal (2), handshake_failure (40).
    assert.deepEqual([...out[0]!.data.subarray(0, 1), ...out[0]!.data.subarray(13)], [21, 2, 40]);
  });
  assert.ok(f.serverTap.sent.every((s) => !(s.data[0] === 22 && s.data[13] === 2)), "no ServerHello ever");
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.sessionCount, 0);
  assert.equal(f.server.limitStats.handshakeFailures.get("handshake_failure"), 3);
});

test("a real client offering only a disabled suite gets handshake_failure, not a weaker session", async () => {
  const f = fixture({ server: { cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] } });
  const r = await connect(f, { psk: { identity: "dev-a", key: KEY_A }, cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_GCM_SHA256] });
  assert.ok(r.error instanceof DtlsError && r.error.isPeerAlert("handshake_failure"), String(r.error));
  assert.equal(f.server.sessionCount, 0);
});

test("renegotiation refused: a ClientHello in epoch 1 draws no_renegotiation, the session continues", async () => {
  const f = fixture();
  const seen: string[] = [];
  f.server.onDatagram = (d) => seen.push(text(d));
  const { client } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.ok(client);
  const info = f.server.sessions()[0]!;
  // Seal the next "application data" as a handshake record: a protected ClientHello (epoch 1).
  const seal = RecordLayer.prototype.seal;
  RecordLayer.prototype.seal = function (this: RecordLayer, _type: number, epoch: number, plaintext: Uint8Array, version?: number) {
    return seal.call(this, 22, epoch, plaintext, version);
  };
  try {
    client.send(f.server.local, clientHelloRecord({ random: randomOf(99) }).subarray(13));
  } finally {
    RecordLayer.prototype.seal = seal;
  }
  const alertsBefore = f.server.stats.alertsSent;
  await pump(f.clock, 50);
  assert.equal(f.server.stats.alertsSent, alertsBefore + 1, "no_renegotiation (a warning) sent");
  assert.equal(f.server.stats.handshakesStarted, 1, "no second handshake");
  assert.equal(f.server.sessionCount, 1);
  assert.equal(f.server.sessions()[0]!.establishedAt, info.establishedAt, "the same session");
  assert.ok(client.connected);
  client.send(f.server.local, utf8("after"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["after"]);
});
