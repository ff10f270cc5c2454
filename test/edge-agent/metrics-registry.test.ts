/**
 * The metrics registry read from stats objects (metrics/registry.ts): a request the edge
 * acknowledged (empty ACK) whose separate response the device never acknowledges is counted as
 * acknowledged-but-unanswered; dedup hits and retransmissions show up; nothing is counted per
 * message through prom-client (values are read at scrape time).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, MessageType } from "@coaps-edge/shared";
import { createAgentRegistry } from "../../edge-agent/src/metrics/index.js";
import { CoapServer } from "../../edge-agent/src/server/index.js";
import { RawPeer, fakeNet, fixedRandom, flush, request } from "./coap-kit.js";

function values(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test("acknowledged but unanswered, dedup hits and retransmissions reach the registry", async () => {
  const { clock, net } = fakeNet();
  const server = new CoapServer({ clock, random: fixedRandom(), separateResponseDelayMs: 500 });
  const ep = net.endpoint(5683);
  const layer = server.attach(ep);
  server.addResource("/slow", { get: () => new Promise((r) => clock.setTimer(3000, () => r({ code: Code.Content, payload: "late" }))) });
  const reg = createAgentRegistry({
    dtls: () => [],
    layers: () => [layer],
    server,
    unanswered: () => layer.stats.separateResponsesLost,
  });
  const peer = new RawPeer(net, clock);
  const req = request({ path: "/slow", messageId: 0x1234 });
  peer.send(ep.local, req);
  clock.advance(600); // the empty ACK
  await flush();
  peer.send(ep.local, req); // a duplicate: answered from the dedup cache
  clock.advance(1);
  await flush();
  assert.equal(peer.messages()[0]?.type, MessageType.ACK);
  // The separate response is sent, then retransmitted; the device never ACKs it.
  for (let i = 0; i < 200; i++) {
    clock.advance(1000);
    await flush(1);
  }
  assert.equal(layer.stats.separateResponsesLost, 1);
  const v = values(await reg.metrics());
  assert.equal(v.get("coaps_edge_coap_acknowledged_unanswered_total"), 1);
  assert.equal(v.get("coaps_edge_coap_dedup_hits_total"), 1);
  assert.equal(v.get("coaps_edge_coap_retransmissions_total"), 4, "MAX_RETRANSMIT = 4");
  assert.equal(v.get("coaps_edge_coap_separate_responses_total"), 1);
  assert.equal(v.get("coaps_edge_dtls_sessions"), 0);
  assert.equal(v.has("coaps_edge_process_resident_memory_bytes"), false, "process metrics only when asked for");
});
