/**
 * The DTLS engine with certificates against libcoap 4.3.1's own tools, at the DTLS level (the
 * agent's CoAP-level tests are elsewhere): `coap-client-{openssl,gnutls} -c -j -C` complete the
 * handshake with our DtlsServer and their GET arrives as plaintext from an x509 identity (we
 * answer it by hand); our DtlsClient completes it with `coap-server-{openssl,gnutls} -c -j -C`
 * and GETs /time. The negotiated suite and group are recorded.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Code, decodeMessage, encodeMessage, getUriPath, MessageType, Method, OptionNumber } from "@coaps-edge/shared";
import { DtlsClient, DtlsServer, type SessionInfo } from "../../edge-agent/src/dtls/index.js";
import { loadCredentials, loadTrustStore } from "../../edge-agent/src/pki/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { freeUdpPortPair, requireBinary, run, start } from "../helpers/libcoap.js";
import { writeTempPki } from "../helpers/pki.js";

let files: ReturnType<typeof writeTempPki>;
before(() => (files = writeTempPki({ devices: 1 })));
after(() => files.remove());

const pkiFlags = (who: "server" | "device-001") => ["-c", files.file(`${who}.crt`), "-j", files.file(`${who}.key`), "-C", files.file("ca.crt")];

for (const tls of ["openssl", "gnutls"] as const) {
  test(`coap-client-${tls} with a device certificate → our DtlsServer (verifyPeer): handshake, GET arrives from device-001`, async (t) => {
    const bin = requireBinary(t, `coap-client-${tls}`);
    if (!bin) return;
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const server = new DtlsServer(udp, {
      pki: {
        credentials: loadCredentials({ path: files.file("server.crt") }, { path: files.file("server.key") }),
        trust: loadTrustStore({ path: files.file("ca.crt") }),
        verifyPeer: true,
      },
    });
    t.after(() => server.close());
    let info: SessionInfo | undefined;
    server.onSessionEstablished = (_p, i) => void (info = i);
    const requests: string[] = [];
    server.onDatagram = (data, peer, identity) => {
      const req = decodeMessage(data);
      requests.push(`${identity.kind}:${identity.identity}:${getUriPath(req).join("/")}`);
      const res = { type: MessageType.ACK, code: Code.Content, messageId: req.messageId, token: req.token, options: [], payload: Buffer.from("world") };
      server.send(peer, encodeMessage(res));
    };
    const r = await run(bin, ["-B", "3", ...pkiFlags("device-001"), `coaps://127.0.0.1:${udp.local.port}/hello`], { timeoutMs: 10_000 });
    const out = r.stdout.toString() + r.stderr.toString();
    assert.ok(info, `handshake did not complete: ${out}`);
    t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}) on ${info.ecdheGroup}, EMS ${info.extendedMasterSecret}`);
    assert.equal(info.cipherSuite.name, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
    assert.deepEqual(requests, ["x509:device-001:hello"]);
    assert.match(out, /world/, "coap-client printed our response"); // exit status is 0 even on failure
  });

  test(`our DtlsClient with a device certificate → coap-server-${tls} -c -j -C: GET /time`, async (t) => {
    const bin = requireBinary(t, `coap-server-${tls}`);
    if (!bin) return;
    const port = await freeUdpPortPair(); // DTLS listens on port + 1
    const srv = start(bin, ["-A", "127.0.0.1", "-p", String(port), ...pkiFlags("server")]);
    t.after(() => srv.stop());
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    t.after(() => udp.close());
    const client = await DtlsClient.connect(udp, { address: "127.0.0.1", port: port + 1, family: "IPv4" }, {
      pki: {
        credentials: loadCredentials({ path: files.file("device-001.crt") }, { path: files.file("device-001.key") }),
        trust: loadTrustStore({ path: files.file("ca.crt") }),
      },
      handshakeTimeoutMs: 5000,
      // The server prints no readiness line: a ClientHello sent before it listens is re-sent.
      retransmit: { initialMs: 200 },
    });
    const info = client.sessionInfo()!;
    t.diagnostic(`negotiated ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16)}) on ${info.ecdheGroup}, EMS ${info.extendedMasterSecret}`);
    assert.equal(info.identity.identity, "localhost");
    const answer = new Promise<Uint8Array>((resolve) => (client.onDatagram = (d) => resolve(Uint8Array.from(d))));
    const token = Uint8Array.of(7, 7);
    client.send(
      client.server,
      encodeMessage({
        type: MessageType.CON,
        code: Method.GET,
        messageId: 0x1234,
        token,
        options: [{ number: OptionNumber.UriPath, value: Buffer.from("time") }],
        payload: new Uint8Array(0),
      }),
    );
    const res = decodeMessage(await answer);
    assert.equal(res.code, Code.Content);
    assert.deepEqual(res.token, token);
    assert.ok(res.payload.length > 0, "the time");
    t.diagnostic(`/time: ${Buffer.from(res.payload).toString()}`);
    await client.close();
  });
}
