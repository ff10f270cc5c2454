/**
 * The agent's Prometheus endpoint (issue 8): a registry per agent, served on a local port,
 * values read from the layers' stats at scrape time. Scraped over HTTP and parsed; a coaps://
 * request through a real DTLS session moves the counters.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentConfigSchema } from "@coaps-edge/shared";
import { createAgent } from "../../edge-agent/src/agent.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import { DtlsClient } from "../../edge-agent/src/dtls/index.js";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { FakeForwarder } from "./forward/fake-forwarder.js";

/** Prometheus text → "name{labels}" → value (comments skipped). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

test("GET /metrics: counters move with a coaps:// request; the registry is the agent's own", async () => {
  const config = AgentConfigSchema.parse({
    listen: { port: 0, address: "127.0.0.1" },
    coaps: { enabled: true, port: 0, psk: [{ identity: "dev", key: "k" }] },
    metrics: { enabled: true, port: 0 },
  });
  const fwd = new FakeForwarder([{ path: "/hello", methods: ["GET"] }]);
  const agent = await createAgent(config, { forwarder: fwd, coapsListener: dtlsListener() });
  const other = await createAgent(AgentConfigSchema.parse({ listen: { port: 0 } }), { forwarder: new FakeForwarder([]) });
  let client: CoapClient | undefined;
  try {
    assert.ok(agent.metrics, "served when metrics.enabled");
    assert.equal(other.metrics, undefined);
    const before = await scrape(agent.metrics.url);
    assert.equal(before.get("coaps_edge_dtls_sessions"), 0);
    assert.equal(before.get("coaps_edge_dtls_handshakes_ok_total"), 0);
    assert.equal(before.get('coaps_edge_coap_messages_total{direction="in"}'), 0);

    const coaps = agent.endpoints.find((e) => e.scheme === "coaps")!;
    client = new CoapClient({
      timeoutMs: 5000,
      endpointFactory: async (t) =>
        DtlsClient.connect(await UdpEndpoint.bind({ port: 0 }), { address: "127.0.0.1", port: t.port, family: "IPv4" }, { psk: { identity: "dev", key: new TextEncoder().encode("k") } }),
    });
    const res = await client.get(`coaps://127.0.0.1:${coaps.local.port}/hello`);
    assert.equal(res.code, 0x45);
    // A wrong key: a failed handshake, counted by reason.
    const udp = await UdpEndpoint.bind({ port: 0 });
    await assert.rejects(DtlsClient.connect(udp, coaps.local, { psk: { identity: "dev", key: new TextEncoder().encode("wrong") }, handshakeTimeoutMs: 3000 }));
    await udp.close();

    const after = await scrape(agent.metrics.url);
    assert.equal(after.get("coaps_edge_dtls_sessions"), 1);
    assert.equal(after.get("coaps_edge_dtls_half_open"), 0);
    assert.equal(after.get("coaps_edge_dtls_handshakes_ok_total"), 1);
    const failed = [...after].filter(([k]) => k.startsWith("coaps_edge_dtls_handshakes_failed_total{")).reduce((n, [, v]) => n + v, 0);
    assert.equal(failed, 1, "the wrong key failed once");
    assert.ok(after.get("coaps_edge_dtls_cookies_sent_total")! >= 2);
    assert.ok(after.get('coaps_edge_coap_messages_total{direction="in"}')! >= 1);
    assert.ok(after.get('coaps_edge_coap_messages_total{direction="out"}')! >= 1);
    assert.equal(after.get('coaps_edge_forward_requests_total{outcome="ok"}'), 1);
    assert.equal(after.get('coaps_edge_forward_requests_total{outcome="5.03"}'), 0);
    assert.equal(after.get('coaps_edge_rejected_by_limit_total{limit="dtls_half_open"}'), 0);
    assert.ok(after.has("coaps_edge_process_resident_memory_bytes"), "process metrics under the prefix");
    // Another agent's registry does not see this one's traffic.
    assert.equal(parse(await other.metricsRegistry.metrics()).get("coaps_edge_coap_requests_total"), 0);
    assert.equal((await fetch(agent.metrics.url.replace("/metrics", "/other"))).status, 404);
  } finally {
    await client?.close();
    await agent.close();
    await other.close();
  }
});
