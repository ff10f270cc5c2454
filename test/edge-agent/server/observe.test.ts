/**
 * Observe, server role (RFC 7641) over the memory network with a FakeClock: registration,
 * deregistration, sequence numbers, CON every N, RST/timeout removal, error notifications,
 * Block2 notifications, caps, DTLS-style session ends.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Code,
  MessageType,
  OptionNumber,
  getBlock,
  getOption,
  getUintOption,
  uintOption,
  blockOption,
  type CoapMessage,
} from "@coaps-edge/shared";
import { CoapError, type CoapServerOptions } from "../../../edge-agent/src/server/index.js";
import { nextObserveSequence } from "@coaps-edge/shared";
import { flush, request, serverRig, text } from "../coap-kit.js";

function setup(options: CoapServerOptions = {}) {
  const { clock, net, server, ep, peer } = serverRig(options);
  let state = 0;
  let fail: CoapError | undefined;
  let big = false;
  const handle = server.addResource("/obs", {
    obs: true,
    get: () => {
      if (fail) throw fail;
      return { code: "2.05", payload: big ? "x".repeat(3000) : `state ${state}` };
    },
  });
  server.addResource("/plain", { get: () => ({ code: "2.05", payload: "p" }) });
  const exchange = async (m: CoapMessage, ms = 10): Promise<CoapMessage[]> => {
    const before = peer.received.length;
    peer.send(ep.local, m);
    clock.advance(1);
    await flush();
    clock.advance(ms);
    return peer.messages().slice(before);
  };
  /** Changes the state, notifies, returns what the peer received. */
  const change = async (): Promise<CoapMessage[]> => {
    const before = peer.received.length;
    state++;
    handle.changed(); // = server.notifyObservers("/obs")
    await flush();
    clock.advance(1);
    return peer.messages().slice(before);
  };
  const observe = (value: number, token = Uint8Array.of(0x0b, 0x5e), path = "/obs") =>
    request({ path, token, extra: [uintOption(OptionNumber.Observe, value)] });
  return {
    clock,
    server,
    ep,
    peer,
    exchange,
    change,
    observe,
    setFail: (e: CoapError | undefined) => (fail = e),
    setBig: (b: boolean) => (big = b),
  };
}

const seqOf = (m: CoapMessage | undefined) => (m ? getUintOption(m, OptionNumber.Observe) : undefined);

describe("Observe server (RFC 7641)", () => {
  it("registers with Observe=0, notifies with the token, a rising sequence and the current state", async () => {
    const { server, exchange, change, observe } = setup();
    const [res] = await exchange(observe(0));
    assert.equal(res?.code, Code.Content);
    assert.equal(res?.type, MessageType.ACK);
    const s0 = seqOf(res);
    assert.notEqual(s0, undefined, "registration response carries Observe");
    assert.equal(server.observe.size, 1);
    const [n1] = await change();
    const [n2] = await change();
    assert.deepEqual(n1?.token, Uint8Array.of(0x0b, 0x5e));
    assert.equal(text(n1!.payload), "state 1");
    assert.equal(text(n2!.payload), "state 2");
    assert.equal(n1?.type, MessageType.NON);
    assert.ok(seqOf(n1)! > s0! && seqOf(n2)! > seqOf(n1)!);
  });

  it("notifyObservers by template reaches every observed path of a {param} resource; the handle's notify() too", async () => {
    const { clock, server, exchange, peer } = setup();
    const handle = server.addResource("/s/{id}", { obs: true, get: (req) => ({ code: "2.05", payload: `s ${req.params.id}` }) });
    await exchange(request({ path: "/s/a", token: Uint8Array.of(1), extra: [uintOption(OptionNumber.Observe, 0)] }));
    await exchange(request({ path: "/s/b", token: Uint8Array.of(2), extra: [uintOption(OptionNumber.Observe, 0)] }));
    peer.clear();
    assert.equal(server.notifyObservers("/s/{id}"), 2);
    assert.equal(server.notifyObservers("/s/a"), 1);
    assert.equal(handle.notify(), 2, "the handle's path is the template: all its observed paths");
    clock.advance(1);
    await flush();
    const bodies = peer.messages().map((m) => text(m.payload)).sort();
    assert.deepEqual(bodies, ["s a", "s a", "s a", "s b", "s b"]);
  });

  it("a GET with Observe on a resource that is not observable is answered without Observe", async () => {
    const { server, exchange, observe } = setup();
    const [res] = await exchange(observe(0, Uint8Array.of(1), "/plain"));
    assert.equal(res?.code, Code.Content);
    assert.equal(seqOf(res), undefined);
    assert.equal(server.observe.size, 0);
  });

  it("Observe=1 deregisters; a re-registration with the same token replaces the entry", async () => {
    const { server, exchange, change, observe } = setup();
    await exchange(observe(0));
    await exchange(observe(0));
    assert.equal(server.observe.size, 1);
    const [res] = await exchange(observe(1));
    assert.equal(res?.code, Code.Content);
    assert.equal(seqOf(res), undefined, "deregistration response has no Observe");
    assert.equal(server.observe.size, 0);
    assert.deepEqual(await change(), []);
  });

  it("sends every 5th notification as CON by default, and CON after the interval", async () => {
    const { clock, exchange, change, observe, peer, ep } = setup({ observe: { conEvery: 5, conIntervalMs: 60_000 } });
    await exchange(observe(0));
    const types: MessageType[] = [];
    for (let i = 0; i < 10; i++) {
      const [n] = await change();
      types.push(n!.type);
      if (n!.type === MessageType.CON) peer.send(ep.local, { type: MessageType.ACK, code: 0, messageId: n!.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
      clock.advance(1);
      await flush();
    }
    assert.deepEqual(types, [1, 1, 1, 1, 0, 1, 1, 1, 1, 0].map((t) => (t === 0 ? MessageType.CON : MessageType.NON)));
    clock.advance(60_000);
    const [n] = await change();
    assert.equal(n?.type, MessageType.CON, "interval elapsed: CON");
  });

  it("an RST to a NON notification removes the observer", async () => {
    const { clock, server, exchange, change, observe, peer, ep } = setup();
    await exchange(observe(0));
    const [n] = await change();
    assert.equal(n?.type, MessageType.NON);
    peer.send(ep.local, { type: MessageType.RST, code: 0, messageId: n!.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    clock.advance(1);
    await flush();
    assert.equal(server.observe.size, 0);
    assert.equal(server.observe.stats.removedByReset, 1);
    assert.deepEqual(await change(), []);
  });

  it("an RST to a CON notification removes the observer", async () => {
    const { clock, server, exchange, change, observe, peer, ep } = setup({ observe: { confirmable: true } });
    await exchange(observe(0));
    const [n] = await change();
    assert.equal(n?.type, MessageType.CON);
    peer.send(ep.local, { type: MessageType.RST, code: 0, messageId: n!.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    clock.advance(1);
    await flush();
    assert.equal(server.observe.size, 0);
  });

  it("a CON notification never acknowledged removes the observer after MAX_RETRANSMIT; newer states wait for the ACK", async () => {
    const { clock, server, exchange, change, observe, peer } = setup({ observe: { confirmable: true } });
    await exchange(observe(0));
    const [n] = await change();
    assert.equal(n?.type, MessageType.CON);
    peer.clear();
    await change(); // in flight: deferred, not a second CON
    assert.equal(peer.messages().length, 0);
    clock.advance(200_000); // retransmissions, then give-up
    await flush();
    assert.equal(peer.messages().filter((m) => m.messageId === n!.messageId).length, 4, "MAX_RETRANSMIT retransmissions");
    assert.equal(server.observe.size, 0);
    assert.equal(server.observe.stats.removedByTimeout, 1);
  });

  it("after the ACK of a CON notification the deferred newer state goes out", async () => {
    const { clock, exchange, change, observe, peer, ep } = setup({ observe: { confirmable: true } });
    await exchange(observe(0));
    const [n] = await change();
    await change();
    await change();
    peer.clear();
    peer.send(ep.local, { type: MessageType.ACK, code: 0, messageId: n!.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    clock.advance(1);
    await flush();
    const after = peer.messages();
    assert.equal(after.length, 1, "one notification with the newest state");
    assert.equal(text(after[0]!.payload), "state 3");
  });

  it("a 4.xx notification is sent without Observe and ends the observation", async () => {
    const { server, exchange, change, observe, setFail } = setup();
    await exchange(observe(0));
    setFail(new CoapError(Code.NotFound, "gone"));
    const [n] = await change();
    assert.equal(n?.code, Code.NotFound);
    assert.equal(seqOf(n), undefined);
    assert.equal(n?.type, MessageType.CON);
    assert.equal(server.observe.size, 0);
  });

  it("a non-2.xx registration response does not register", async () => {
    const { server, exchange, observe, setFail } = setup();
    setFail(new CoapError(Code.ServiceUnavailable));
    const [res] = await exchange(observe(0));
    assert.equal(res?.code, Code.ServiceUnavailable);
    assert.equal(seqOf(res), undefined);
    assert.equal(server.observe.size, 0);
  });

  it("a large representation: the notification carries Block2 block 0, the rest comes by GET without Observe", async () => {
    const { exchange, change, observe, setBig } = setup({ blockwise: { preferredSzx: 6 } });
    setBig(true);
    const [reg] = await exchange(observe(0));
    assert.equal(getBlock(reg!, OptionNumber.Block2)?.num, 0);
    const [n] = await change();
    const b0 = getBlock(n!, OptionNumber.Block2);
    assert.deepEqual({ num: b0?.num, more: b0?.more }, { num: 0, more: true });
    assert.notEqual(seqOf(n), undefined);
    const etag = getOption(n!, OptionNumber.ETag)?.value;
    const [b1] = await exchange(request({ path: "/obs", token: Uint8Array.of(9), extra: [blockOption(OptionNumber.Block2, { num: 1, more: false, szx: 6 })] }));
    assert.equal(getBlock(b1!, OptionNumber.Block2)?.num, 1);
    assert.equal(seqOf(b1), undefined);
    assert.deepEqual(getOption(b1!, OptionNumber.ETag)?.value, etag);
  });

  it("caps observers per peer and in total (the GET is served without Observe)", async () => {
    const { server, exchange, observe } = setup({ observe: { maxObserversPerPeer: 2, maxObservers: 3 } });
    for (let i = 0; i < 3; i++) {
      const [res] = await exchange(observe(0, Uint8Array.of(i)));
      assert.equal(res?.code, Code.Content);
      assert.equal(seqOf(res) === undefined, i === 2, `registration ${i}`);
    }
    assert.equal(server.observe.size, 2);
    assert.equal(server.observe.stats.rejectedByLimit, 1);
  });

  it("sequence numbers wrap at 24 bits", () => {
    assert.equal(nextObserveSequence(0xfffffe), 0xffffff);
    assert.equal(nextObserveSequence(0xffffff), 0);
    assert.equal(nextObserveSequence(5), 6);
  });

  it("detaching the endpoint (or closing the server) drops its observers", async () => {
    const { server, exchange, observe, ep } = setup();
    await exchange(observe(0));
    server.detach(ep);
    assert.equal(server.observe.size, 0);
  });
});
