/**
 * ECDHE_ECDSA interop over real UDP with OpenSSL (issue 4): `openssl s_client -dtls1_2` with a
 * client certificate against our DtlsServer (each suite, app data both ways), our DtlsClient
 * with and without a client certificate against `openssl s_server [-Verify 2 -CAfile]`, and the
 * refusals both ways. Certificates come from pki's generator, written to a temporary directory.
 *
 * OpenSSL 3 needs @SECLEVEL=0 for the 8-byte-tag CCM suite.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DtlsClient, DtlsError, DtlsServer, type CloseReason, type SessionInfo } from "../../edge-agent/src/dtls/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import type { PeerAddress, PeerIdentity } from "../../edge-agent/src/transport/types.js";
import { freeUdpPort, OpensslProcess, requireOpenssl } from "../helpers/openssl.js";
import { loadTempPki, writeTempPki, type LoadedTempPki } from "../helpers/pki.js";
import { loadTrustStore } from "../../edge-agent/src/pki/index.js";
import { next } from "../helpers/events.js";

const SUITES = [
  { openssl: "ECDHE-ECDSA-AES128-CCM8", id: 0xc0ae, name: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8" },
  { openssl: "ECDHE-ECDSA-AES128-CCM", id: 0xc0ac, name: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM" },
  { openssl: "ECDHE-ECDSA-AES128-GCM-SHA256", id: 0xc02b, name: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
] as const;

const cipherArg = (name: string) => `${name}:@SECLEVEL=0`;

let pki: LoadedTempPki;
before(() => (pki = loadTempPki()));
after(() => pki.remove());

async function startServer(verifyPeer: boolean) {
  const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
  const server = new DtlsServer(udp, { pki: { credentials: pki.server, trust: pki.trust, verifyPeer } });
  return { server, port: udp.local.port };
}

const clientArgs = (port: number, cipher: string, withCert = true) => [
  "s_client", "-dtls1_2", "-cipher", cipherArg(cipher), "-CAfile", pki.file("ca.crt"), "-verify_return_error",
  ...(withCert ? ["-cert", pki.file("device-001.crt"), "-key", pki.file("device-001.key")] : []),
  "-connect", `127.0.0.1:${port}`,
];

for (const suite of SUITES) {
  test(`openssl s_client with a client certificate → our DtlsServer (verifyPeer): ${suite.name}, data both ways`, async (t) => {
    const bin = requireOpenssl(t);
    if (!bin) return;
    const { server, port } = await startServer(true);
    const established = next<SessionInfo>((cb) => (server.onSessionEstablished = (_p, info) => cb(info)));
    const received = next<{ text: string; peer: PeerAddress; identity: PeerIdentity }>(
      (cb) => (server.onDatagram = (d, peer, identity) => cb({ text: Buffer.from(d).toString(), peer, identity })),
    );
    const closed = next<CloseReason>((cb) => (server.onSessionClosed = (_p, r) => cb(r)));
    const client = new OpensslProcess(bin, clientArgs(port, suite.openssl));
    try {
      const info = await established;
      await client.waitFor(new RegExp(`Cipher is ${suite.openssl}\\b`));
      t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}) on ${info.ecdheGroup}, EMS ${info.extendedMasterSecret}`);
      assert.equal(info.cipherSuite.id, suite.id);
      assert.equal(info.ecdheGroup, "x25519", "OpenSSL's first group");
      assert.match(client.output, /Verify return code: 0 \(ok\)/, "OpenSSL verified our chain");
      assert.equal(info.identity.kind, "x509");
      assert.equal(info.identity.identity, "device-001");
      assert.deepEqual(info.peerCertificateDer, pki.device.chainDer[0]);

      client.write("hello from openssl\n");
      const got = await received;
      assert.equal(got.text, "hello from openssl\n");
      assert.equal(got.identity.identity, "device-001");
      assert.equal(got.identity.certificateSha256, pki.device.leaf.sha256);
      server.send(got.peer, Buffer.from("hello from coaps-edge\n"));
      await client.waitFor(/hello from coaps-edge/);

      client.endInput();
      assert.equal(await closed, "peer_close_notify");
    } finally {
      await client.kill();
      await server.close();
    }
  });
}

test("openssl s_client on secp256r1 (-groups P-256) → our DtlsServer", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const { server, port } = await startServer(true);
  const established = next<SessionInfo>((cb) => (server.onSessionEstablished = (_p, info) => cb(info)));
  const client = new OpensslProcess(bin, [...clientArgs(port, SUITES[0].openssl), "-groups", "P-256"]);
  try {
    const info = await established;
    assert.equal(info.ecdheGroup, "secp256r1");
    await client.waitFor(/Server Temp Key: ECDH, prime256v1/);
    t.diagnostic(`negotiated ${info.cipherSuite.name} on ${info.ecdheGroup}`);
  } finally {
    await client.kill();
    await server.close();
  }
});

test("openssl s_client without a certificate → our DtlsServer (verifyPeer): refused with handshake_failure", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const { server, port } = await startServer(true);
  const failed = next<DtlsError>((cb) => (server.onHandshakeFailed = (_p, e) => cb(e)));
  const client = new OpensslProcess(bin, clientArgs(port, SUITES[0].openssl, false));
  try {
    const err = await failed;
    assert.equal(err.code, "handshake_failure");
    await client.waitFor(/alert handshake failure/);
    assert.equal(server.sessionCount + server.halfOpenCount, 0);
  } finally {
    await client.kill();
    await server.close();
  }
});

test("openssl s_client without a certificate → our DtlsServer (verifyPeer off): connects", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const { server, port } = await startServer(false);
  const established = next<SessionInfo>((cb) => (server.onSessionEstablished = (_p, info) => cb(info)));
  const client = new OpensslProcess(bin, clientArgs(port, SUITES[0].openssl, false));
  try {
    const info = await established;
    assert.deepEqual(info.identity, { kind: "none" });
    await client.waitFor(/Verify return code: 0 \(ok\)/);
  } finally {
    await client.kill();
    await server.close();
  }
});

for (const withCert of [true, false]) {
  test(`our DtlsClient ${withCert ? "with" : "without"} a client certificate → openssl s_server${withCert ? " -Verify 2" : ""}: CCM_8, data both ways`, async (t) => {
    const bin = requireOpenssl(t);
    if (!bin) return;
    const port = await freeUdpPort();
    const srv = new OpensslProcess(bin, [
      "s_server", "-dtls1_2", "-cert", pki.file("server.crt"), "-key", pki.file("server.key"),
      ...(withCert ? ["-Verify", "2", "-CAfile", pki.file("ca.crt")] : []),
      "-cipher", cipherArg(SUITES[0].openssl), "-accept", `127.0.0.1:${port}`,
    ]);
    try {
      await srv.waitFor(/ACCEPT/);
      const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
      t.after(() => udp.close());
      const client = await DtlsClient.connect(udp, { address: "127.0.0.1", port, family: "IPv4" }, {
        pki: { ...(withCert ? { credentials: pki.device } : {}), trust: pki.trust, policy: { host: "localhost" } },
        sni: "localhost",
        handshakeTimeoutMs: 5000,
      });
      const info = client.sessionInfo()!;
      t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}) on ${info.ecdheGroup}, EMS ${info.extendedMasterSecret}`);
      assert.equal(info.cipherSuite.id, 0xc0ae);
      assert.equal(info.identity.kind, "x509");
      assert.equal(info.identity.identity, "localhost");
      await srv.waitFor(/CIPHER is ECDHE-ECDSA-AES128-CCM8\b/);
      if (withCert) assert.match(srv.output, /subject=O = coaps-edge, CN = device-001/);
      else assert.doesNotMatch(srv.output, /Client certificate/);

      client.send(client.server, Buffer.from("hello from coaps-edge\n"));
      await srv.waitFor(/hello from coaps-edge/);
      const got = next<string>((cb) => (client.onDatagram = (d) => cb(Buffer.from(d).toString())));
      srv.write("hello from openssl\n");
      assert.equal(await got, "hello from openssl\n");
      await client.close();
      await srv.waitFor(/^DONE$/m);
    } finally {
      await srv.kill();
    }
  });
}

test("our DtlsClient without a certificate → openssl s_server -Verify 2: OpenSSL refuses, we report its alert", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const port = await freeUdpPort();
  const srv = new OpensslProcess(bin, [
    "s_server", "-dtls1_2", "-cert", pki.file("server.crt"), "-key", pki.file("server.key"), "-Verify", "2",
    "-CAfile", pki.file("ca.crt"), "-cipher", cipherArg(SUITES[0].openssl), "-accept", `127.0.0.1:${port}`,
  ]);
  try {
    await srv.waitFor(/ACCEPT/);
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const err = await DtlsClient.connect(udp, { address: "127.0.0.1", port, family: "IPv4" }, { pki: { trust: pki.trust }, handshakeTimeoutMs: 5000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await udp.close();
    assert.ok(err instanceof DtlsError, String(err));
    assert.ok(err.isPeerAlert("handshake_failure"), err.message);
    t.diagnostic(`client: ${err.message}`);
  } finally {
    await srv.kill();
  }
});

test("our DtlsClient refuses openssl s_server's certificate when it trusts another CA: unknown_ca", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const other = writeTempPki({ caCommonName: "another CA", devices: 0, server: false });
  const port = await freeUdpPort();
  const srv = new OpensslProcess(bin, [
    "s_server", "-dtls1_2", "-cert", pki.file("server.crt"), "-key", pki.file("server.key"),
    "-cipher", cipherArg(SUITES[0].openssl), "-accept", `127.0.0.1:${port}`,
  ]);
  try {
    await srv.waitFor(/ACCEPT/);
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const err = await DtlsClient.connect(udp, { address: "127.0.0.1", port, family: "IPv4" }, {
      pki: { trust: loadTrustStore({ path: other.file("ca.crt") }) },
      handshakeTimeoutMs: 5000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await udp.close();
    assert.ok(err instanceof DtlsError && err.code === "unknown_ca", String(err));
    await srv.waitFor(/alert unknown ca/i);
  } finally {
    other.remove();
    await srv.kill();
  }
});
