/**
 * The agent's coaps:// listener built from `config.coaps` (dtls-listener.ts): libcoap's PSK
 * lookup order, key encodings, cipher suite names, limits and MTU reaching the DtlsServer, and
 * typed errors for unusable settings. Over real UDP on loopback, our own DtlsClient as the peer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentConfigSchema, type AgentConfigInput } from "@coaps-edge/shared";
import { AgentError } from "../../edge-agent/src/agent.js";
import { cipherSuiteIds, decodePskKey, dtlsListener, pskCredentials } from "../../edge-agent/src/dtls-listener.js";
import { DtlsClient, DtlsServer } from "../../edge-agent/src/dtls/index.js";
import { IP_UDP_OVERHEAD, UdpEndpoint } from "../../edge-agent/src/transport/udp.js";

const enc = new TextEncoder();
const coaps = (c: AgentConfigInput["coaps"]) => AgentConfigSchema.parse({ listen: { port: 0 }, coaps: { enabled: true, port: 0, ...c } });

describe("coaps listener from the config", () => {
  it("PSK lookup as libcoap's coap-server: -i lines for our hint, the table, then -k for anyone", () => {
    const creds = pskCredentials(
      coaps({
        hint: "Gateway",
        psk: [
          { identity: "a", key: "for-other-hint", hint: "Other" },
          { identity: "a", key: "key-a", hint: "Gateway" },
          { identity: "b", key: "6b2d62", keyEncoding: "hex" },
        ],
        defaultPsk: { key: "shared" },
      }).coaps,
    )!;
    assert.equal(creds.hint, "Gateway");
    assert.deepEqual(creds.lookup("a", undefined), enc.encode("key-a"));
    assert.deepEqual(creds.lookup("b", undefined), enc.encode("k-b"));
    assert.deepEqual(creds.lookup("anyone", undefined), enc.encode("shared"));

    const strict = pskCredentials(coaps({ hint: "", psk: [{ identity: "x", key: "eA==", keyEncoding: "base64" }] }).coaps)!;
    assert.equal(strict.hint, undefined, '"" sends no hint (no ServerKeyExchange)');
    assert.deepEqual(strict.lookup("x", undefined), enc.encode("x"));
    assert.equal(strict.lookup("y", undefined), undefined, "unknown identity without -k: unknown_psk_identity");
    assert.equal(pskCredentials({ psk: [], hint: "CoAP" }), undefined);
  });

  it("rejects keys that are not what their encoding says, and suites the engine lacks", () => {
    assert.throws(() => decodePskKey("abc", "hex"), (e: unknown) => e instanceof AgentError && e.code === "config-invalid");
    assert.throws(() => decodePskKey("not base64!", "base64"), AgentError);
    assert.deepEqual(cipherSuiteIds(["TLS_PSK_WITH_AES_128_GCM_SHA256", "TLS_PSK_WITH_AES_128_CCM_8"]), [0x00a8, 0xc0a8]);
    assert.equal(cipherSuiteIds(undefined), undefined);
  });

  it("binds, serves with the configured suite and MTU, and reports the negotiated session", async () => {
    const config = coaps({ psk: [{ identity: "dev", key: "k" }], mtu: 400, cipherSuites: ["TLS_PSK_WITH_AES_128_GCM_SHA256"], maxSessions: 5 });
    const server = await dtlsListener()(config);
    assert.ok(server instanceof DtlsServer);
    const udp = await UdpEndpoint.bind({ port: 0 });
    try {
      const client = await DtlsClient.connect(udp, { address: "127.0.0.1", port: server.local.port, family: "IPv4" }, { psk: { identity: "dev", key: enc.encode("k") }, handshakeTimeoutMs: 5000 });
      const info = client.sessionInfo()!;
      assert.equal(info.cipherSuite.name, "TLS_PSK_WITH_AES_128_GCM_SHA256");
      assert.equal(info.pskIdentityHint, "CoAP", "libcoap's default hint");
      const session = server.sessions()[0]!;
      // 400-byte MTU − IP/UDP − (13-byte header + 8-byte nonce + 16-byte GCM tag).
      assert.equal(server.maxMessageSize(session.peer), 400 - IP_UDP_OVERHEAD - 37);
      await client.close();
    } finally {
      await server.close();
    }
  });

  it("logs session events only at levels that are on (no log object built per session otherwise)", async () => {
    const config = coaps({ psk: [{ identity: "dev", key: "k" }] });
    for (const enabled of [["info", "warn", "debug"], ["warn"]]) {
      const calls: string[] = [];
      const logger = {
        isLevelEnabled: (level: string) => enabled.includes(level),
        info: (_o: object, msg?: string) => void calls.push(`info ${msg}`),
        warn: (_o: object, msg?: string) => void calls.push(`warn ${msg}`),
        error: (_o: object, msg?: string) => void calls.push(`error ${msg}`),
        debug: (_o: object, msg?: string) => void calls.push(`debug ${msg}`),
      };
      const server = await dtlsListener({ logger })(config);
      const udp = await UdpEndpoint.bind({ port: 0 });
      try {
        const target = { address: "127.0.0.1", port: server.local.port, family: "IPv4" as const };
        const client = await DtlsClient.connect(udp, target, { psk: { identity: "dev", key: enc.encode("k") }, handshakeTimeoutMs: 5000 });
        await client.close();
        const bad = await UdpEndpoint.bind({ port: 0 });
        try {
          await assert.rejects(DtlsClient.connect(bad, target, { psk: { identity: "dev", key: enc.encode("wrong") }, handshakeTimeoutMs: 5000 }));
        } finally {
          await bad.close();
        }
        for (let i = 0; i < 50 && !calls.some((c) => c.startsWith("debug")) && enabled.includes("debug"); i++) await new Promise((r) => setTimeout(r, 10));
        const expected = enabled.length === 3 ? ["info dtls session established", "debug dtls session closed"] : [];
        assert.deepEqual(calls.filter((c) => !c.startsWith("warn")), expected, `levels ${enabled.join(",")}`);
        assert.ok(calls.some((c) => c.startsWith("warn dtls handshake failed")), "warn is on in both: the failed handshake is logged");
      } finally {
        await udp.close();
        await server.close();
      }
    }
  });

  it("fails with typed errors: a busy port (bind-failed), an unreadable certificate (config-invalid)", async () => {
    const busy = await UdpEndpoint.bind({ port: 0 });
    try {
      const config = AgentConfigSchema.parse({ listen: { port: 0 }, coaps: { enabled: true, port: busy.local.port, defaultPsk: { key: "k" } } });
      await assert.rejects(dtlsListener()(config), (e: unknown) => e instanceof AgentError && e.code === "bind-failed");
    } finally {
      await busy.close();
    }
    const noCert = coaps({ pki: { cert: "/nonexistent/server.crt" } });
    await assert.rejects(dtlsListener()(noCert), (e: unknown) => e instanceof AgentError && e.code === "config-invalid" && /coaps\.pki/.test(e.message));
  });

  it("the config needs credentials when coaps is on, and a CA for verifyPeer", () => {
    const r = AgentConfigSchema.safeParse({ coaps: { enabled: true, pki: { cert: "s.crt", verifyPeer: true } } });
    assert.ok(!r.success);
    assert.deepEqual(r.error.issues.map((i) => i.path.join(".")), ["coaps.pki.verifyPeer"]);
    assert.ok(AgentConfigSchema.safeParse({ coaps: { enabled: true, defaultPsk: { key: "k" } } }).success);
    assert.ok(AgentConfigSchema.safeParse({ coaps: { enabled: true, pki: { cert: "s.crt" } } }).success);
    assert.equal(AgentConfigSchema.parse({ listen: { mtu: 1280 } }).coaps.mtu, 1280, "coaps.mtu defaults to listen.mtu");
  });
});
