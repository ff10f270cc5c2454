// The RFC 8323 connection state machine over in-memory channels and a fake clock: CSM first
// each way, Ping/Pong, Release, Abort, limits. A raw peer (our codec, no connection logic)
// plays the other side so every byte it gets can be checked.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  SignalCode,
  abortMessage,
  csmMessage,
  decodeStreamMessage,
  encodeStreamMessage,
  parseSignal,
  pingMessage,
  releaseMessage,
  type StreamMessage,
} from "@coaps-edge/shared";
import { memoryChannelPair, type StreamChannel } from "../../../edge-agent/src/coap/stream/channel.js";
import { StreamConnection, type ConnectionEvents } from "../../../edge-agent/src/coap/stream/connection.js";
import { FrameReader, FrameTooLargeError } from "../../../edge-agent/src/coap/stream/frame-reader.js";
import { FakeClock } from "../../../edge-agent/src/util/clock.js";
import { flush } from "../coap-kit.js";

/** The far end: sends encoded messages, records decoded ones and whether it saw the close. */
class RawPeer {
  readonly got: StreamMessage[] = [];
  closed: string | undefined;
  readonly #reader = new FrameReader(1 << 24);
  constructor(readonly channel: StreamChannel) {
    channel.onData = (b) => {
      for (const f of this.#reader.push(b)) this.got.push(decodeStreamMessage(f));
    };
    channel.onClose = (r) => void (this.closed = r);
  }
  send(m: StreamMessage): void {
    this.channel.send(encodeStreamMessage(m));
  }
  signals(): string[] {
    return this.got.map((m) => parseSignal(m).kind);
  }
}

function recorder(): ConnectionEvents & { messages: StreamMessage[]; ready: number; closed: string[] } {
  const r = {
    messages: [] as StreamMessage[],
    ready: 0,
    closed: [] as string[],
    onReady: () => void r.ready++,
    onMessage: (_c: StreamConnection, m: StreamMessage) => void r.messages.push(m),
    onClosed: (_c: StreamConnection, reason: string) => void r.closed.push(reason),
  };
  return r;
}

function setup(options: { maxMessageSize?: number; blockWiseTransfer?: boolean } = {}) {
  const clock = new FakeClock(0);
  const [a, b] = memoryChannelPair();
  const events = recorder();
  const conn = new StreamConnection(a, events, { clock, csmTimeoutMs: 5000, pingTimeoutMs: 3000, ...options });
  const peer = new RawPeer(b);
  conn.start();
  return { clock, conn, peer, events };
}

const GET: StreamMessage = { code: 1, token: Uint8Array.of(1), options: [], payload: new Uint8Array(0) };

describe("StreamConnection", () => {
  it("sends its CSM first; the peer's CSM opens the connection and is recorded (the exchange observed)", async () => {
    const { conn, peer, events } = setup({ maxMessageSize: 4096 });
    await flush(1);
    assert.deepEqual(parseSignal(peer.got[0] as StreamMessage), { kind: "csm", maxMessageSize: 4096, blockWiseTransfer: true });
    assert.equal(conn.state, "awaiting-csm");
    peer.send(csmMessage({ maxMessageSize: 2000, blockWiseTransfer: true }));
    await conn.ready;
    assert.equal(conn.state, "open");
    assert.equal(events.ready, 1);
    assert.equal(conn.peerMaxMessageSize, 2000);
    assert.equal(conn.bert, true);
    assert.equal(conn.peerCsms.length, 1);
    peer.send(GET);
    await flush(1);
    assert.equal(events.messages.length, 1);
  });

  it("without Block-Wise-Transfer from the peer there is no BERT, and Max-Message-Size stays 1152", async () => {
    const { conn, peer } = setup();
    peer.send(csmMessage({}));
    await conn.ready;
    assert.equal(conn.bert, false);
    assert.equal(conn.peerMaxMessageSize, 1152);
  });

  it("a first message that is not a CSM aborts the connection (§5.3)", async () => {
    const { conn, peer, events } = setup();
    peer.send(GET);
    await flush(2);
    assert.deepEqual(peer.signals(), ["csm", "abort"]);
    assert.equal(conn.state, "closed");
    assert.match(events.closed[0] ?? "", /first message must be a CSM/);
    await assert.rejects(conn.ready);
    assert.equal(events.messages.length, 0);
  });

  it("no CSM within the timeout → Abort", async () => {
    const { clock, conn, peer } = setup();
    clock.advance(4999);
    await flush(1);
    assert.equal(conn.state, "awaiting-csm");
    clock.advance(1);
    await flush(2);
    assert.deepEqual(peer.signals(), ["csm", "abort"]);
    assert.equal(conn.state, "closed");
  });

  it("an unknown critical CSM option → Abort naming it in Bad-CSM-Option", async () => {
    const { conn, peer } = setup();
    peer.send({ code: SignalCode.CSM, token: new Uint8Array(0), options: [{ number: 9, value: new Uint8Array(0) }], payload: new Uint8Array(0) });
    await flush(2);
    const abort = parseSignal(peer.got[1] as StreamMessage);
    assert.equal(abort.kind, "abort");
    assert.equal(abort.kind === "abort" && abort.badCsmOption, 9);
    assert.equal(conn.state, "closed");
  });

  it("Ping → Pong with the same token and Custody; our ping resolves with the round trip on the clock", async () => {
    const { clock, conn, peer } = setup();
    peer.send(csmMessage({ blockWiseTransfer: true }));
    await conn.ready;
    peer.send(pingMessage(Uint8Array.of(9, 9), true));
    await flush(1);
    const pong = peer.got.at(-1) as StreamMessage;
    assert.deepEqual(parseSignal(pong), { kind: "pong", custody: true });
    assert.deepEqual(Array.from(pong.token), [9, 9]);

    const rtt = conn.ping();
    await flush(1);
    const ping = peer.got.at(-1) as StreamMessage;
    assert.equal(ping.code, SignalCode.Ping);
    clock.advance(25);
    peer.send({ code: SignalCode.Pong, token: ping.token, options: [], payload: new Uint8Array(0) });
    assert.equal(await rtt, 25);
  });

  it("a Ping without Pong fails after the ping timeout", async () => {
    const { clock, conn, peer } = setup();
    peer.send(csmMessage({}));
    await conn.ready;
    const p = conn.ping();
    clock.advance(3000);
    await assert.rejects(p, (e: Error & { code?: string }) => e.code === "timeout");
  });

  it("release() sends Release and closes; a Release from the peer closes too", async () => {
    const one = setup();
    one.peer.send(csmMessage({}));
    await one.conn.ready;
    one.conn.release({ diagnostic: "done" });
    await flush(2);
    assert.deepEqual(one.peer.signals(), ["csm", "release"]);
    assert.equal(one.conn.state, "closed");

    const two = setup();
    two.peer.send(csmMessage({}));
    await two.conn.ready;
    two.peer.send(releaseMessage({ holdOffSeconds: 5 }));
    await flush(2);
    assert.equal(two.conn.state, "closed");
    assert.match(two.conn.closeReason ?? "", /released by peer/);
  });

  it("an Abort from the peer closes at once and fails pending pings", async () => {
    const { conn, peer } = setup();
    peer.send(csmMessage({}));
    await conn.ready;
    const p = conn.ping();
    peer.send(abortMessage({ diagnostic: "bye" }));
    await assert.rejects(p, (e: Error & { code?: string }) => e.code === "closed");
    assert.equal(conn.state, "closed");
    assert.match(conn.closeReason ?? "", /aborted by peer: bye/);
  });

  it("a message over our Max-Message-Size → Abort before its body is buffered", async () => {
    const { conn, peer } = setup({ maxMessageSize: 256 });
    peer.send(csmMessage({}));
    await conn.ready;
    // Only the header of a 100 kB message: the length alone is enough to refuse it.
    peer.channel.send(Uint8Array.of(0xf0, 0x00, 0x00, 0x80, 0x00, 0x01));
    await flush(2);
    assert.equal(conn.stats.malformed, 1);
    assert.deepEqual(peer.signals(), ["csm", "abort"]);
    assert.equal(conn.state, "closed");
  });

  it("send() refuses a message larger than the peer's Max-Message-Size", async () => {
    const { conn, peer } = setup();
    peer.send(csmMessage({ maxMessageSize: 100 }));
    await conn.ready;
    assert.throws(() => conn.send({ ...GET, code: 0x45, payload: new Uint8Array(200) }), RangeError);
  });

  it("Empty messages and unknown signal codes are ignored", async () => {
    const { conn, peer, events } = setup();
    peer.send(csmMessage({}));
    await conn.ready;
    peer.send({ code: 0, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    peer.send({ code: 0xe7, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    await flush(1);
    assert.equal(conn.stats.ignored, 2);
    assert.equal(conn.state, "open");
    assert.equal(events.messages.length, 0);
  });
});

describe("FrameReader", () => {
  it("reassembles frames from any split of the byte stream", () => {
    const msgs: StreamMessage[] = [
      csmMessage({ maxMessageSize: 70000, blockWiseTransfer: true }),
      { code: 0x45, token: Uint8Array.of(1, 2, 3), options: [{ number: 12, value: Uint8Array.of(0) }], payload: new Uint8Array(300).fill(7) },
      { code: 0x45, token: new Uint8Array(0), options: [], payload: new Uint8Array(70000).fill(9) },
      { code: 1, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) },
    ];
    const stream = Buffer.concat(msgs.map((m) => encodeStreamMessage(m)));
    for (const step of [1, 2, 3, 5, 7, 64, 4096, stream.length]) {
      const r = new FrameReader(100_000);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) frames.push(...r.push(stream.subarray(i, i + step)));
      assert.equal(frames.length, msgs.length, `step ${step}`);
      assert.equal(decodeStreamMessage(frames[2] as Uint8Array).payload.length, 70000);
      assert.equal(r.buffered, 0);
    }
  });
  it("throws FrameTooLargeError from the header alone", () => {
    const r = new FrameReader(1000);
    assert.throws(() => r.push(Uint8Array.of(0xe0, 0x10, 0x00, 0x45)), FrameTooLargeError);
  });
});
