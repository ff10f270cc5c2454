/**
 * UdpEndpoint.close() drains sends issued just before it: node:dgram resolves the destination
 * asynchronously and drops a datagram whose socket closes in between (a raw dgram socket
 * closed right after 20 sends delivers none of them here), so a DTLS close_notify or a last
 * response would be lost on shutdown. UdpEndpoint resolves IP literals synchronously now, so its
 * sends usually leave inside send(); the drain still covers a full socket buffer or a host name.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { test } from "node:test";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";

async function receiver(): Promise<{ socket: dgram.Socket; port: number; received: () => number; waitFor: (n: number) => Promise<void> }> {
  const socket = dgram.createSocket("udp4");
  let count = 0;
  const waiters: (() => void)[] = [];
  socket.on("message", () => {
    count++;
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const waitFor = async (n: number): Promise<void> => {
    const deadline = Date.now() + 2000;
    while (count < n && Date.now() < deadline) await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 50)));
  };
  return { socket, port: socket.address().port, received: () => count, waitFor };
}

test("close() right after 20 sends delivers all 20, then sends are ignored", async () => {
  const rx = await receiver();
  try {
    const ep = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const peer = { address: "127.0.0.1", port: rx.port, family: "IPv4" } as const;
    for (let i = 0; i < 20; i++) ep.send(peer, Uint8Array.of(i));
    await ep.close();
    ep.send(peer, Uint8Array.of(99)); // after close: dropped, not thrown
    await rx.waitFor(20);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rx.received(), 20);
    assert.equal(ep.stats.sent, 20);
    assert.equal(ep.stats.sendErrors, 0);
  } finally {
    rx.socket.close();
  }
});

test("close() with nothing in flight returns promptly and is idempotent", async () => {
  const ep = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
  const t0 = Date.now();
  await Promise.all([ep.close(), ep.close()]);
  assert.ok(Date.now() - t0 < 200);
});
