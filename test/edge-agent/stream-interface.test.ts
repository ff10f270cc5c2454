/**
 * `listen.interface` for the TCP-based listeners (stream-listeners.ts): like coap:// over UDP,
 * coap+tcp and coaps+tcp bind each address of the interface (IPv6, and IPv4 with listen.ipv4) on
 * one port instead of listen.address; a section with an address of its own keeps it. Run on
 * "lo" (::1 and 127.0.0.1), requests through each address from our client.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentConfigSchema } from "@coaps-edge/shared";
import { createAgent } from "../../edge-agent/src/agent.js";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { transportLayerFactory } from "../../edge-agent/src/coap/stream/client-factory.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import { interfaceAddresses } from "../../edge-agent/src/transport/interfaces.js";

const PSK = { identity: "dev", key: "interface-psk" };
const lo = interfaceAddresses("lo", { ipv4: true });
const skip = lo.some((a) => a.address === "::1") && lo.some((a) => a.address === "127.0.0.1") ? false : "needs lo with ::1 and 127.0.0.1";

async function get(uri: string): Promise<string> {
  const client = new CoapClient({
    layerFactory: transportLayerFactory({ connectTimeoutMs: 5000, tls: { psk: { identity: PSK.identity, key: new TextEncoder().encode(PSK.key) } } }),
  });
  try {
    const res = await client.request({ method: "get", uri, timeoutMs: 5000 });
    return `${res.codeText} ${Buffer.from(res.payload).toString("utf8")}`;
  } finally {
    await client.close();
  }
}

test("listen.interface: coap+tcp and coaps+tcp listen on each interface address, one port per transport", { skip }, async () => {
  const config = AgentConfigSchema.parse({
    listen: { port: 0, interface: "lo", ipv4: true },
    multicast: { enabled: false },
    coaps: { enabled: true, port: 0, psk: [PSK] },
    demoResources: true,
  });
  const agent = await createAgent(config, { coapsListener: dtlsListener() });
  try {
    for (const [transport, scheme] of [["tcp", "coap+tcp"], ["tls", "coaps+tcp"]] as const) {
      const ls = agent.streams.filter((l) => l.transport === transport);
      assert.deepEqual(ls.map((l) => l.local.address).sort(), ["127.0.0.1", "::1"], `${transport} binds the interface's addresses`);
      assert.equal(new Set(ls.map((l) => l.local.port)).size, 1, `${transport}: one port`);
      const port = ls[0]!.local.port;
      assert.equal(await get(`${scheme}://[::1]:${port}/hello`), "2.05 Hello from coaps-edge");
      assert.equal(await get(`${scheme}://127.0.0.1:${port}/hello`), "2.05 Hello from coaps-edge");
    }
  } finally {
    await agent.close();
  }
});

test("listen.interface: a tcp section with its own address keeps it", { skip }, async () => {
  // The interface alone would give ::1 (no listen.ipv4); tcp.address differs from listen.address.
  const config = AgentConfigSchema.parse({ listen: { address: "::1", port: 0, interface: "lo" }, multicast: { enabled: false }, tcp: { address: "127.0.0.1", port: 0 } });
  const agent = await createAgent(config);
  try {
    assert.deepEqual(agent.streams.filter((l) => l.transport === "tcp").map((l) => l.local.address), ["127.0.0.1"]);
  } finally {
    await agent.close();
  }
});
