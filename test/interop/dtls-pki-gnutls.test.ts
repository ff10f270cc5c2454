/**
 * ECDHE_ECDSA interop over real UDP with GnuTLS (gnutls-bin), the TLS library of libcoap's
 * `-gnutls` tools: `gnutls-cli --udp` with a client certificate against our DtlsServer, and our
 * DtlsClient with a client certificate against `gnutls-serv --udp --require-client-cert --echo`.
 * GnuTLS's default priority has no CCM_8 (it negotiates CCM); with `+AES-128-CCM-8` our server's
 * preference picks CCM_8. Certificates from pki's generator, in a temporary directory.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DtlsClient, DtlsServer, type SessionInfo } from "../../edge-agent/src/dtls/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import type { PeerAddress, PeerIdentity } from "../../edge-agent/src/transport/types.js";
import { freeUdpPort, OpensslProcess as PeerProcess, requireBinary } from "../helpers/openssl.js";
import { loadTempPki, type LoadedTempPki } from "../helpers/pki.js";
import { next } from "../helpers/events.js";

let pki: LoadedTempPki;
before(() => (pki = loadTempPki()));
after(() => pki.remove());

for (const [label, priority, suite] of [
  ["default priority", undefined, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"],
  ["priority +AES-128-CCM-8", "NORMAL:+AES-128-CCM-8", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"],
] as const) {
  test(`gnutls-cli with a client certificate → our DtlsServer (verifyPeer), ${label}: ${suite}, data both ways`, async (t) => {
    const bin = requireBinary(t, "gnutls-cli");
    if (!bin) return;
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const server = new DtlsServer(udp, { pki: { credentials: pki.server, trust: pki.trust, verifyPeer: true } });
    const established = next<SessionInfo>((cb) => (server.onSessionEstablished = (_p, info) => cb(info)));
    const received = next<{ text: string; peer: PeerAddress; identity: PeerIdentity }>(
      (cb) => (server.onDatagram = (d, peer, identity) => cb({ text: Buffer.from(d).toString(), peer, identity })),
    );
    const client = new PeerProcess(bin, [
      "--udp", "-p", String(udp.local.port), "--x509cafile", pki.file("ca.crt"),
      "--x509certfile", pki.file("device-001.crt"), "--x509keyfile", pki.file("device-001.key"),
      ...(priority ? ["--priority", priority] : []),
      "127.0.0.1", // verified against the server certificate's IP subjectAltName
    ]);
    try {
      const info = await established;
      await client.waitFor(/Handshake was completed/);
      t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}) on ${info.ecdheGroup}, EMS ${info.extendedMasterSecret}`);
      t.diagnostic(client.output.match(/Description: .*/)?.[0] ?? "");
      assert.equal(info.cipherSuite.name, suite);
      assert.equal(info.identity.identity, "device-001");
      assert.deepEqual(info.peerCertificateDer, pki.device.chainDer[0]);

      client.write("hello from gnutls\n");
      const got = await received;
      assert.equal(got.text, "hello from gnutls\n");
      assert.equal(got.identity.kind, "x509");
      server.send(got.peer, Buffer.from("hello from coaps-edge\n"));
      await client.waitFor(/hello from coaps-edge/);
    } finally {
      await client.kill();
      await server.close();
    }
  });
}

test("our DtlsClient with a client certificate → gnutls-serv --require-client-cert: echo", async (t) => {
  const bin = requireBinary(t, "gnutls-serv");
  if (!bin) return;
  const port = await freeUdpPort();
  const srv = new PeerProcess(bin, [
    "--udp", "-p", String(port), "--echo", "--require-client-cert",
    "--x509certfile", pki.file("server.crt"), "--x509keyfile", pki.file("server.key"), "--x509cafile", pki.file("ca.crt"),
  ]);
  try {
    await srv.waitFor(/listening on IPv4/);
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    t.after(() => udp.close());
    const client = await DtlsClient.connect(udp, { address: "127.0.0.1", port, family: "IPv4" }, {
      pki: { credentials: pki.device, trust: pki.trust, policy: { host: "127.0.0.1" } },
      handshakeTimeoutMs: 5000,
    });
    const info = client.sessionInfo()!;
    t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}) on ${info.ecdheGroup}, EMS ${info.extendedMasterSecret}`);
    assert.equal(info.cipherSuite.name, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "GnuTLS's preference among what we offer");
    assert.equal(info.identity.identity, "localhost");
    const echoed = next<string>((cb) => (client.onDatagram = (d) => cb(Buffer.from(d).toString())));
    client.send(client.server, Buffer.from("echo me\n"));
    assert.equal(await echoed, "echo me\n");
    await client.close();
  } finally {
    await srv.kill();
  }
});
