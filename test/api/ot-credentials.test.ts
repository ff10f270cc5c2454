/**
 * Parity rows "SetPsk", "SetCertificate / SetCaCertificateChain", "SetSslAuthMode" and
 * "GetPeerCertificateBase64": which credentials lead to which cipher suite, what is verified,
 * and the error values. CoapSecure ↔ CoapSecure over real UDP on loopback.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { CoapSecure, OtError, coapDtlsPkiIsSupported } from "../../edge-agent/src/api/index.js";
import { generateTestPki } from "../../edge-agent/src/pki/index.js";
import { EventLog, FAST, IDENTITY, PSK, connectTo, request, startAgent, text } from "./helpers.js";

const agents: CoapSecure[] = [];
after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
});
async function agent(...args: Parameters<typeof startAgent>): Promise<CoapSecure> {
  const a = await startAgent(...args);
  agents.push(a);
  return a;
}
const otError = (code: OtError["code"]) => (e: unknown) => e instanceof OtError && e.code === code;

/** A server answering /who with the identity DTLS authenticated. */
function whoResource(server: CoapSecure): void {
  server.addResource({
    uriPath: "who",
    handler: (req, info) => server.sendResponse({ code: "2.05", payload: `${req.identity.kind}:${req.identity.identity ?? ""}` }, info),
  });
}

describe("otCoapSecureSetPsk", () => {
  it("connects with TLS_PSK_WITH_AES_128_CCM_8 and the server sees the identity", async () => {
    const server = await agent();
    whoResource(server);
    const client = await agent({}, false);
    client.setPsk(new TextEncoder().encode(PSK), new TextEncoder().encode(IDENTITY)); // bytes, as the C API takes
    assert.equal((await connectTo(client, server)).event, "Connected");
    const suites = client.sessions().map((s) => s.cipherSuite.name);
    assert.deepEqual(suites, ["TLS_PSK_WITH_AES_128_CCM_8"]);
    const r = await request(client, { path: "who" });
    assert.equal(text(r.response?.payload), `psk:${IDENTITY}`);
  });

  it("an empty key or identity is InvalidArgs", () => {
    const a = new CoapSecure(FAST);
    assert.throws(() => a.setPsk("", IDENTITY), otError("InvalidArgs"));
    assert.throws(() => a.setPsk(PSK, new Uint8Array(0)), otError("InvalidArgs"));
  });

  it("a new PSK applies to the next handshake of a running server", async () => {
    const server = await agent();
    server.setPsk("second-key", "device-2");
    const oldClient = await agent();
    assert.equal((await connectTo(oldClient, server)).event, "DisconnectedError");
    const newClient = await agent({}, false);
    newClient.setPsk("second-key", "device-2");
    assert.equal((await connectTo(newClient, server)).event, "Connected");
  });

  it("gateway extension: setPskCredentials serves many identities", async () => {
    const server = await agent({}, false);
    const keys = new Map([
      ["dev-a", new TextEncoder().encode("key-a")],
      ["dev-b", new TextEncoder().encode("key-b")],
    ]);
    server.setPskCredentials({ lookup: (identity) => keys.get(identity) });
    whoResource(server);
    for (const id of ["dev-a", "dev-b"]) {
      const c = await agent({}, false);
      c.setPsk(`key-${id.slice(-1)}`, id);
      assert.equal((await connectTo(c, server)).event, "Connected");
      assert.equal(text((await request(c, { path: "who" })).response?.payload), `psk:${id}`);
    }
  });
});

describe("otCoapSecureSetCertificate / SetCaCertificateChain / SetSslAuthMode / GetPeerCertificateBase64", () => {
  const pki = coapDtlsPkiIsSupported() ? generateTestPki({ devices: 1 }) : undefined;
  const other = coapDtlsPkiIsSupported() ? generateTestPki({ caCommonName: "someone else's CA", devices: 1 }) : undefined;
  const skip = pki ? false : "the DTLS engine has no ECDHE_ECDSA yet";

  /** A certificate server (CN localhost) and a device client, both trusting `pki.ca`. */
  async function certPair(opts: { serverVerify?: boolean; clientVerify?: boolean; clientPki?: typeof pki } = {}) {
    if (!pki || !pki.server) throw new Error("no pki");
    const server = new CoapSecure(FAST);
    agents.push(server);
    server.setCertificate(pki.server.chainPem, pki.server.keyPem);
    server.setCaCertificateChain(pki.ca.cert.pem);
    if (opts.serverVerify !== undefined) server.setSslAuthMode(opts.serverVerify);
    whoResource(server);
    await server.start(0);
    const client = new CoapSecure(FAST);
    agents.push(client);
    const device = (opts.clientPki ?? pki).devices[0];
    if (!device) throw new Error("no device");
    client.setCertificate(device.chainPem, device.keyPem);
    client.setCaCertificateChain(pki.ca.cert.pem);
    if (opts.clientVerify !== undefined) client.setSslAuthMode(opts.clientVerify);
    await client.start(0);
    return { server, client, device };
  }

  it("mutual certificates: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, the peer certificates in base64", { skip }, async () => {
    const { server, client, device } = await certPair();
    const log = new EventLog();
    assert.equal((await connectTo(client, server, log)).event, "Connected");
    assert.deepEqual(
      client.sessions().map((s) => s.cipherSuite.name),
      ["TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"],
    );
    assert.equal(text((await request(client, { path: "who" })).response?.payload), `x509:${device.commonName}`);
    // The client sees the server's leaf; the server sees the device's (by its peer).
    const serverB64 = client.getPeerCertificateBase64();
    assert.equal(serverB64, Buffer.from(pki?.server?.cert.der ?? []).toString("base64"));
    const deviceB64 = server.getPeerCertificateBase64(undefined, { address: "127.0.0.1", port: client.local?.port ?? 0 });
    assert.equal(deviceB64, Buffer.from(device.cert.der).toString("base64"));
    // aCertBufferSize: the text and its NUL must fit (mbedtls_base64_encode).
    assert.equal(client.getPeerCertificateBase64(serverB64.length + 1), serverB64);
    assert.throws(() => client.getPeerCertificateBase64(serverB64.length), otError("NoBufs"));
    assert.throws(() => client.getPeerCertificateBase64(16), otError("NoBufs"));
  });

  it("bad PEM, or a key that does not belong to the certificate, is InvalidArgs", { skip }, () => {
    const a = new CoapSecure(FAST);
    assert.throws(() => a.setCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", pki?.server?.keyPem ?? ""), otError("InvalidArgs"));
    assert.throws(() => a.setCertificate(pki?.server?.chainPem ?? "", pki?.devices[0]?.keyPem ?? ""), otError("InvalidArgs"));
    assert.throws(() => a.setCaCertificateChain("not pem"), otError("InvalidArgs"));
  });

  it("verify on (default): a server certificate from an unknown CA fails the handshake", { skip }, async () => {
    if (!other?.server) return;
    const { client } = await certPair();
    const stranger = new CoapSecure(FAST);
    agents.push(stranger);
    stranger.setCertificate(other.server.chainPem, other.server.keyPem);
    stranger.setSslAuthMode(false);
    await stranger.start(0);
    const e = await connectTo(client, stranger);
    assert.equal(e.event, "DisconnectedError");
    assert.ok(e.session.error);
  });

  it("setSslAuthMode(false) on the client accepts that server; on the server it accepts an unknown device", { skip }, async () => {
    if (!other?.server) return;
    const stranger = new CoapSecure(FAST);
    agents.push(stranger);
    stranger.setCertificate(other.server.chainPem, other.server.keyPem);
    stranger.setSslAuthMode(false);
    whoResource(stranger);
    await stranger.start(0);
    const { client } = await certPair({ clientVerify: false });
    assert.equal((await connectTo(client, stranger)).event, "Connected");
    // Server side: a device certificate from another CA.
    const { server: lenient, client: foreign } = await certPair({ serverVerify: false, clientPki: other });
    assert.equal((await connectTo(foreign, lenient)).event, "Connected");
    const { server: strict, client: foreign2 } = await certPair({ serverVerify: true, clientPki: other });
    assert.equal((await connectTo(foreign2, strict)).event, "DisconnectedError");
  });

  it("setSslAuthMode after start is InvalidState", async () => {
    const a = await agent();
    assert.throws(() => a.setSslAuthMode(false), otError("InvalidState"));
    await a.stop();
    a.setSslAuthMode(false); // allowed again once stopped
  });

  it("getPeerCertificateBase64 is InvalidState before a session and on a PSK session", async () => {
    const server = await agent();
    const client = await agent();
    assert.throws(() => client.getPeerCertificateBase64(), otError("InvalidState"));
    assert.equal((await connectTo(client, server)).event, "Connected");
    assert.throws(() => client.getPeerCertificateBase64(4096), otError("InvalidState"));
    assert.throws(() => server.getPeerCertificateBase64(4096, { address: "127.0.0.1", port: 1 }), otError("InvalidState"));
  });

  it("setCertificate is NotImplemented only while the engine lacks ECDHE_ECDSA", () => {
    const a = new CoapSecure(FAST);
    if (coapDtlsPkiIsSupported()) return;
    assert.throws(() => a.setCertificate("x", "y"), otError("NotImplemented"));
  });
});
