/**
 * Handshakes between our client and our server over an in-memory link: every suite, server
 * preference, SNI to the PSK lookup, the identity-hint callback, record overhead, close_notify.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CipherSuiteId, DtlsError, pskTable } from "../../../edge-agent/src/dtls/index.js";
import { ContentType, HandshakeType } from "../../../edge-agent/src/dtls/constants.js";
import { splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import { connect, fixture, KEY_A, KEY_B, pump, text, utf8 } from "./helpers.js";

for (const [name, id, overhead] of [
  ["TLS_PSK_WITH_AES_128_CCM_8", CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8, 29],
  ["TLS_PSK_WITH_AES_128_CCM", CipherSuiteId.TLS_PSK_WITH_AES_128_CCM, 37],
  ["TLS_PSK_WITH_AES_128_GCM_SHA256", CipherSuiteId.TLS_PSK_WITH_AES_128_GCM_SHA256, 37],
] as const) {
  test(`${name}: handshake, data both ways, session info, record overhead`, async () => {
    const f = fixture();
    const established: string[] = [];
    f.server.onSessionEstablished = (_p, info) => established.push(info.cipherSuite.name);
    const serverGot: string[] = [];
    f.server.onDatagram = (data, peer, identity) => {
      serverGot.push(`${identity.kind}:${identity.identity}:${text(data)}`);
      f.server.send(peer, utf8(`echo ${text(data)}`));
    };
    const { client, error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A }, cipherSuites: [id] });
    assert.equal(error, undefined);
    assert.ok(client);
    const clientGot: string[] = [];
    client.onDatagram = (d) => clientGot.push(text(d));
    client.send(f.server.local, utf8("ping"));
    await pump(f.clock, 50);
    assert.deepEqual(serverGot, ["psk:dev-a:ping"]);
    assert.deepEqual(clientGot, ["echo ping"]);
    assert.deepEqual(established, [name]);

    const info = client.sessionInfo()!;
    assert.equal(info.cipherSuite.id, id);
    assert.equal(info.extendedMasterSecret, true);
    assert.equal(info.pskIdentityHint, "CoAP");
    const serverInfo = f.server.sessionInfo(client.local)!;
    assert.deepEqual(serverInfo.identity, { kind: "psk", identity: "dev-a" });
    assert.equal(f.server.sessionCount, 1);
    assert.equal(f.server.halfOpenCount, 0);
    // 1152 (MemoryEndpoint default) minus 13 header + 8 explicit nonce + tag.
    assert.equal(client.maxMessageSize(f.server.local), 1152 - overhead);
    assert.equal(f.server.maxMessageSize(client.local), 1152 - overhead);
    assert.equal(f.server.stats.cookiesSent, 1);
    assert.equal(f.server.stats.retransmits + client.stats.retransmits, 0);
  });
}

test("each server flight leaves as one datagram of records sealed back to back (RFC 6347 §4.1.1)", async () => {
  const f = fixture();
  const { client } = await connect(f, { psk: { identity: "dev-a", key: KEY_A }, cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] });
  assert.ok(client);
  // Per datagram: [content type, epoch, sequence, first plaintext byte (the handshake type, or
  // ChangeCipherSpec's 1; the Finished is encrypted, so only its type is checked)] of each record.
  const flights = f.serverTap.sent.map(({ data }) => {
    const { records, malformed } = splitRecords(data);
    assert.equal(malformed, false);
    return records.map((r) => [r.header.type, r.header.epoch, r.header.sequence, r.header.epoch === 0 ? r.fragment[0] : undefined]);
  });
  const hs = ContentType.handshake;
  assert.deepEqual(flights, [
    [[hs, 0, 0, HandshakeType.hello_verify_request]],
    // Flight 4 in one datagram; the stateless server's first sequence number is the hello's (1).
    [[hs, 0, 1, HandshakeType.server_hello], [hs, 0, 2, HandshakeType.server_key_exchange], [hs, 0, 3, HandshakeType.server_hello_done]],
    // Flight 6: ChangeCipherSpec in epoch 0, Finished in epoch 1.
    [[ContentType.change_cipher_spec, 0, 4, 1], [hs, 1, 0, undefined]],
  ]);
});

test("a small MTU: flight 4 is fragmented and packed into datagrams that each fit it, and the handshake completes", async () => {
  const mtu = 64;
  const f = fixture({ server: { mtu } });
  const { client, error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A }, cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] });
  assert.equal(error, undefined);
  assert.ok(client);
  const sizes = f.serverTap.sent.map((d) => d.data.length);
  assert.ok(sizes.length > 4, `flight 4 needs several datagrams at ${mtu} bytes: ${sizes}`);
  for (const n of sizes) assert.ok(n <= mtu, `a ${n}-byte datagram exceeds the ${mtu}-byte MTU`);
  // Small records share a datagram: ServerHelloDone (25 bytes) joins the ServerKeyExchange's.
  assert.ok(f.serverTap.sent.some((d) => splitRecords(d.data).records.length > 1), "records packed together");
});

test("server preference order wins over the client's", async () => {
  const f = fixture({ server: { cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] } });
  const { client } = await connect(f, {
    psk: { identity: "dev-b", key: KEY_B },
    cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8, CipherSuiteId.TLS_PSK_WITH_AES_128_GCM_SHA256],
  });
  assert.equal(client?.sessionInfo()?.cipherSuite.name, "TLS_PSK_WITH_AES_128_GCM_SHA256");
});

test("SNI reaches the PSK lookup; the hint reaches the client's callback", async () => {
  const lookups: [string, string | undefined][] = [];
  const f = fixture({
    server: {
      psk: {
        hint: "gateway-42",
        lookup: (identity, sni) => {
          lookups.push([identity, sni]);
          return sni === "tenant-7.example" && identity === "t7-dev" ? KEY_A : undefined;
        },
      },
    },
  });
  const hints: string[] = [];
  const { client, error } = await connect(f, {
    sni: "tenant-7.example",
    pskHintCallback: (hint) => {
      hints.push(hint);
      return { identity: "t7-dev", key: KEY_A };
    },
  });
  assert.equal(error, undefined);
  assert.deepEqual(hints, ["gateway-42"]);
  assert.deepEqual(lookups, [["t7-dev", "tenant-7.example"]]);
  assert.equal(f.server.sessionInfo(client!.local)?.sni, "tenant-7.example");
  assert.equal(client!.sessionInfo()?.pskIdentity, "t7-dev");
});

test("no identity hint: no ServerKeyExchange, the static PSK is used", async () => {
  const f = fixture({ server: { psk: pskTable({ "dev-a": KEY_A }) } });
  const { client } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.ok(client);
  assert.equal(client.sessionInfo()?.pskIdentityHint, undefined);
});

test("a hint callback that declines aborts with handshake_failure on both sides", async () => {
  const f = fixture();
  const failures: DtlsError[] = [];
  f.server.onHandshakeFailed = (_p, e) => failures.push(e);
  const { error } = await connect(f, { pskHintCallback: () => undefined });
  assert.ok(error instanceof DtlsError);
  assert.equal(error.code, "handshake_failure");
  await pump(f.clock, 50);
  assert.equal(failures.length, 1);
  assert.ok(failures[0]!.isPeerAlert("handshake_failure"));
  assert.equal(f.server.halfOpenCount, 0);
});

test("no cipher suite in common: handshake_failure", async () => {
  const f = fixture({ server: { cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] } });
  const { error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A }, cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_GCM_SHA256] });
  assert.ok(error instanceof DtlsError);
  assert.ok(error.isPeerAlert("handshake_failure"));
  assert.equal(f.server.stats.handshakesFailed, 1);
});

test("close_notify both ways: client close ends the server session; server close() notifies every client", async () => {
  const f = fixture();
  const closed: string[] = [];
  f.server.onSessionClosed = (_p, reason) => closed.push(reason);
  const a = (await connect(f, { psk: { identity: "dev-a", key: KEY_A } })).client!;
  const b = (await connect(f, { psk: { identity: "dev-b", key: KEY_B } })).client!;
  const c = (await connect(f, { psk: { identity: "dev-b", key: KEY_B } })).client!;
  assert.equal(f.server.sessionCount, 3);
  await a.close();
  await pump(f.clock, 50);
  assert.deepEqual(closed, ["peer_close_notify"]);
  assert.equal(f.server.sessionCount, 2);

  const ends: string[] = [];
  b.onClose = (r) => ends.push(`b:${r}`);
  c.onClose = (r) => ends.push(`c:${r}`);
  await f.server.close();
  await pump(f.clock, 50);
  assert.deepEqual(ends.sort(), ["b:peer_close_notify", "c:peer_close_notify"]);
  assert.equal(b.connected, false);
  // After close, sending is a counted no-op.
  b.send(f.server.local, utf8("late"));
  assert.equal(b.stats.appSendDropped, 1);
});

test("updatePsk: new handshakes use the new table, the established session keeps working", async () => {
  const f = fixture();
  const seen: string[] = [];
  f.server.onDatagram = (d, _p, id) => seen.push(`${id.identity}:${text(d)}`);
  const a = (await connect(f, { psk: { identity: "dev-a", key: KEY_A } })).client!;
  f.server.updatePsk(pskTable({ "dev-c": KEY_B }, { hint: "CoAP" }));
  const refused = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.ok(refused.error instanceof DtlsError && refused.error.isPeerAlert("unknown_psk_identity"));
  const c = (await connect(f, { psk: { identity: "dev-c", key: KEY_B } })).client!;
  a.send(f.server.local, utf8("old"));
  c.send(f.server.local, utf8("new"));
  await pump(f.clock, 50);
  assert.deepEqual(seen.sort(), ["dev-a:old", "dev-c:new"]);
});
