/**
 * The generator's UDP transport on each engine (bench/load/connected-udp.ts): a session's socket
 * is bound to its own loopback source address, talks to its target only (the native engine has
 * no connect(): other senders are dropped in JavaScript), and a LoadRun over it completes real
 * requests. Which engine each mode takes is the policy in gen-udp.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectedUdp } from "../../bench/load/connected-udp.js";
import { GEN_UDP_ENGINES, genNativeUdp, requireGenUdp, sessionUdp } from "../../bench/load/gen-udp.js";
import { LoadRun } from "../../bench/load/load-mode.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";

/** A responder that answers every CON with a piggybacked 2.05 carrying the same Message ID and token. */
async function responder(): Promise<UdpEndpoint> {
  const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine: "dgram" });
  ep.onDatagram = (d, peer) => {
    const r = Uint8Array.from(d.subarray(0, 4 + (d[0]! & 0x0f)));
    r[0] = (r[0]! & 0xcf) | 0x20; // ACK
    r[1] = 0x45; // 2.05
    ep.send(peer, r);
  };
  return ep;
}

const waitFor = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
};

describe("generator UDP engines", () => {
  it("offers native only when the agent's addon is built, and refuses it otherwise", () => {
    assert.deepEqual(GEN_UDP_ENGINES, genNativeUdp ? ["native", "dgram"] : ["dgram"]);
    assert.equal(requireGenUdp("dgram"), undefined);
    if (genNativeUdp) assert.equal(requireGenUdp("native"), genNativeUdp);
    else assert.throws(() => requireGenUdp("native"), /not built/);
    if (process.env["CI"] === "true") assert.ok(genNativeUdp, "CI builds the native UDP addon");
  });

  it("uses the requested engine for load sessions only (a socket per handshake or idle session stays on dgram)", () => {
    assert.equal(sessionUdp("load", "native"), "native");
    assert.equal(sessionUdp("load", "dgram"), "dgram");
    assert.equal(sessionUdp("hs", "native"), "dgram");
    assert.equal(sessionUdp("idle", "native"), "dgram");
  });

  for (const engine of GEN_UDP_ENGINES) {
    it(`${engine}: binds the session's source address and hears only its target`, async () => {
      const target = await UdpEndpoint.bind({ address: "127.0.0.1", engine: "dgram" });
      const stranger = await UdpEndpoint.bind({ address: "127.0.0.1", engine: "dgram" });
      const heard: PeerAddress[] = [];
      target.onDatagram = (_d, peer) => heard.push(peer);
      const udp = await ConnectedUdp.open(target.local, { engine, localAddress: "127.77.0.9" });
      const got: { data: string; peer: PeerAddress }[] = [];
      udp.onDatagram = (data, peer) => got.push({ data: Buffer.from(data).toString(), peer });
      try {
        assert.equal(udp.engine, engine);
        assert.equal(udp.local.address, "127.77.0.9");
        udp.send(udp.target, Buffer.from("ping"));
        await waitFor(() => heard.length === 1);
        assert.equal(heard[0]?.address, "127.77.0.9");
        assert.equal(heard[0]?.port, udp.local.port);

        stranger.send(udp.local, Buffer.from("not yours")); // a connected socket never sees this
        target.send(udp.local, Buffer.from("pong"));
        await waitFor(() => got.length >= 1);
        await new Promise((r) => setTimeout(r, 50)); // room for the stranger's datagram to (wrongly) arrive
        assert.deepEqual(got.map((g) => g.data), ["pong"]);
        assert.equal(got[0]?.peer, udp.target, "handed up with the session's one target object");
      } finally {
        await Promise.all([udp.close(), target.close(), stranger.close()]);
      }
      udp.send(udp.target, Buffer.from("after close")); // ignored, not thrown
    });

    it(`${engine}: a load run completes requests and counts them`, async () => {
      const server = await responder();
      const run = new LoadRun({
        kind: "load",
        protocol: "plain",
        target: server.local,
        path: "hello",
        handshakeTimeoutMs: 1000,
        sessions: 3,
        window: 2,
        warmupMs: 50,
        durationMs: 200,
        timeoutMs: 1000,
        setupConcurrency: 3,
        sourceNet: 78,
        udp: engine,
      });
      try {
        assert.equal((await run.setup()).established, 3);
        const r = await run.run();
        assert.ok(r.ok > 0, "requests answered in the window");
        assert.equal(r.errors, 0);
        assert.equal(r.latency.count, r.ok);
      } finally {
        await run.close();
        await server.close();
      }
    });
  }
});
