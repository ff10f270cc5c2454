import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { AgentConfigSchema, formatConfigIssues, parseAgentConfig } from "@coaps-edge/shared";
import { AgentError, loadAgentConfig } from "../../edge-agent/src/agent.js";

describe("agent config schema", () => {
  it("defaults everything: {} is a loopback agent on 5683 with coaps on 5684 (off)", () => {
    const r = parseAgentConfig({});
    assert.ok(r.ok);
    assert.deepEqual(r.config.listen, { address: "127.0.0.1", port: 5683, mtu: 1152, enabled: true, recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 1024 * 1024 });
    assert.equal(r.config.coaps.enabled, false);
    assert.equal(r.config.coaps.port, 5684);
    assert.equal(r.config.coaps.address, "127.0.0.1");
    assert.equal(r.config.limits.separateResponseDelayMs, 1000);
    assert.equal(r.config.transmission.ackTimeoutMs, 2000);
    assert.equal(r.config.logging.level, "info");
    assert.equal(r.config.demoResources, false);
  });

  it("puts coaps on listen.port + 1 unless given, and keeps the PSK table", () => {
    const r = AgentConfigSchema.parse({ listen: { port: 7000 }, coaps: { enabled: true, psk: [{ identity: "dev", key: "secret" }], hint: "CoAP" } });
    assert.equal(r.coaps.port, 7001);
    assert.deepEqual(r.coaps.psk, [{ identity: "dev", key: "secret", keyEncoding: "utf8" }]);
    assert.equal(AgentConfigSchema.parse({ coaps: { port: 9999 } }).coaps.port, 9999);
  });

  it("reports every bad field with its path", () => {
    const r = parseAgentConfig({
      listen: { port: 70000, adress: "::" },
      coaps: { enabled: true, psk: [{ identity: "" }] },
      limits: { blockSize: 100, dedupEntries: 1.5 },
      logging: { level: "loud" },
      extra: true,
    });
    assert.ok(!r.ok);
    const byPath = Object.fromEntries(r.issues.map((i) => [i.path, i.message]));
    assert.equal(byPath["listen.port"], "must be at most 65535");
    assert.equal(byPath["listen.adress"], "unrecognized key");
    assert.equal(byPath["coaps.psk.0.identity"], "must not be empty");
    assert.equal(byPath["coaps.psk.0.key"], "expected string");
    assert.match(byPath["limits.blockSize"]!, /one of 16, 32/);
    assert.equal(byPath["limits.dedupEntries"], "must be an integer");
    assert.match(byPath["logging.level"]!, /"debug"/);
    assert.equal(byPath["extra"], "unrecognized key");
    assert.match(formatConfigIssues(r.issues), /^listen\.port: /m);
  });

  it("checks cross-field rules: separate-response delay below ACK_TIMEOUT, credentials for coaps", () => {
    const r = parseAgentConfig({ limits: { separateResponseDelayMs: 2500 }, coaps: { enabled: true } });
    assert.ok(!r.ok);
    assert.deepEqual(r.issues.map((i) => i.path).sort(), ["coaps.psk", "limits.separateResponseDelayMs"]);
    assert.ok(parseAgentConfig({ limits: { separateResponseDelayMs: 2500 }, transmission: { ackTimeoutMs: 3000 } }).ok);
  });

  it("rejects what is not an object", () => {
    for (const v of [null, "x", [], 5]) {
      const r = parseAgentConfig(v);
      assert.ok(!r.ok);
      assert.equal(r.issues[0]?.path, "(root)");
    }
  });

  it("accepts the demo config file", async () => {
    const config = await loadAgentConfig(fileURLToPath(new URL("../../infra/demo/agent.json", import.meta.url)));
    assert.equal(config.listen.address, "127.0.0.1");
    // The demo serves its resources from the embedded cloud registry, not the local demo set.
    assert.equal(config.demoResources, false);
    assert.equal(config.cloud.mode, "embedded");
  });

  it("loadAgentConfig fails with a typed error", async () => {
    await assert.rejects(loadAgentConfig("/nonexistent/agent.json"), (e: unknown) => e instanceof AgentError && e.code === "config-unreadable");
  });
});
