import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, MessageType, encodeMessage, type CoapMessage } from "@coaps-edge/shared";
import { MessageLayer, type InboundRequest, type Transmission, type TransmissionOwner } from "../../../edge-agent/src/coap/message-layer.js";
import type { PeerIdentity } from "../../../edge-agent/src/transport/types.js";
import { RawPeer, fakeNet, fixedRandom, request } from "../coap-kit.js";

type Outcome = "ack" | "empty-ack" | "reset" | "timeout" | "aborted";

function recorder(): TransmissionOwner<string> & { log: { outcome: Outcome; context: string; at?: number }[] } {
  const log: { outcome: Outcome; context: string }[] = [];
  return {
    log,
    onAcknowledged: (tx: Transmission<string>, ack: CoapMessage, _id: PeerIdentity) =>
      log.push({ outcome: ack.code === 0 ? "empty-ack" : "ack", context: tx.context }),
    onReset: (tx) => log.push({ outcome: "reset", context: tx.context }),
    onTimeout: (tx) => log.push({ outcome: "timeout", context: tx.context }),
    onAborted: (tx) => log.push({ outcome: "aborted", context: tx.context }),
  };
}

const CON_GET = { type: MessageType.CON, code: 1, token: Uint8Array.of(1), options: [], payload: new Uint8Array(0) } as const;

function setup(random = fixedRandom(), options: ConstructorParameters<typeof MessageLayer>[1] = {}) {
  const { clock, net } = fakeNet();
  const layer = new MessageLayer(net.endpoint(5683), { clock, random, ...options });
  const peer = new RawPeer(net, clock);
  return { clock, net, layer, peer };
}

describe("MessageLayer retransmission (RFC 7252 §4.2)", () => {
  it("retransmits a CON with doubling timeouts and gives up after MAX_RETRANSMIT", () => {
    const { clock, layer, peer } = setup(fixedRandom(0.5));
    const owner = recorder();
    const t0 = clock.now();
    layer.sendConfirmable(peer.address, CON_GET, owner, "a");
    clock.advance(200_000);
    const times = peer.received.map((r) => r.at - t0);
    // initial timeout 2 s × (1 + 0.5 × 0.5) = 2.5 s, then 5, 10, 20 s; give up 40 s after the last.
    assert.deepEqual(times, [0, 2500, 7500, 17500, 37500]);
    assert.equal(new Set(peer.messages().map((m) => m.messageId)).size, 1, "a retransmission keeps the message ID");
    assert.deepEqual(owner.log, [{ outcome: "timeout", context: "a" }]);
    assert.equal(layer.stats.retransmissions, 4);
    assert.equal(layer.stats.timeouts, 1);
    assert.equal(layer.outstanding, 0);
  });

  it("draws the first timeout from [ACK_TIMEOUT, ACK_TIMEOUT × 1.5]", () => {
    for (const [r, expected] of [
      [0, 2000],
      [0.999, 2998],
    ] as const) {
      const { clock, layer, peer } = setup(fixedRandom(r));
      const t0 = clock.now();
      layer.sendConfirmable(peer.address, CON_GET, recorder(), "x");
      clock.advance(3100);
      const second = peer.received[1];
      assert.ok(second, "retransmitted within 3.1 s");
      assert.ok(second.at - t0 >= 2000 && second.at - t0 <= 3000, `first timeout ${second.at - t0}`);
      assert.ok(Math.abs(second.at - t0 - expected) <= 1);
    }
  });

  it("stops on an empty ACK and reports it; a late duplicate ACK is counted, not delivered", () => {
    const { clock, layer, peer } = setup();
    const owner = recorder();
    const tx = layer.sendConfirmable(peer.address, CON_GET, owner, "b");
    clock.advance(100);
    const ack = encodeMessage({ type: MessageType.ACK, code: 0, messageId: tx.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    peer.send(layer.endpoint.local, ack);
    clock.advance(100);
    peer.send(layer.endpoint.local, ack);
    clock.advance(100_000);
    assert.equal(peer.received.length, 1, "no retransmission after the ACK");
    assert.deepEqual(owner.log, [{ outcome: "empty-ack", context: "b" }]);
    assert.equal(layer.stats.unmatchedAcks, 1);
  });

  it("reports RST as reset", () => {
    const { clock, layer, peer } = setup();
    const owner = recorder();
    const tx = layer.sendConfirmable(peer.address, CON_GET, owner, "c");
    clock.advance(10);
    peer.send(layer.endpoint.local, { type: MessageType.RST, code: 0, messageId: tx.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    clock.advance(100_000);
    assert.deepEqual(owner.log, [{ outcome: "reset", context: "c" }]);
    assert.equal(peer.received.length, 1);
  });

  it("holds back a second CON to the same peer until the first is acknowledged (NSTART 1)", () => {
    const { clock, layer, peer } = setup();
    const owner = recorder();
    const first = layer.sendConfirmable(peer.address, CON_GET, owner, "1");
    layer.sendConfirmable(peer.address, CON_GET, owner, "2");
    clock.advance(10);
    assert.equal(peer.received.length, 1);
    peer.send(layer.endpoint.local, { type: MessageType.ACK, code: 0, messageId: first.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    clock.advance(10);
    assert.equal(peer.received.length, 2);
    assert.notEqual(peer.messages()[1]?.messageId, first.messageId);
  });

  it("aborts outstanding CONs on close", () => {
    const { layer, peer } = setup();
    const owner = recorder();
    layer.sendConfirmable(peer.address, CON_GET, owner, "z");
    layer.close();
    assert.deepEqual(owner.log, [{ outcome: "aborted", context: "z" }]);
  });
});

describe("MessageLayer inbound classification", () => {
  it("answers a CoAP ping (empty CON) with RST", () => {
    const { clock, layer, peer } = setup();
    peer.send(layer.endpoint.local, Uint8Array.of(0x40, 0x00, 0x12, 0x34));
    clock.advance(10);
    assert.deepEqual([...peer.received[0]!.bytes], [0x70, 0x00, 0x12, 0x34]);
    assert.equal(layer.stats.pings, 1);
  });

  it("rejects an unmatched CON response with RST, ignores an unmatched NON response, ACKs a matched one", () => {
    const { clock, layer, peer } = setup();
    const response = (type: MessageType, messageId: number): CoapMessage => ({
      type,
      code: Code.Content,
      messageId,
      token: Uint8Array.of(9, 9),
      options: [],
      payload: Uint8Array.of(1),
    });
    peer.send(layer.endpoint.local, response(MessageType.CON, 0x2000));
    peer.send(layer.endpoint.local, response(MessageType.NON, 0x2001));
    clock.advance(10);
    assert.deepEqual(
      peer.received.map((r) => [...r.bytes]),
      [[0x70, 0, 0x20, 0x00]],
    );
    let seen = 0;
    layer.responseSink = { onResponse: () => (seen++, true) };
    peer.send(layer.endpoint.local, response(MessageType.CON, 0x2002));
    clock.advance(10);
    assert.equal(seen, 1);
    assert.deepEqual([...peer.received[1]!.bytes], [0x60, 0, 0x20, 0x02]);
    // Its retransmission is re-ACKed from the dedup cache without a second delivery.
    peer.send(layer.endpoint.local, response(MessageType.CON, 0x2002));
    clock.advance(10);
    assert.equal(seen, 1);
    assert.deepEqual([...peer.received[2]!.bytes], [0x60, 0, 0x20, 0x02]);
    assert.equal(layer.stats.unmatchedResponses, 2);
  });

  it("resets a malformed CON whose header is readable and drops everything else, counting all", () => {
    const { clock, layer, peer } = setup();
    const inputs = [
      Uint8Array.of(0x40, 0x01, 0xab, 0xcd, 0xf1), // CON GET, option nibble 15 → RST 0xabcd
      Uint8Array.of(0x49, 0x01, 0x00, 0x01), // CON with TKL 9 → RST 0x0001
      Uint8Array.of(0x50, 0x01, 0x00, 0x02, 0xf1), // NON malformed → nothing
      Uint8Array.of(0x80, 0x01, 0x00, 0x03), // version 2 → silently ignored
      Uint8Array.of(0x40, 0x01), // truncated header → nothing
      Uint8Array.of(0x40, 0xe2, 0x00, 0x04), // CON 7.02 (signalling over UDP) → RST
      Uint8Array.of(0x60, 0x01, 0x00, 0x05), // ACK carrying a request → nothing
      Uint8Array.of(0x50, 0x00, 0x00, 0x06), // empty NON → nothing
      new Uint8Array(0),
    ];
    for (const d of inputs) peer.send(layer.endpoint.local, d);
    clock.advance(10);
    assert.deepEqual(
      peer.received.map((r) => [...r.bytes]),
      [
        [0x70, 0, 0xab, 0xcd],
        [0x70, 0, 0x00, 0x01],
        [0x70, 0, 0x00, 0x04],
      ],
    );
    assert.equal(layer.stats.malformed, inputs.length);
    assert.equal(layer.stats.received, inputs.length);
  });

  it("resets CON requests when no server is attached", () => {
    const { clock, layer, peer } = setup();
    const m = request();
    peer.send(layer.endpoint.local, m);
    clock.advance(10);
    assert.equal(peer.messages()[0]?.type, MessageType.RST);
    assert.equal(peer.messages()[0]?.messageId, m.messageId);
  });
});

describe("MessageLayer deduplication (RFC 7252 §4.5)", () => {
  function serving() {
    const s = setup();
    const seen: InboundRequest[] = [];
    s.layer.requestSink = { onRequest: (r) => void seen.push(r) };
    return { ...s, seen };
  }

  it("replays the cached encoded response to a duplicate CON without a second upcall", () => {
    const { clock, layer, peer, seen } = serving();
    const m = request();
    peer.send(layer.endpoint.local, m);
    clock.advance(10);
    assert.equal(seen.length, 1);
    layer.respond(seen[0]!, { code: Code.Content, token: m.token, options: [], payload: Uint8Array.of(42) });
    clock.advance(10);
    peer.send(layer.endpoint.local, m);
    clock.advance(10);
    assert.equal(seen.length, 1);
    assert.equal(peer.received.length, 2);
    assert.deepEqual(peer.received[1]!.bytes, peer.received[0]!.bytes);
    assert.equal(peer.messages()[0]?.type, MessageType.ACK);
    assert.equal(layer.stats.duplicates, 1);
  });

  it("answers a duplicate that arrives before the response with an empty ACK (separate response)", () => {
    const { clock, layer, peer, seen } = serving();
    const m = request();
    peer.send(layer.endpoint.local, m);
    clock.advance(10);
    peer.send(layer.endpoint.local, m);
    clock.advance(10);
    assert.deepEqual([...peer.received[0]!.bytes], [0x60, 0, m.messageId >> 8, m.messageId & 0xff]);
    assert.equal(seen[0]!.state, "acked");
    layer.respond(seen[0]!, { code: Code.Content, token: m.token, options: [], payload: new Uint8Array(0) });
    clock.advance(10);
    const sep = peer.messages()[1]!;
    assert.equal(sep.type, MessageType.CON);
    assert.notEqual(sep.messageId, m.messageId);
    assert.deepEqual(sep.token, m.token);
  });

  it("forgets a message after EXCHANGE_LIFETIME", () => {
    const { clock, layer, peer, seen } = serving();
    const m = request();
    peer.send(layer.endpoint.local, m);
    clock.advance(10);
    layer.respond(seen[0]!, { code: Code.Content, token: m.token, options: [], payload: new Uint8Array(0) });
    clock.advance(layer.times.exchangeLifetimeMs + 1);
    peer.send(layer.endpoint.local, m);
    clock.advance(10);
    assert.equal(seen.length, 2);
  });

  it("keeps the cache within its entry and byte bounds", () => {
    const { clock, layer, peer, seen } = (() => {
      const s = setup(fixedRandom(), { dedup: { maxEntries: 50, maxBytes: 8 * 1024 } });
      const seen: InboundRequest[] = [];
      s.layer.requestSink = { onRequest: (r) => void seen.push(r) };
      return { ...s, seen };
    })();
    for (let i = 0; i < 300; i++) {
      peer.send(layer.endpoint.local, request({ messageId: i }));
      clock.advance(1);
      layer.respond(seen[i]!, { code: Code.Content, token: Uint8Array.of(1), options: [], payload: new Uint8Array(200) });
    }
    const s = layer.dedupStats;
    assert.ok(s.entries <= 50, `entries ${s.entries}`);
    assert.ok(s.bytes <= 8 * 1024, `bytes ${s.bytes}`);
    assert.ok(s.evictions >= 250);
  });
});
