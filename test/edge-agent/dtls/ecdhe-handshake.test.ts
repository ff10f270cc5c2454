/**
 * ECDHE_ECDSA handshakes between our client and our server over an in-memory link: every suite
 * on both groups with mutual authentication, the identities and certificates each side sees,
 * PSK and certificates on one server, the anonymous client, the client's checks of the server
 * (CA, host, signature), SNI-based certificate choice, a three-certificate chain over a
 * 300-byte MTU (fragmented flights, reassembled) — also on a lossy link —, certificate reload,
 * and what the server makes of hand-made hellos' ECC extensions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CipherSuiteId, DtlsError, pskTable, type EcdheGroup } from "../../../edge-agent/src/dtls/index.js";
import { ContentType, ExtensionType, HandshakeType } from "../../../edge-agent/src/dtls/constants.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { encodeEcPointFormats, encodeU16List } from "../../../edge-agent/src/dtls/handshake/messages/ecc-extensions.js";
import { decodeHelloVerifyRequest } from "../../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import { generateP256KeyPair } from "../../../edge-agent/src/pki/index.js";
import { clientHelloRecord, connect, KEY_A, pump, TapEndpoint, text, utf8 } from "./helpers.js";
import { credentials, pkiFixture, testPki, trustOf, wallClock } from "./pki-fixtures.js";

const ECDHE_SUITES = [
  ["TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, 29],
  ["TLS_ECDHE_ECDSA_WITH_AES_128_CCM", CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_CCM, 37],
  ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 37],
] as const;

const sha256Hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Handshake fragments of `type` in a capture: how many, and how many continue a message (offset > 0). */
function fragmentsOf(datagrams: readonly { data: Uint8Array }[], type: number): { all: number; later: number } {
  let all = 0;
  let later = 0;
  for (const d of datagrams) {
    for (const r of splitRecords(d.data).records) {
      if (r.header.epoch !== 0 || r.header.type !== ContentType.handshake) continue;
      for (const f of decodeHandshakeFragments(r.fragment)) {
        if (f.type !== type) continue;
        all++;
        if (f.offset > 0) later++;
      }
    }
  }
  return { all, later };
}

for (const [name, id, overhead] of ECDHE_SUITES) {
  for (const group of ["secp256r1", "x25519"] as const satisfies readonly EcdheGroup[]) {
    test(`${name} on ${group}: mutual authentication, data both ways, identities and certificates on both sides`, async () => {
      const pki = testPki();
      const trust = trustOf(pki);
      const server = credentials(pki.server!);
      const device = credentials(pki.devices[0]!);
      const f = pkiFixture({ credentials: server, trust, verifyPeer: true });
      const serverGot: string[] = [];
      f.server.onDatagram = (data, peer, identity) => {
        serverGot.push(`${identity.kind}:${identity.identity}:${text(data)}`);
        f.server.send(peer, utf8(`echo ${text(data)}`));
      };
      const { client, error } = await connect(f, { pki: { credentials: device, trust }, cipherSuites: [id], groups: [group], wallClock });
      assert.equal(error, undefined, String(error));
      assert.ok(client);
      const clientGot: string[] = [];
      client.onDatagram = (d, _p, identity) => clientGot.push(`${identity.kind}:${identity.identity}:${text(d)}`);
      client.send(f.server.local, utf8("ping"));
      await pump(f.clock, 50);
      assert.deepEqual(serverGot, ["x509:device-001:ping"]);
      assert.deepEqual(clientGot, ["x509:localhost:echo ping"]);

      const info = client.sessionInfo()!;
      assert.equal(info.cipherSuite.name, name);
      assert.equal(info.ecdheGroup, group);
      assert.equal(info.extendedMasterSecret, true);
      assert.equal(info.pskIdentity, undefined);
      assert.equal(info.pskIdentityHint, undefined);
      assert.deepEqual(info.peerCertificateDer, server.chainDer[0]);
      assert.deepEqual(info.identity, {
        kind: "x509",
        identity: "localhost",
        certificateSha256: sha256Hex(server.chainDer[0]!),
        certificateDer: server.chainDer[0],
      });
      const serverInfo = f.server.sessionInfo(client.local)!;
      assert.equal(serverInfo.ecdheGroup, group);
      assert.deepEqual(serverInfo.peerCertificateDer, device.chainDer[0]);
      assert.equal(serverInfo.identity.kind, "x509");
      assert.equal(serverInfo.identity.identity, "device-001");
      assert.equal(serverInfo.identity.certificateSha256, device.leaf.sha256);
      assert.equal(client.maxMessageSize(f.server.local), 1152 - overhead);
      assert.equal(f.server.stats.retransmits + client.stats.retransmits, 0);
    });
  }
}

test("server picks the client's most preferred group it allows; a server without a common group refuses", async () => {
  const pki = testPki();
  const trust = trustOf(pki);
  const f = pkiFixture({ credentials: credentials(pki.server!), verifyPeer: false }, { server: { groups: ["secp256r1"] } });
  const ok = await connect(f, { pki: { trust }, groups: ["x25519", "secp256r1"], wallClock });
  assert.equal(ok.client?.sessionInfo()?.ecdheGroup, "secp256r1");
  const none = await connect(f, { pki: { trust }, groups: ["x25519"], wallClock });
  assert.ok(none.error instanceof DtlsError && none.error.isPeerAlert("handshake_failure"), String(none.error));
});

test("PSK and certificates on one server: each client gets the suites its credentials allow", async () => {
  const pki = testPki();
  const trust = trustOf(pki);
  const f = pkiFixture(
    { credentials: credentials(pki.server!), trust, verifyPeer: true },
    { server: { psk: pskTable({ "dev-a": KEY_A }, { hint: "CoAP" }) } },
  );
  const psk = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.equal(psk.client?.sessionInfo()?.cipherSuite.name, "TLS_PSK_WITH_AES_128_CCM_8");
  assert.deepEqual(f.server.sessionInfo(psk.client!.local)?.identity, { kind: "psk", identity: "dev-a" });
  assert.equal(f.server.sessionInfo(psk.client!.local)?.peerCertificateDer, undefined);
  const x509 = await connect(f, { pki: { credentials: credentials(pki.devices[1]!), trust }, wallClock });
  assert.equal(x509.client?.sessionInfo()?.cipherSuite.name, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
  assert.equal(f.server.sessionInfo(x509.client!.local)?.identity.identity, "device-002");
  assert.equal(f.server.sessionInfo(x509.client!.local)?.pskIdentityHint, undefined, "no PSK hint on a certificate session");
  // A client holding both: the server's preference order decides (PSK CCM_8 first by default).
  const both = await connect(f, { psk: { identity: "dev-a", key: KEY_A }, pki: { credentials: credentials(pki.devices[0]!), trust }, wallClock });
  assert.equal(both.client?.sessionInfo()?.cipherSuite.name, "TLS_PSK_WITH_AES_128_CCM_8");
  assert.equal(f.server.sessionCount, 3);
});

test("a PSK-only client does not offer ECDHE: a certificate-only server refuses it", async () => {
  const pki = testPki();
  const f = pkiFixture({ credentials: credentials(pki.server!), verifyPeer: false });
  const { error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.ok(error instanceof DtlsError && error.isPeerAlert("handshake_failure"), String(error));
});

test("anonymous client (no psk, no pki): ECDHE without a client certificate, the server not verified", async () => {
  const pki = testPki();
  const f = pkiFixture({ credentials: credentials(pki.server!), verifyPeer: false });
  let serverIdentity: string | undefined;
  f.server.onDatagram = (_d, _p, identity) => void (serverIdentity = identity.kind);
  const { client, error } = await connect(f, { wallClock });
  assert.equal(error, undefined, String(error));
  const info = client!.sessionInfo()!;
  assert.equal(info.cipherSuite.name, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
  assert.deepEqual(info.identity, { kind: "none" }, "an unverified server is not an identity");
  assert.deepEqual(info.peerCertificateDer, pki.server!.cert.der, "but its certificate is available");
  client!.send(f.server.local, utf8("x"));
  await pump(f.clock, 50);
  assert.equal(serverIdentity, "none");
  assert.deepEqual(f.server.sessionInfo(client!.local)?.identity, { kind: "none" });
  assert.equal(f.server.sessionInfo(client!.local)?.peerCertificateDer, undefined);
});

test("pki without credentials and verifyPeerCert false is anonymous too: a server of an unknown CA is accepted", async () => {
  const pki = testPki();
  const f = pkiFixture({ credentials: credentials(pki.server!), verifyPeer: false });
  const { client, error } = await connect(f, { pki: { trust: trustOf(testPki()), policy: { verifyPeerCert: false } }, wallClock });
  assert.equal(error, undefined, String(error));
  assert.equal(client!.sessionInfo()?.identity.kind, "none");
});

test("the client refuses a server certificate from another CA with unknown_ca", async () => {
  const pki = testPki();
  const f = pkiFixture({ credentials: credentials(pki.server!), verifyPeer: false });
  const failures: DtlsError[] = [];
  f.server.onHandshakeFailed = (_p, e) => failures.push(e);
  const { error } = await connect(f, { pki: { trust: trustOf(testPki({ caCommonName: "someone else's CA" })) }, wallClock });
  assert.ok(error instanceof DtlsError);
  assert.equal(error.code, "unknown_ca");
  await pump(f.clock, 50);
  assert.ok(failures[0]?.isPeerAlert("unknown_ca"), String(failures[0]));
});

test("the client checks the host when asked: a certificate for another name gets bad_certificate", async () => {
  const pki = testPki();
  const trust = trustOf(pki);
  const f = pkiFixture({ credentials: credentials(pki.server!), verifyPeer: false });
  const good = await connect(f, { pki: { trust, policy: { host: "localhost" } }, wallClock });
  assert.ok(good.client);
  const bad = await connect(f, { pki: { trust, policy: { host: "gateway.example" } }, wallClock });
  assert.ok(bad.error instanceof DtlsError && bad.error.code === "bad_certificate", String(bad.error));
});

test("a ServerKeyExchange signed with a key that is not the certificate's: the client sends decrypt_error", async () => {
  const pki = testPki();
  const forged = { ...credentials(pki.server!), key: generateP256KeyPair().privateKey };
  const f = pkiFixture({ credentials: forged, verifyPeer: false });
  const failures: DtlsError[] = [];
  f.server.onHandshakeFailed = (_p, e) => failures.push(e);
  const { error } = await connect(f, { pki: { trust: trustOf(pki) }, wallClock });
  assert.ok(error instanceof DtlsError && error.code === "decrypt_error", String(error));
  await pump(f.clock, 50);
  assert.ok(failures[0]?.isPeerAlert("decrypt_error"));
});

test("a CertificateVerify made with a key that is not the certificate's: the server sends decrypt_error", async () => {
  const pki = testPki();
  const trust = trustOf(pki);
  const f = pkiFixture({ credentials: credentials(pki.server!), trust, verifyPeer: true });
  const failures: DtlsError[] = [];
  f.server.onHandshakeFailed = (_p, e) => failures.push(e);
  const forged = { ...credentials(pki.devices[0]!), key: generateP256KeyPair().privateKey };
  const { error } = await connect(f, { pki: { credentials: forged, trust }, wallClock });
  assert.ok(error instanceof DtlsError && error.isPeerAlert("decrypt_error"), String(error));
  assert.equal(failures[0]?.code, "decrypt_error");
  assert.equal(f.server.sessionCount, 0);
});

test("SNI picks the server certificate; a name without one makes ECDHE unavailable (handshake_failure)", async () => {
  const a = testPki({ server: { commonName: "a.example", dnsNames: ["a.example"] } });
  const b = testPki({ server: { commonName: "b.example", dnsNames: ["b.example"] } });
  const byName = new Map([
    ["a.example", credentials(a.server!)],
    ["b.example", credentials(b.server!)],
  ]);
  const asked: (string | undefined)[] = [];
  const f = pkiFixture({
    credentials: (sni) => {
      asked.push(sni);
      return sni === undefined ? undefined : byName.get(sni);
    },
    verifyPeer: false,
  });
  const trust = trustOf(a, b);
  const toB = await connect(f, { sni: "b.example", pki: { trust, policy: { host: "b.example" } }, wallClock });
  assert.equal(toB.client?.sessionInfo()?.identity.identity, "b.example");
  assert.equal(f.server.sessionInfo(toB.client!.local)?.sni, "b.example");
  const toA = await connect(f, { sni: "a.example", pki: { trust }, wallClock });
  assert.equal(toA.client?.sessionInfo()?.identity.identity, "a.example");
  const none = await connect(f, { pki: { trust }, wallClock });
  assert.ok(none.error instanceof DtlsError && none.error.isPeerAlert("handshake_failure"), String(none.error));
  assert.deepEqual(asked, ["b.example", "a.example", undefined], "one call per handshake");
});

test("root → intermediate → leaf chains both ways over a 300-byte MTU: fragmented, reassembled, verified", async () => {
  const pki = testPki({ intermediate: true });
  const trust = trustOf(pki);
  const server = credentials(pki.server!);
  const device = credentials(pki.devices[0]!);
  assert.equal(server.chainDer.length, 2);
  assert.equal(device.chainDer.length, 2);
  // The link drops anything over 300 bytes: every datagram of both flights must fit.
  const f = pkiFixture({ credentials: server, trust, verifyPeer: true }, { link: { mtu: 300 }, server: { mtu: 300 } });
  const clientTap = new TapEndpoint(f.net.endpoint());
  const { client, error } = await connect(f, { pki: { credentials: device, trust }, mtu: 300, wallClock }, clientTap);
  assert.equal(error, undefined, String(error));
  assert.equal(f.net.stats.tooBig, 0);
  assert.ok(Math.max(...f.serverTap.sent.map((d) => d.data.length), ...clientTap.sent.map((d) => d.data.length)) <= 300);
  const serverCert = fragmentsOf(f.serverTap.sent, HandshakeType.certificate);
  const clientCert = fragmentsOf(clientTap.sent, HandshakeType.certificate);
  assert.ok(serverCert.later >= 3, `server Certificate in ${serverCert.all} fragments`);
  assert.ok(clientCert.later >= 3, `client Certificate in ${clientCert.all} fragments`);
  assert.equal(f.server.sessionInfo(client!.local)?.identity.identity, "device-001");
  assert.equal(client!.sessionInfo()?.identity.identity, "localhost");
  assert.equal(client!.maxMessageSize(f.server.local), 300 - 29);
});

test("the same chain over a lossy, reordering 300-byte link still completes (seeded)", async () => {
  const pki = testPki({ intermediate: true });
  const trust = trustOf(pki);
  const f = pkiFixture(
    { credentials: credentials(pki.server!), trust, verifyPeer: true },
    { seed: 7, link: { mtu: 300, loss: 0.2, duplicate: 0.05, delayMs: 5, jitterMs: 40 }, server: { mtu: 300, handshakeTimeoutMs: 600_000 } },
  );
  const { client, error } = await connect(f, { pki: { credentials: credentials(pki.devices[1]!), trust }, mtu: 300, handshakeTimeoutMs: 600_000, wallClock });
  assert.equal(error, undefined, String(error));
  assert.equal(f.server.sessionInfo(client!.local)?.identity.identity, "device-002");
  assert.ok(f.net.stats.lost > 0, "the link lost datagrams");
  assert.ok(f.server.stats.retransmits + client!.stats.retransmits > 0, "flights were retransmitted");
});

test("updatePki: new handshakes get the new certificate, the established session keeps working", async () => {
  const before = testPki();
  const afterward = testPki({ server: { commonName: "renewed" } });
  const f = pkiFixture({ credentials: credentials(before.server!), verifyPeer: false });
  const seen: string[] = [];
  f.server.onDatagram = (d) => seen.push(text(d));
  const old = (await connect(f, { pki: { trust: trustOf(before) }, wallClock })).client!;
  f.server.updatePki({ credentials: credentials(afterward.server!), verifyPeer: false });
  const renewed = await connect(f, { pki: { trust: trustOf(afterward) }, wallClock });
  assert.equal(renewed.client?.sessionInfo()?.identity.identity, "renewed");
  const refused = await connect(f, { pki: { trust: trustOf(before) }, wallClock });
  assert.ok(refused.error instanceof DtlsError && refused.error.code === "unknown_ca");
  old.send(f.server.local, utf8("old session"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["old session"]);
  f.server.updatePki(undefined);
  const none = await connect(f, { wallClock });
  assert.ok(none.error instanceof DtlsError && none.error.isPeerAlert("handshake_failure"));
});

/** Runs the cookie exchange for a hand-made ClientHello; returns the alert the server answers with (or the handshake types). */
function answerTo(extensions: { type: number; data: Uint8Array }[]): { alert?: number[]; messages?: number[] } {
  const pki = testPki();
  const f = pkiFixture({ credentials: credentials(pki.server!), verifyPeer: false });
  const peer = f.net.endpoint(40200);
  const replies: Uint8Array[] = [];
  peer.onDatagram = (d) => replies.push(Uint8Array.from(d));
  const random = new Uint8Array(32).fill(9);
  const hello = { random, cipherSuites: [0xc0ae], extensions };
  peer.send(f.server.local, clientHelloRecord(hello));
  f.clock.advance(1);
  const cookie = decodeHelloVerifyRequest(decodeHandshakeFragments(replies[0]!.subarray(13))[0]!.data).cookie;
  peer.send(f.server.local, clientHelloRecord({ ...hello, cookie }, 1, 1));
  f.clock.advance(1);
  const records = replies.slice(1).flatMap((d) => splitRecords(d).records);
  if (records[0]?.header.type === ContentType.alert) return { alert: [...records[0].fragment] };
  return { messages: records.flatMap((r) => decodeHandshakeFragments(r.fragment)).map((m) => m.type) };
}

test("hand-made hellos: what the server needs from the ECC extensions", () => {
  const groups = (...ids: number[]) => ({ type: ExtensionType.supported_groups, data: encodeU16List(ids) });
  const sigalgs = (...ids: number[]) => ({ type: ExtensionType.signature_algorithms, data: encodeU16List(ids) });
  const formats = (...f: number[]) => ({ type: ExtensionType.ec_point_formats, data: encodeEcPointFormats(f) });
  const flight4 = [HandshakeType.server_hello, HandshakeType.certificate, HandshakeType.server_key_exchange, HandshakeType.server_hello_done];
  // Without any ECC extension the server still runs ECDHE on secp256r1 (RFC 4492 §4).
  assert.deepEqual(answerTo([]), { messages: flight4 });
  assert.deepEqual(answerTo([groups(23), formats(0), sigalgs(0x0403)]), { messages: flight4 });
  // Only curves we lack, only compressed points, only RSA signatures: no suite → handshake_failure.
  assert.deepEqual(answerTo([groups(24, 25)]), { alert: [2, 40] });
  assert.deepEqual(answerTo([formats(1, 2)]), { alert: [2, 40] });
  assert.deepEqual(answerTo([sigalgs(0x0401, 0x0804)]), { alert: [2, 40] });
  // Malformed extension bodies: decode_error, nothing thrown past the server.
  assert.deepEqual(answerTo([{ type: ExtensionType.supported_groups, data: Uint8Array.of(0, 3, 0, 23, 0) }]), { alert: [2, 50] });
  assert.deepEqual(answerTo([{ type: ExtensionType.ec_point_formats, data: Uint8Array.of(0) }]), { alert: [2, 50] });
});
