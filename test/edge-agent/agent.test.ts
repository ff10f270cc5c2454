import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentConfigSchema, Code } from "@coaps-edge/shared";
import { AgentError, createAgent } from "../../edge-agent/src/agent.js";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { CoapServer, DEMO_HELLO_TEXT } from "../../edge-agent/src/server/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

describe("createAgent", () => {
  it("serves the demo resources on the configured coap:// listener", async () => {
    const agent = await createAgent(AgentConfigSchema.parse({ listen: { port: 0 }, demoResources: true }));
    const client = new CoapClient();
    try {
      // coap+tcp is on by default next to UDP (issue 9, as libcoap's coap-server).
      assert.deepEqual(agent.urls.map((u) => u.split(":")[0]), ["coap", "coap+tcp"]);
      assert.match(agent.urls[0]!, /^coap:\/\/127\.0\.0\.1:\d+$/);
      const res = await client.get(`${agent.urls[0]}/hello`, { timeoutMs: 5000 });
      assert.equal(text(res.payload), DEMO_HELLO_TEXT);
      const large = await client.get(`${agent.urls[0]}/large`, { timeoutMs: 5000, blockSize: 512 });
      assert.equal(large.payload.length, 16 * 1024);
    } finally {
      await client.close();
      await agent.close();
    }
  });

  it("applies limits from the config (maxBodyBytes → 4.13)", async () => {
    const agent = await createAgent(AgentConfigSchema.parse({ listen: { port: 0 }, demoResources: true, limits: { maxBodyBytes: 100 } }));
    const client = new CoapClient();
    try {
      const res = await client.put(`${agent.urls[0]}/echo`, new Uint8Array(500), { timeoutMs: 5000, blockSize: 64 });
      assert.equal(res.code, Code.RequestEntityTooLarge);
    } finally {
      await client.close();
      await agent.close();
    }
  });

  it("needs a DTLS listener when coaps is enabled, and serves the one it is given", async () => {
    const config = AgentConfigSchema.parse({ listen: { port: 0 }, coaps: { enabled: true, psk: [{ identity: "a", key: "b" }] } });
    await assert.rejects(createAgent(config), (e: unknown) => e instanceof AgentError && e.code === "coaps-unavailable");
    // A stand-in for the DTLS endpoint: a UDP endpoint that calls itself coaps.
    let asked = 0;
    const agent = await createAgent(config, {
      coapsListener: async (c) => {
        asked++;
        assert.equal(c.coaps.enabled, true);
        return Object.assign(await UdpEndpoint.bind({ port: 0 }), { scheme: "coaps" as const });
      },
    });
    try {
      assert.equal(asked, 1);
      assert.deepEqual(agent.urls.map((u) => u.split(":")[0]), ["coap", "coaps", "coap+tcp", "coaps+tcp"]);
      agent.server.addResource("/who", { get: (r) => ({ code: Code.Content, payload: r.scheme }) });
      const client = new CoapClient({ endpointFactory: async () => Object.assign(await UdpEndpoint.bind({ port: 0 }), { scheme: "coaps" as const }) });
      const res = await client.get(`${agent.urls[1]!.replace("coaps", "coaps")}/who`, { timeoutMs: 5000 });
      assert.equal(text(res.payload), "coaps");
      await client.close();
    } finally {
      await agent.close();
    }
  });

  it("sends downlink requests from its listener's own port", async () => {
    const agent = await createAgent(AgentConfigSchema.parse({ listen: { port: 0 } }));
    const deviceEp = await UdpEndpoint.bind({ port: 0 });
    const device = new CoapServer();
    let fromPort = 0;
    device.addResource("/led", { put: (r) => ((fromPort = r.peer.port), { code: Code.Changed }) });
    device.attach(deviceEp);
    try {
      const res = await agent.client("coap").put(`coap://127.0.0.1:${deviceEp.local.port}/led`, "on", { timeoutMs: 5000 });
      assert.equal(res.code, Code.Changed);
      assert.equal(fromPort, agent.endpoints[0]!.local.port);
    } finally {
      device.close();
      await deviceEp.close();
      await agent.close();
    }
  });
});
