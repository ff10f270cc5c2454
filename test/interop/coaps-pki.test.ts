/**
 * Interop with certificates (TLS_ECDHE_ECDSA_*), the test PKI made by `coaps-edge certs`:
 *   - our agent (coaps.pki: server cert, CA, client certificates required; a PSK next to it)
 *     ← coap-client-openssl / coap-client-gnutls with a device certificate (-c -j -C):
 *     GET /hello, /whoami (the certificate CN reaches the handler), block-wise GET /large;
 *   - our client (CLI -c -j -C, and CoapClient over DtlsClient) → coap-server-openssl /
 *     coap-server-gnutls with the server certificate and -C: GET /time.
 * The negotiated suite is recorded in the test output.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { AgentConfigSchema, Code } from "@coaps-edge/shared";
import { largeText } from "../../cloud/resources/large.js";
import { createAgent, type Agent } from "../../edge-agent/src/agent.js";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { dtlsEndpointFactory } from "../../edge-agent/src/dtls-connector.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import { DtlsError, DtlsServer, type SessionInfo } from "../../edge-agent/src/dtls/index.js";
import { loadCredentials, loadTrustStore } from "../../edge-agent/src/pki/index.js";
import { findBinary, freeUdpPortPair, type LibcoapBinary, requireBinary, run, type RunningProcess, startLibcoapServer } from "../helpers/libcoap.js";
import { cliInProcessText } from "../helpers/cli.js";

const ECDHE_CCM_8 = "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8";
const TIME = /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}$/;

const cli = cliInProcessText;

let dir = "";
const file = (name: string) => join(dir, name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "coaps-pki-"));
  const r = await cli("certs", "--out", join(dir, "pki"), "--devices", "2");
  assert.equal(r.code, 0, r.stderr);
  dir = join(dir, "pki");
  assert.match(r.stdout, /server\.crt/);
});

after(async () => {
  if (dir) await rm(join(dir, ".."), { recursive: true, force: true });
});

describe("our agent (coaps.pki, client certificates required) ← libcoap clients with a device certificate", { concurrency: true }, () => {
  let agent: Agent;
  let dtls: DtlsServer;
  let base: string;
  const sessions: SessionInfo[] = [];

  before(async () => {
    const config = AgentConfigSchema.parse({
      listen: { port: 0 },
      coaps: {
        enabled: true,
        port: 0,
        psk: [{ identity: "demo", key: "demo-secret-psk" }],
        pki: { cert: file("server.crt"), key: file("server.key"), ca: file("ca.crt") },
      },
      logging: { level: "silent" },
    });
    agent = await createAgent(config, { coapsListener: dtlsListener() });
    const ep = agent.endpoints.find((e) => e instanceof DtlsServer);
    assert.ok(ep instanceof DtlsServer);
    dtls = ep;
    dtls.onSessionEstablished = (_peer, info) => void sessions.push(info);
    base = agent.urls.find((u) => u.startsWith("coaps://"))!;
  });

  after(async () => {
    await agent?.close();
  });

  /** coap-client with a device certificate; returns stdout and the sessions it made (ports identify them). */
  async function client(t: TestContext, bin: string, args: readonly string[], device = "device-001") {
    const port = await freeUdpPortPair();
    const creds = ["-c", file(`${device}.crt`), "-j", file(`${device}.key`), "-C", file("ca.crt")];
    const r = await run(bin, ["-B", "10", "-p", String(port), ...creds, ...args], { timeoutMs: 30_000 });
    assert.equal(r.timedOut, false);
    const made = sessions.filter((s) => s.peer.port === port);
    assert.equal(made.length, 1, `one session from ${bin}: ${r.stdout.toString()}${r.stderr.toString()}`);
    const s = made[0]!;
    t.diagnostic(`${bin}: ${s.cipherSuite.name} (0x${s.cipherSuite.id.toString(16)}), ${s.ecdheGroup}, client CN ${s.identity.identity}, EMS ${s.extendedMasterSecret}`);
    assert.equal(s.cipherSuite.name, ECDHE_CCM_8);
    assert.equal(s.identity.kind, "x509");
    assert.equal(s.identity.identity, device);
    assert.match(s.identity.certificateSha256 ?? "", /^[0-9a-f]{64}$/);
    return r.stdout.toString("utf8");
  }

  for (const name of ["coap-client-openssl", "coap-client-gnutls"] as const satisfies readonly LibcoapBinary[]) {
    it(`${name}: GET /hello and /whoami (x509 <CN>)`, async (t) => {
      const bin = requireBinary(t, name);
      if (!bin) return;
      assert.equal(await client(t, bin, [`${base}/hello`]), "Hello from coaps-edge\n");
      assert.equal(await client(t, bin, [`${base}/whoami`], "device-002"), "x509 device-002\n");
    });

    it(`${name}: block-wise GET /large with -b 64, the exact 16 KiB`, async (t) => {
      const bin = requireBinary(t, name);
      if (!bin) return;
      const out = file(`large-${name}`);
      await client(t, bin, ["-b", "64", "-o", out, `${base}/large`]);
      assert.equal(await readFile(out, "utf8"), largeText());
    });
  }

  it("PSK next to PKI: coap-client-openssl with -u/-k gets a PSK suite from the same listener", async (t) => {
    const bin = requireBinary(t, "coap-client-openssl");
    if (!bin) return;
    const r = await run(bin, ["-B", "10", "-u", "demo", "-k", "demo-secret-psk", `${base}/whoami`], { timeoutMs: 30_000 });
    assert.equal(r.stdout.toString(), "psk demo\n");
  });

  it("a client without a certificate is refused (-C requires one), and counted", async (t) => {
    const bin = requireBinary(t, "coap-client-openssl");
    if (!bin) return;
    const failed = dtls.stats.handshakesFailed;
    const r = await run(bin, ["-B", "5", `${base}/hello`], { timeoutMs: 30_000 });
    assert.doesNotMatch(r.stdout.toString(), /Hello/);
    assert.match(r.stdout.toString() + r.stderr.toString(), /alert/i);
    assert.equal(dtls.stats.handshakesFailed, failed + 1);
  });
});

for (const name of ["coap-server-openssl", "coap-server-gnutls"] as const satisfies readonly LibcoapBinary[]) {
  describe(`our client (certificates) → ${name} -c server.crt -j server.key -C ca.crt`, () => {
    let server: RunningProcess | undefined;
    let base = "";

    before(async () => {
      if (!findBinary(name)) return;
      const { proc: started, port } = await startLibcoapServer(name, ["-c", file("server.crt"), "-j", file("server.key"), "-C", file("ca.crt")]);
      server = started;
      base = `coaps://127.0.0.1:${port + 1}`;
    });

    after(async () => {
      await server?.stop();
    });

    it("the CLI with -c -j -C: GET /time; -v 5 names the suite and the server's CN", async (t) => {
      if (!requireBinary(t, name)) return;
      const r = await cli("get", `${base}/time`, "-c", file("device-001.crt"), "-j", file("device-001.key"), "-C", file("ca.crt"), "-B", "10", "-v", "5");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, TIME);
      const m = /^DTLS 1\.2 (\S+) \(0x[0-9a-f]{4}\) server "localhost" sha256 [0-9a-f]{64} (\S+)$/m.exec(r.stderr);
      assert.ok(m, r.stderr);
      t.diagnostic(`${name}: ${m[1]} ${m[2]}`);
      assert.equal(m[1], ECDHE_CCM_8);
      assert.doesNotMatch(r.stderr, /not verified/);
    });

    it("CoapClient over DtlsClient with certificates: GET /time; a server not matching the URI host is refused", async (t) => {
      if (!requireBinary(t, name)) return;
      const pki = { credentials: loadCredentials({ path: file("device-002.crt") }, { path: file("device-002.key") }), trust: loadTrustStore({ path: file("ca.crt") }) };
      const sessions: SessionInfo[] = [];
      const client = new CoapClient({ endpointFactory: dtlsEndpointFactory({ dtls: { pki, handshakeTimeoutMs: 10_000 }, onConnected: (c) => void sessions.push(c.sessionInfo()!) }) });
      try {
        const res = await client.get(`${base}/time`, { timeoutMs: 10_000 });
        assert.equal(res.code, Code.Content);
        assert.match(Buffer.from(res.payload).toString(), TIME);
        assert.equal(sessions[0]?.cipherSuite.name, ECDHE_CCM_8);
        assert.equal(sessions[0]?.identity.kind, "x509");
        assert.equal(sessions[0]?.identity.identity, "localhost");
      } finally {
        await client.close();
      }
      // The certificate names localhost, 127.0.0.1 and ::1: asked for another host, we refuse it.
      const wrongHost = new CoapClient({ endpointFactory: dtlsEndpointFactory({ dtls: { pki: { ...pki, policy: { host: "device.example" } }, handshakeTimeoutMs: 5000 } }) });
      try {
        await assert.rejects(wrongHost.get(`${base}/time`, { timeoutMs: 5000 }), (e: Error) => e instanceof DtlsError && e.code === "bad_certificate" && /host/.test(e.message));
      } finally {
        await wrongHost.close();
      }
    });
  });
}
