/**
 * Interop over real UDP with OpenSSL (pion's e2e_openssl_test): `openssl s_client` against our
 * DtlsServer and `openssl s_server` against our DtlsClient, for each PSK suite, with
 * application data both ways; wrong keys and unknown identities fail cleanly.
 *
 * OpenSSL 3 needs @SECLEVEL=0 for the 8-byte-tag CCM suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DtlsClient, DtlsError, DtlsServer, pskTable, type CloseReason, type SessionInfo } from "../../edge-agent/src/dtls/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";
import { freeUdpPort, OpensslProcess, requireOpenssl } from "../helpers/openssl.js";
import { next } from "../helpers/events.js";

const PSK_HEX = "64656d6f2d7365637265742d70736b"; // "demo-secret-psk"
const WRONG_HEX = "64656d6f2d7365637265742d70736c";
const KEY = Buffer.from(PSK_HEX, "hex");

const SUITES = [
  { openssl: "PSK-AES128-CCM8", id: 0xc0a8, name: "TLS_PSK_WITH_AES_128_CCM_8" },
  { openssl: "PSK-AES128-CCM", id: 0xc0a4, name: "TLS_PSK_WITH_AES_128_CCM" },
  { openssl: "PSK-AES128-GCM-SHA256", id: 0x00a8, name: "TLS_PSK_WITH_AES_128_GCM_SHA256" },
] as const;

const cipherArg = (name: string) => `${name}:@SECLEVEL=0`;

async function startServer() {
  const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
  const server = new DtlsServer(udp, { psk: pskTable([{ identity: "demo", key: KEY }], { hint: "CoAP" }) });
  return { server, port: udp.local.port };
}

for (const suite of SUITES) {
  test(`openssl s_client → our DtlsServer: ${suite.name}, data both ways, close_notify`, async (t) => {
    const bin = requireOpenssl(t);
    if (!bin) return;
    const { server, port } = await startServer();
    const established = next<SessionInfo>((cb) => (server.onSessionEstablished = (_p, info) => cb(info)));
    const received = next<{ text: string; peer: PeerAddress; identity: string | undefined }>(
      (cb) => (server.onDatagram = (d, peer, id) => cb({ text: Buffer.from(d).toString(), peer, identity: id.identity })),
    );
    const closed = next<CloseReason>((cb) => (server.onSessionClosed = (_p, r) => cb(r)));
    const client = new OpensslProcess(bin, [
      "s_client", "-dtls1_2", "-psk", PSK_HEX, "-psk_identity", "demo", "-cipher", cipherArg(suite.openssl),
      "-connect", `127.0.0.1:${port}`,
    ]);
    try {
      const info = await established;
      await client.waitFor(new RegExp(`Cipher is ${suite.openssl}\\b`));
      t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}), EMS ${info.extendedMasterSecret}`);
      assert.equal(info.cipherSuite.id, suite.id);
      assert.equal(info.extendedMasterSecret, true);
      assert.match(client.output, /Extended master secret: yes/);
      assert.match(client.output, /PSK identity hint: CoAP/);

      client.write("hello from openssl\n");
      const got = await received;
      assert.equal(got.text, "hello from openssl\n");
      assert.equal(got.identity, "demo");
      server.send(got.peer, Buffer.from("hello from coaps-edge\n"));
      await client.waitFor(/hello from coaps-edge/);

      client.endInput(); // s_client sends close_notify and exits
      assert.equal(await closed, "peer_close_notify");
      assert.equal(server.sessionCount, 0);
    } finally {
      await client.kill();
      await server.close();
    }
  });

  test(`our DtlsClient → openssl s_server: ${suite.name}, data both ways`, async (t) => {
    const bin = requireOpenssl(t);
    if (!bin) return;
    const port = await freeUdpPort();
    const srv = new OpensslProcess(bin, [
      "s_server", "-dtls1_2", "-psk", PSK_HEX, "-psk_hint", "CoAP", "-nocert", "-cipher", cipherArg(suite.openssl),
      "-accept", `127.0.0.1:${port}`,
    ]);
    try {
      await srv.waitFor(/ACCEPT/);
      const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
      const client = await DtlsClient.connect(udp, { address: "127.0.0.1", port, family: "IPv4" }, {
        psk: { identity: "demo", key: KEY },
        cipherSuites: [suite.id],
        sni: "localhost",
        handshakeTimeoutMs: 5000,
      });
      const info = client.sessionInfo()!;
      t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}), EMS ${info.extendedMasterSecret}`);
      assert.equal(info.cipherSuite.id, suite.id);
      assert.equal(info.pskIdentityHint, "CoAP");
      await srv.waitFor(new RegExp(`CIPHER is ${suite.openssl}\\b`));

      client.send(client.server, Buffer.from("hello from coaps-edge\n"));
      await srv.waitFor(/hello from coaps-edge/);
      const got = next<string>((cb) => (client.onDatagram = (d) => cb(Buffer.from(d).toString())));
      srv.write("hello from openssl\n");
      assert.equal(await got, "hello from openssl\n");

      await client.close(); // close_notify: s_server prints DONE when it reads one
      await srv.waitFor(/^DONE$/m);
    } finally {
      await srv.kill();
    }
  });
}

test("openssl s_client with the wrong key: our server answers bad_record_mac, both sides fail", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const { server, port } = await startServer();
  const failed = next<DtlsError>((cb) => (server.onHandshakeFailed = (_p, e) => cb(e)));
  const client = new OpensslProcess(bin, [
    "s_client", "-dtls1_2", "-psk", WRONG_HEX, "-psk_identity", "demo", "-cipher", cipherArg("PSK-AES128-CCM8"),
    "-connect", `127.0.0.1:${port}`,
  ]);
  try {
    const err = await failed;
    assert.equal(err.code, "bad_record_mac");
    await client.waitFor(/alert bad record mac/);
    assert.notEqual(await client.exited, 0);
    assert.equal(server.sessionCount + server.halfOpenCount, 0);
    t.diagnostic(`server: ${err.message}`);
  } finally {
    await client.kill();
    await server.close();
  }
});

test("openssl s_client with an unknown identity: unknown_psk_identity", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const { server, port } = await startServer();
  const failed = next<DtlsError>((cb) => (server.onHandshakeFailed = (_p, e) => cb(e)));
  const client = new OpensslProcess(bin, [
    "s_client", "-dtls1_2", "-psk", PSK_HEX, "-psk_identity", "nobody", "-cipher", cipherArg("PSK-AES128-CCM8"),
    "-connect", `127.0.0.1:${port}`,
  ]);
  try {
    assert.equal((await failed).code, "unknown_psk_identity");
    await client.waitFor(/alert unknown psk identity/);
  } finally {
    await client.kill();
    await server.close();
  }
});

test("our DtlsClient with the wrong key against openssl s_server: fails with handshake_timeout (OpenSSL drops the bad Finished silently)", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const port = await freeUdpPort();
  const srv = new OpensslProcess(bin, [
    "s_server", "-dtls1_2", "-psk", PSK_HEX, "-psk_hint", "CoAP", "-nocert", "-cipher", cipherArg("PSK-AES128-CCM8"),
    "-accept", `127.0.0.1:${port}`,
  ]);
  try {
    await srv.waitFor(/ACCEPT/);
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const err = await DtlsClient.connect(udp, { address: "127.0.0.1", port, family: "IPv4" }, {
      psk: { identity: "demo", key: Buffer.from(WRONG_HEX, "hex") },
      handshakeTimeoutMs: 2500,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await udp.close();
    assert.ok(err instanceof DtlsError);
    assert.equal(err.code, "handshake_timeout");
    assert.doesNotMatch(srv.output, /CIPHER is/, "OpenSSL never completed the handshake");
    t.diagnostic("OpenSSL discards records that fail to authenticate (RFC 6347 §4.1.2.7) without an alert; our client times out");
  } finally {
    await srv.kill();
  }
});

test("renegotiation is refused: s_client's 'R' gets no_renegotiation (RFC 5746), and OpenSSL then aborts", async (t) => {
  const bin = requireOpenssl(t);
  if (!bin) return;
  const { server, port } = await startServer();
  const established = next<SessionInfo>((cb) => (server.onSessionEstablished = (_p, info) => cb(info)));
  const closed = next<[CloseReason, DtlsError | undefined]>((cb) => (server.onSessionClosed = (_p, r, e) => cb([r, e])));
  const client = new OpensslProcess(bin, [
    "s_client", "-dtls1_2", "-psk", PSK_HEX, "-psk_identity", "demo", "-cipher", cipherArg("PSK-AES128-CCM8"),
    "-connect", `127.0.0.1:${port}`,
  ]);
  try {
    await established;
    const alertsBefore = server.stats.alertsSent;
    client.write("R\n"); // s_client: renegotiate
    await client.waitFor(/RENEGOTIATING/);
    await client.waitFor(/no renegotiation/);
    const [reason, err] = await closed;
    assert.equal(server.stats.alertsSent, alertsBefore + 1, "one no_renegotiation warning");
    assert.equal(reason, "fatal_alert");
    assert.ok(err?.isPeerAlert("handshake_failure"), err?.message);
  } finally {
    await client.kill();
    await server.close();
  }
});
