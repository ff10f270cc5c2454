/**
 * Block1 reassembly limits (issue 8): the body size bound (4.13 with Size1) and the per-peer
 * bound on uploads in progress — one peer cannot hold more than maxTransfersPerPeer ×
 * maxBodyBytes of reassembly memory; its next upload gets 5.03 with Max-Age while other peers
 * still upload. Counted in CoapServer.blockStats (metrics).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, OptionNumber, blockOption, getUintOption, uintOption, type CoapMessage } from "@coaps-edge/shared";
import { CoapServer } from "../../../edge-agent/src/server/index.js";
import { RawPeer, fakeNet, fixedRandom, flush, request } from "../coap-kit.js";

function setup() {
  const { clock, net } = fakeNet({});
  const server = new CoapServer({ clock, random: fixedRandom(), blockwise: { maxBodyBytes: 256, maxTransfersPerPeer: 2 } });
  const ep = net.endpoint(5683);
  server.attach(ep);
  for (const p of ["a", "1", "2", "3"]) server.addResource(`/up/${p}`, { put: (r) => ({ code: Code.Changed, payload: `got ${r.payload.length}` }) });
  const exchange = async (peer: RawPeer, m: CoapMessage): Promise<CoapMessage> => {
    const before = peer.received.length;
    peer.send(ep.local, m);
    clock.advance(1);
    await flush();
    clock.advance(1);
    return peer.messages().slice(before)[0]!;
  };
  return { clock, net, server, exchange };
}

const first = (path: string) => request({ path, code: 3, payload: new Uint8Array(64), extra: [blockOption(OptionNumber.Block1, { num: 0, more: true, szx: 2 })] });

test("a body past maxBodyBytes is refused with 4.13 and Size1, and counted", async () => {
  const { net, clock, server, exchange } = setup();
  const peer = new RawPeer(net, clock);
  const res = await exchange(peer, request({ path: "/up/a", code: 3, payload: new Uint8Array(64), extra: [blockOption(OptionNumber.Block1, { num: 0, more: true, szx: 2 }), uintOption(OptionNumber.Size1, 10_000)] }));
  assert.equal(res.code, Code.RequestEntityTooLarge);
  assert.equal(getUintOption(res, OptionNumber.Size1), 256);
  assert.equal(server.blockStats.uploadsTooLarge, 1);
  assert.equal(server.blockStats.uploads, 0);
});

test("per-peer uploads in progress are bounded; other peers are not affected", async () => {
  const { net, clock, server, exchange } = setup();
  const greedy = new RawPeer(net, clock);
  assert.equal((await exchange(greedy, first("/up/1"))).code, Code.Continue);
  assert.equal((await exchange(greedy, first("/up/2"))).code, Code.Continue);
  const third = await exchange(greedy, first("/up/3"));
  assert.equal(third.code, Code.ServiceUnavailable);
  assert.equal(getUintOption(third, OptionNumber.MaxAge), 1);
  assert.equal((await exchange(greedy, first("/up/1"))).code, Code.Continue, "restarting one of its own uploads is fine");
  assert.equal(server.blockStats.uploadsPerPeerRejected, 1);
  assert.equal(server.blockStats.uploads, 2, "its reassembly state stays at 2 uploads");
  const other = new RawPeer(net, clock);
  assert.equal((await exchange(other, first("/up/1"))).code, Code.Continue, "another peer still uploads");
  assert.equal(server.blockStats.uploads, 3);
});
