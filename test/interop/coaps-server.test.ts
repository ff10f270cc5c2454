/**
 * Interop: our agent's coaps:// listener (DtlsServer over UDP, PSK, the embedded cloud behind
 * it as `npm start` runs it) ← libcoap's coap-client-openssl and coap-client-gnutls with
 * `-u/-k`. Each case records the negotiated cipher suite from the agent's DtlsServer
 * (onSessionEstablished). libcoap's clients prefer ECDHE-PSK-CHACHA20, which we do not offer;
 * they settle on TLS_PSK_WITH_AES_128_CCM_8, CoAP's mandatory suite (RFC 7252 §9.1.3.1).
 *
 * coap-client exits 0 even when the handshake fails: every check is on its output.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { AgentConfigSchema, Code } from "@coaps-edge/shared";
import { largeText } from "../../cloud/resources/large.js";
import { createAgent, type Agent } from "../../edge-agent/src/agent.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { dtlsEndpointFactory } from "../../edge-agent/src/dtls-connector.js";
import { DtlsServer, recordOverhead, cipherSuiteById, type SessionInfo } from "../../edge-agent/src/dtls/index.js";
import { DEFAULT_MTU, IP_UDP_OVERHEAD } from "../../edge-agent/src/transport/udp.js";
import { requireBinary, run, type LibcoapBinary } from "../helpers/libcoap.js";

const IDENTITY = "demo";
const KEY = "demo-secret-psk";
const CLIENTS: readonly LibcoapBinary[] = ["coap-client-openssl", "coap-client-gnutls"];

describe("our agent (coaps://, PSK) ← libcoap clients", () => {
  let agent: Agent;
  let dtls: DtlsServer;
  let base: string;
  let dir: string;
  const sessions: SessionInfo[] = [];

  before(async () => {
    const config = AgentConfigSchema.parse({
      listen: { port: 0 },
      coaps: { enabled: true, port: 0, psk: [{ identity: IDENTITY, key: KEY }] },
      logging: { level: "silent" },
    });
    agent = await createAgent(config, { coapsListener: dtlsListener() });
    const ep = agent.endpoints.find((e) => e instanceof DtlsServer);
    assert.ok(ep instanceof DtlsServer);
    dtls = ep;
    dtls.onSessionEstablished = (_peer, info) => void sessions.push(info);
    // A local resource answering with what the DTLS layer authenticated (req.identity).
    agent.server.addResource("/peer", { get: (req) => ({ code: Code.Content, payload: `${req.identity.kind} ${req.identity.identity ?? ""}` }) });
    base = agent.urls.find((u) => u.startsWith("coaps://"))!;
    dir = await mkdtemp(join(tmpdir(), "coaps-server-"));
  });

  after(async () => {
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs coap-client with -B and `args`; asserts that exactly the sessions it made negotiated
   * CCM_8 with our identity, and reports the suite.
   */
  async function client(t: TestContext, bin: string, args: readonly string[], creds: readonly string[] = ["-u", IDENTITY, "-k", KEY]) {
    const before = sessions.length;
    const r = await run(bin, ["-B", "10", ...creds, ...args], { timeoutMs: 30_000 });
    assert.equal(r.timedOut, false, `${bin} hung: ${args.join(" ")}`);
    const made = sessions.slice(before);
    return {
      out: r.stdout.toString("utf8"),
      err: r.stderr.toString("utf8"),
      made,
      expectSession() {
        assert.ok(made.length >= 1, `no DTLS session from ${bin}: ${r.stderr.toString()}`);
        for (const s of made) {
          assert.equal(s.cipherSuite.name, "TLS_PSK_WITH_AES_128_CCM_8");
          assert.equal(s.pskIdentity, IDENTITY);
          assert.equal(s.identity.kind, "psk");
        }
        const s = made[0]!;
        t.diagnostic(`${bin}: ${s.cipherSuite.name} (0x${s.cipherSuite.id.toString(16)}), EMS ${s.extendedMasterSecret}, hint ${s.pskIdentityHint}, sni ${s.sni}`);
      },
    };
  }

  for (const name of CLIENTS) {
    describe(name, () => {
      it("GET /hello", async (t) => {
        const bin = requireBinary(t, name);
        if (!bin) return;
        const r = await client(t, bin, [`${base}/hello`]);
        assert.equal(r.out, "Hello from coaps-edge\n", r.err);
        r.expectSession();
      });

      it("PUT /echo", async (t) => {
        const bin = requireBinary(t, name);
        if (!bin) return;
        const r = await client(t, bin, ["-m", "put", "-e", `over DTLS from ${name}`, `${base}/echo`]);
        assert.equal(r.out, `over DTLS from ${name}\n`, r.err);
        r.expectSession();
      });

      it("GET /large block-wise with -b 64: the exact 16 KiB", async (t) => {
        const bin = requireBinary(t, name);
        if (!bin) return;
        const out = join(dir, `large-${name}`);
        const r = await client(t, bin, ["-b", "64", "-o", out, `${base}/large`]);
        const body = await readFile(out, "utf8");
        assert.equal(body.length, 16384, r.err);
        assert.equal(body, largeText());
        r.expectSession();
      });

      it("PUT 10 KiB to /echo block-wise (Block1, -b 64): echoed whole", async (t) => {
        const bin = requireBinary(t, name);
        if (!bin) return;
        const body = Buffer.from(Array.from({ length: 10 * 1024 }, (_, i) => (i * 13 + (i >> 7)) & 0xff));
        const file = join(dir, `ten-${name}.bin`);
        const out = join(dir, `ten-${name}.out`);
        await writeFile(file, body);
        const r = await client(t, bin, ["-m", "put", "-b", "64", "-f", file, "-o", out, `${base}/echo`]);
        assert.deepEqual(await readFile(out), body, r.err);
        r.expectSession();
      });

      it("the PSK identity reaches the handlers: a local resource (req.identity) and the cloud's /whoami", async (t) => {
        const bin = requireBinary(t, name);
        if (!bin) return;
        const local = await client(t, bin, [`${base}/peer`]);
        assert.equal(local.out, `psk ${IDENTITY}\n`, local.err);
        local.expectSession();
        const cloudHasWhoami = (await agent.cloud.links()).some((l) => l.href === "/whoami");
        if (!cloudHasWhoami) return t.diagnostic("the cloud registry has no /whoami: checked req.identity only");
        const who = await client(t, bin, [`${base}/whoami`]);
        assert.equal(who.out, `psk ${IDENTITY}\n`, who.err);
      });
    });
  }

  it("MTU 1152 by default: the CoAP max PDU is 1152 − IP/UDP − the CCM_8 record overhead (1075)", async () => {
    const client = new CoapClient({ endpointFactory: dtlsEndpointFactory({ psk: { identity: IDENTITY, key: new TextEncoder().encode(KEY) } }) });
    try {
      const res = await client.get(`${base}/hello`, { timeoutMs: 5000 });
      assert.equal(res.code, Code.Content);
      const ours = client.layers[0]!.endpoint.local.port;
      const session = dtls.sessions().find((s) => s.peer.port === ours);
      assert.ok(session);
      const overhead = recordOverhead(cipherSuiteById(session.cipherSuite.id)!);
      assert.equal(overhead, 13 + 8 + 8); // record header, explicit nonce, 8-byte tag
      assert.equal(dtls.maxMessageSize(session.peer), DEFAULT_MTU - IP_UDP_OVERHEAD - overhead);
      assert.equal(dtls.maxMessageSize(session.peer), 1075);
    } finally {
      await client.close();
    }
  });

  describe("failed handshakes (coap-client-openssl)", () => {
    it("a wrong key: bad_record_mac on both sides, counted, and the agent keeps serving", async (t) => {
      const bin = requireBinary(t, "coap-client-openssl");
      if (!bin) return;
      const failed = dtls.stats.handshakesFailed;
      const r = await client(t, bin, [`${base}/hello`], ["-u", IDENTITY, "-k", "not-the-key"]);
      // libcoap logs to stdout: the alert is there, the response is not.
      assert.doesNotMatch(r.out, /Hello from coaps-edge/);
      assert.match(r.out + r.err, /alert.*bad record mac/i);
      assert.equal(r.made.length, 0);
      assert.equal(dtls.stats.handshakesFailed, failed + 1);
      const ok = await client(t, bin, [`${base}/hello`]);
      assert.equal(ok.out, "Hello from coaps-edge\n");
      ok.expectSession();
    });

    it("an unknown identity: unknown_psk_identity, counted, and the agent keeps serving", async (t) => {
      const bin = requireBinary(t, "coap-client-openssl");
      if (!bin) return;
      const failed = dtls.stats.handshakesFailed;
      const r = await client(t, bin, [`${base}/hello`], ["-u", "stranger", "-k", KEY]);
      assert.doesNotMatch(r.out, /Hello from coaps-edge/);
      assert.match(r.out + r.err, /alert.*unknown PSK identity/i);
      assert.equal(r.made.length, 0);
      assert.equal(dtls.stats.handshakesFailed, failed + 1);
      const ok = await client(t, bin, [`${base}/hello`]);
      assert.equal(ok.out, "Hello from coaps-edge\n");
      ok.expectSession();
    });

    it("coap-client-gnutls with a wrong key and an unknown identity fails too (GnuTLS alert texts)", async (t) => {
      const bin = requireBinary(t, "coap-client-gnutls");
      if (!bin) return;
      const failed = dtls.stats.handshakesFailed;
      const bad = await client(t, bin, [`${base}/hello`], ["-u", IDENTITY, "-k", "not-the-key"]);
      assert.match(bad.out + bad.err, /Alert '20': Bad record MAC/i);
      const unknown = await client(t, bin, [`${base}/hello`], ["-u", "stranger", "-k", KEY]);
      assert.match(unknown.out + unknown.err, /Alert '115'/);
      assert.doesNotMatch(bad.out + unknown.out, /Hello from coaps-edge/);
      assert.equal(bad.made.length + unknown.made.length, 0);
      assert.equal(dtls.stats.handshakesFailed, failed + 2);
    });
  });
});
