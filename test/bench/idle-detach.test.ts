/**
 * The idle mode's `detach` (the 100,000-session workload): each session does its GET, then the
 * generator closes the socket without close_notify and keeps nothing — and the server still
 * holds every session (it cannot tell), which is what the RSS measurement relies on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IdleRun } from "../../bench/load/idle-mode.js";
import { DtlsServer, pskTable } from "../../edge-agent/src/dtls/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";

test("detached idle sessions stay established on the server while the generator holds no socket", async () => {
  const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
  const server = new DtlsServer(udp, { psk: pskTable({ bench: new TextEncoder().encode("secretPSK") }), handshakeRate: false });
  // Answer each CON GET with an empty-payload 2.05 ACK (same Message ID and token).
  server.onDatagram = (d, peer) => {
    const r = Uint8Array.from(d.subarray(0, 4 + (d[0]! & 0x0f)));
    r[0] = (r[0]! & 0xcf) | 0x20;
    r[1] = 0x45;
    server.send(peer, r);
  };
  const closed: string[] = [];
  server.onSessionClosed = (_p, reason) => closed.push(reason);
  const run = new IdleRun({
    kind: "idle",
    protocol: "psk",
    target: { address: "127.0.0.1", port: udp.local.port, family: "IPv4" },
    path: "hello",
    psk: { identity: "bench", key: "secretPSK" },
    handshakeTimeoutMs: 5000,
    sessions: 12,
    setupConcurrency: 4,
    timeoutMs: 2000,
    detach: true,
    sourceNet: 231,
  });
  try {
    const setup = await run.setup();
    assert.equal(setup.established, 12, setup.firstError);
    const r = run.run();
    assert.equal(r.ok, 12);
    assert.equal(r.errors, 0, "every GET answered before the socket was dropped");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.sessionCount, 12, "the server still holds all of them");
    assert.deepEqual(closed, [], "no close_notify was sent");
  } finally {
    await run.close();
    await server.close();
  }
});
