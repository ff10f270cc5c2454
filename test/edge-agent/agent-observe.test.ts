/**
 * The agent's Observe wiring: the demo /time resource notifies every second, and the observer
 * caps of the config (limits.maxObserversPerPeer / maxObservers) reach the server and its metrics.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentConfigSchema } from "@coaps-edge/shared";
import { createAgent } from "../../edge-agent/src/agent.js";
import { CoapClient, type CoapNotification } from "../../edge-agent/src/client/index.js";
import { dtlsEndpointFactory } from "../../edge-agent/src/dtls-connector.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";

describe("agent Observe", () => {
  it("demo /time notifies about every second; limits.maxObserversPerPeer caps registrations; metrics count them", async () => {
    const config = AgentConfigSchema.parse({
      listen: { address: "127.0.0.1", port: 0 },
      demoResources: true,
      tcp: { enabled: false },
      limits: { maxObserversPerPeer: 1 },
      logging: { level: "silent" },
    });
    const agent = await createAgent(config);
    const client = new CoapClient();
    try {
      const uri = `${agent.urls[0]}/time`;
      const got: CoapNotification[] = [];
      const first = await client.observe({ uri }, (n) => got.push(n));
      assert.equal(first.active, true);
      const second = await client.observe({ uri }, () => {});
      assert.equal(second.active, false, "the second registration of the same peer is over the cap");
      assert.equal(await second.ended, "not-registered");
      // A notification per second: wait for two (bounded generously: the machine may be busy).
      for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(got.length >= 3, `registration + ≥ 2 notifications, got ${got.length}`);
      assert.ok(got.every((n, i) => i === 0 || n.observe! > got[i - 1]!.observe!), "rising Observe numbers");
      const metrics = await agent.metricsRegistry.metrics();
      assert.match(metrics, /coaps_edge_coap_observers 1\b/);
      assert.match(metrics, /rejected_by_limit_total\{limit="observers"\} 1\b/);
      await first.cancel();
      assert.equal(agent.server.observe.size, 0);
    } finally {
      await client.close();
      await agent.close();
    }
  });

  it("observers belong to their DTLS session: when it ends (close_notify) they are dropped", async () => {
    const config = AgentConfigSchema.parse({
      listen: { address: "127.0.0.1", port: 0 },
      coaps: { enabled: true, address: "127.0.0.1", port: 0, psk: [{ identity: "obs", key: "obs-key" }] },
      tcp: { enabled: false },
      logging: { level: "silent" },
    });
    const agent = await createAgent(config, { coapsListener: dtlsListener() });
    agent.server.addResource("/v", { obs: true, get: () => ({ code: "2.05", payload: "v" }) });
    const client = new CoapClient({ endpointFactory: dtlsEndpointFactory({ psk: { identity: "obs", key: new TextEncoder().encode("obs-key") } }) });
    try {
      const secure = agent.urls.find((u) => u.startsWith("coaps://"))!;
      const obs = await client.observe({ uri: `${secure}/v` }, () => {});
      assert.equal(obs.active, true);
      assert.equal(agent.server.observe.size, 1);
      await client.close(); // no deregistration: the DTLS session just ends (close_notify)
      assert.equal(await obs.ended, "closed");
      for (let i = 0; i < 40 && agent.server.observe.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(agent.server.observe.size, 0, "dropped when the session closed");
      assert.equal(agent.server.observe.stats.removedBySessionEnd, 1);
    } finally {
      await client.close();
      await agent.close();
    }
  });
});
