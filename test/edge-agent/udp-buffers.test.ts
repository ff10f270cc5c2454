/**
 * UDP socket buffers (issue 8): `listen.recvBufferSize` / `sendBufferSize` reach the kernel for
 * every UDP socket of the agent, and a burst larger than the receive buffer shows up as
 * `coaps_edge_udp_receive_drops_total{socket}`, read from the kernel's per-socket "drops" column
 * of /proc/net/udp (Linux only: elsewhere these tests skip).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { AgentConfigSchema } from "@coaps-edge/shared";
import { createAgent } from "../../edge-agent/src/agent.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import { parseProcNetUdp, udpSocketDrops } from "../../edge-agent/src/metrics/udp-drops.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { FakeForwarder } from "./forward/fake-forwarder.js";

const linux = existsSync("/proc/net/udp");
const skip = linux ? false : "needs Linux /proc/net/udp";

test("parseProcNetUdp: IPv4 and IPv6 rows, addresses in host byte order, drops from the last column", () => {
  const v4 = [
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
    "  226: 0100007F:1633 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 123 2 0000000000000000 17",
  ].join("\n");
  const v6 = [
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
    "  12: 00000000000000000000000001000000:1634 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 456 2 0000000000000000 0",
  ].join("\n");
  assert.deepEqual(parseProcNetUdp(v4), [{ address: "127.0.0.1", port: 5683, drops: 17 }]);
  assert.deepEqual(parseProcNetUdp(v6), [{ address: "0:0:0:0:0:0:0:1", port: 5684, drops: 0 }]);
  const read = (p: string) => (p.endsWith("6") ? v6 : v4);
  const drops = udpSocketDrops(
    [
      { address: "127.0.0.1", port: 5683, family: "IPv4" },
      { address: "::1", port: 5684, family: "IPv6" },
      { address: "127.0.0.1", port: 9, family: "IPv4" },
    ],
    read,
  );
  assert.deepEqual([...drops!], [["127.0.0.1:5683", 17], ["[::1]:5684", 0]]);
});

test("recvBufferSize reaches the kernel (capped by rmem_max, reported doubled); without it the OS default", { skip }, async () => {
  const rmemMax = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
  const asked = 1024 * 1024;
  const ep = await UdpEndpoint.bind({ port: 0, recvBufferSize: asked, sendBufferSize: 256 * 1024 });
  try {
    assert.equal(ep.bufferSizes().recv, 2 * Math.min(asked, rmemMax), "Linux grants min(asked, rmem_max) and reports twice that");
  } finally {
    await ep.close();
  }
  const plain = await UdpEndpoint.bind({ port: 0 });
  const osDefault = plain.bufferSizes().recv;
  await plain.close();
  assert.equal(osDefault, Number(readFileSync("/proc/sys/net/core/rmem_default", "utf8")), "no option: the OS default (rmem_default)");
});

test("a burst larger than the receive buffer is counted in coaps_edge_udp_receive_drops_total{socket}", { skip }, async () => {
  // A tiny buffer (the kernel's minimum is a few KiB) and 2,000 datagrams sent while the agent's
  // event loop cannot read (this loop is synchronous): most are dropped by the kernel.
  const config = AgentConfigSchema.parse({
    listen: { port: 0, address: "127.0.0.1", recvBufferSize: 4096 },
    coaps: { enabled: true, port: 0, psk: [{ identity: "dev", key: "k" }] },
    metrics: { enabled: true, port: 0 },
  });
  const agent = await createAgent(config, { forwarder: new FakeForwarder([]), coapsListener: dtlsListener() });
  const sender = dgram.createSocket("udp4");
  try {
    const coap = agent.endpoints.find((e) => e.scheme === "coap")!;
    const coaps = agent.endpoints.find((e) => e.scheme === "coaps")!;
    const before = await (await fetch(agent.metrics!.url)).text();
    assert.match(before, new RegExp(`^coaps_edge_udp_receive_drops_total\\{socket="127\\.0\\.0\\.1:${coap.local.port}"\\} 0$`, "m"));
    assert.match(before, new RegExp(`^coaps_edge_udp_receive_drops_total\\{socket="127\\.0\\.0\\.1:${coaps.local.port}"\\} 0$`, "m"));
    // Non-confirmable GETs with garbage payload: valid enough to be read, never answered.
    const datagram = Buffer.concat([Buffer.from([0x50, 0x01, 0x00, 0x01, 0xff]), Buffer.alloc(1000, 0x61)]);
    for (let i = 0; i < 2000; i++) sender.send(datagram, coap.local.port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 300));
    const after = await (await fetch(agent.metrics!.url)).text();
    const m = new RegExp(`^coaps_edge_udp_receive_drops_total\\{socket="127\\.0\\.0\\.1:${coap.local.port}"\\} (\\d+)$`, "m").exec(after);
    assert.ok(m && Number(m[1]) > 0, `drops counted:\n${after.split("\n").filter((l) => l.includes("udp_")).join("\n")}`);
  } finally {
    sender.close();
    await agent.close();
  }
});
