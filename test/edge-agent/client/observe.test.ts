/**
 * Observe, client role (RFC 7641) in memory with a FakeClock: against our CoapServer (end to
 * end, Block2 notifications, cancel), and against a raw peer for the §3.4 reordering rule,
 * ACK of CON notifications and RST of unknown ones.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, MessageType, OptionNumber, getUintOption, uintOption, type CoapMessage } from "@coaps-edge/shared";
import { CoapClient, isFresher, type CoapNotification, type Observation } from "../../../edge-agent/src/client/index.js";
import { CoapServer } from "../../../edge-agent/src/server/index.js";
import type { FakeClock } from "../../../edge-agent/src/util/clock.js";
import { RawPeer, fakeNet, fixedRandom, flush, text } from "../coap-kit.js";

async function settle<T>(clock: FakeClock, p: Promise<T>, stepMs = 5, maxMs = 60_000): Promise<T> {
  let done: { v?: T; e?: unknown } | undefined;
  p.then(
    (v) => (done = { v }),
    (e: unknown) => (done = { e }),
  );
  const t0 = clock.now();
  while (!done && clock.now() - t0 < maxMs) {
    await flush(2);
    if (!done) clock.advance(stepMs);
  }
  assert.ok(done, "settled");
  if ("e" in done && done.e !== undefined) throw done.e;
  return done.v as T;
}

async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 5) {
    clock.advance(5);
    await flush(2);
  }
}

describe("isFresher (RFC 7641 §3.4)", () => {
  it("follows serial-number arithmetic on 24 bits and the 128-second rule", () => {
    assert.equal(isFresher(5, 0, 6, 0), true);
    assert.equal(isFresher(6, 0, 5, 0), false);
    assert.equal(isFresher(5, 0, 5, 0), false);
    assert.equal(isFresher(0xffffff, 0, 0, 0), true, "wrap");
    assert.equal(isFresher(0, 0, 0xffffff, 0), false, "behind across the wrap");
    assert.equal(isFresher(10, 0, 10 + (1 << 23), 0), false, "2^23 ahead is not newer");
    assert.equal(isFresher(10, 0, 10 + (1 << 23) - 1, 0), true);
    assert.equal(isFresher(6, 0, 5, 128_001), true, "more than 128 s later");
    assert.equal(isFresher(6, 0, 5, 128_000), false);
  });
});

describe("CoapClient.observe against CoapServer (in memory)", () => {
  function setup() {
    const { clock, net } = fakeNet();
    const server = new CoapServer({ clock, random: fixedRandom(), blockwise: { preferredSzx: 4 } });
    server.attach(net.endpoint(5683));
    const client = new CoapClient({ clock, endpoint: net.endpoint(), random: fixedRandom() });
    let state = 0;
    let big = false;
    server.addResource("/obs", { obs: true, get: () => ({ code: "2.05", payload: big ? `${state}:` + "y".repeat(3000) : `state ${state}` }) });
    return {
      clock,
      server,
      client,
      bump: () => {
        state++;
        server.notifyObservers("/obs");
      },
      setBig: (b: boolean) => (big = b),
    };
  }

  it("gets the registration response and every notification, then cancel() deregisters", async () => {
    const { clock, server, client, bump } = setup();
    const got: CoapNotification[] = [];
    const obs: Observation = await settle(clock, client.observe({ uri: "coap://127.0.0.1:5683/obs" }, (n) => got.push(n)));
    assert.equal(obs.active, true);
    assert.equal(server.observe.size, 1);
    for (let i = 0; i < 3; i++) {
      bump();
      await run(clock, 20);
    }
    assert.deepEqual(got.map((n) => text(n.payload)), ["state 0", "state 1", "state 2", "state 3"]);
    assert.ok(got.every((n) => n.observe !== undefined && n.code === Code.Content));
    await settle(clock, obs.cancel());
    assert.equal(server.observe.size, 0, "Observe=1 removed the entry");
    assert.equal(await obs.ended, "cancelled");
    bump();
    await run(clock, 20);
    assert.equal(got.length, 4);
  });

  it("a resource that is not observable: one response, the observation is not active", async () => {
    const { clock, server, client } = setup();
    server.addResource("/plain", { get: () => ({ code: "2.05", payload: "p" }) });
    const got: CoapNotification[] = [];
    const obs = await settle(clock, client.observe({ uri: "coap://127.0.0.1:5683/plain" }, (n) => got.push(n)));
    assert.equal(obs.active, false);
    assert.equal(await obs.ended, "not-registered");
    assert.equal(got.length, 1);
    assert.equal(got[0]?.observe, undefined);
  });

  it("Block2 notifications are completed with GETs without Observe before delivery", async () => {
    const { clock, server, client, bump, setBig } = setup();
    setBig(true);
    const got: CoapNotification[] = [];
    const obs = await settle(clock, client.observe({ uri: "coap://127.0.0.1:5683/obs" }, (n) => got.push(n)));
    bump();
    await run(clock, 100);
    assert.equal(got.length, 2);
    assert.equal(got[1]?.payload.length, 2 + 3000);
    assert.equal(text(got[1]!.payload).slice(0, 2), "1:");
    assert.ok(got[1]!.messages > 1, "follow-up block requests");
    assert.equal(server.observe.size, 1, "the block GETs did not touch the registration");
    await settle(clock, obs.cancel());
  });

  it("closing the client ends the observation", async () => {
    const { clock, client } = setup();
    const obs = await settle(clock, client.observe({ uri: "coap://127.0.0.1:5683/obs" }, () => {}));
    await client.close();
    assert.equal(await obs.ended, "closed");
  });
});

describe("CoapClient.observe against a raw server", () => {
  function setup() {
    const { clock, net } = fakeNet();
    const server = new RawPeer(net, clock, 5683);
    const client = new CoapClient({ clock, endpoint: net.endpoint(), random: fixedRandom() });
    const got: CoapNotification[] = [];
    let reg: CoapMessage | undefined;
    let mid = 0x4000;
    const notify = async (seq: number | undefined, type: MessageType = MessageType.NON, payload = `n${seq}`, token?: Uint8Array) => {
      const before = server.received.length;
      server.send(client.layers[0]!.endpoint.local, {
        type,
        code: Code.Content,
        messageId: mid++,
        token: token ?? reg!.token,
        options: seq === undefined ? [] : [uintOption(OptionNumber.Observe, seq)],
        payload: new TextEncoder().encode(payload),
      });
      await run(clock, 10);
      return server.messages().slice(before);
    };
    const start = async (): Promise<Observation> => {
      const p = client.observe({ uri: "coap://127.0.0.1:5683/obs" }, (n) => got.push(n));
      await run(clock, 10);
      reg = server.messages().at(-1);
      assert.equal(getUintOption(reg!, OptionNumber.Observe), 0, "registration carries Observe=0");
      server.send(client.layers[0]!.endpoint.local, { type: MessageType.ACK, code: Code.Content, messageId: reg!.messageId, token: reg!.token, options: [uintOption(OptionNumber.Observe, 100)], payload: new TextEncoder().encode("n100") });
      return settle(clock, p);
    };
    return { clock, server, client, got, notify, start };
  }

  it("drops reordered notifications (§3.4) and takes one after 128 s", async () => {
    const { clock, got, notify, start } = setup();
    const obs = await start();
    await notify(102);
    await notify(101); // older: dropped
    await notify(103);
    assert.deepEqual(got.map((n) => n.observe), [100, 102, 103]);
    assert.equal(obs.stats.reordered, 1);
    await run(clock, 129_000);
    await notify(50);
    assert.deepEqual(got.map((n) => n.observe), [100, 102, 103, 50]);
  });

  it("accepts the 24-bit wrap", async () => {
    const { got, notify, start } = setup();
    await start();
    for (const seq of [0x700000, 0xd00000, 0xffffff, 0, 1]) await notify(seq);
    assert.deepEqual(got.map((n) => n.observe), [100, 0x700000, 0xd00000, 0xffffff, 0, 1]);
  });

  it("ACKs a CON notification, and RSTs a CON notification with an unknown token", async () => {
    const { notify, start } = setup();
    await start();
    const [ack] = await notify(101, MessageType.CON);
    assert.equal(ack?.type, MessageType.ACK);
    const [rst] = await notify(102, MessageType.CON, "x", Uint8Array.of(0xee));
    assert.equal(rst?.type, MessageType.RST);
  });

  it("a notification without Observe (or a 4.xx) ends the observation; later ones are rejected", async () => {
    const { got, notify, start } = setup();
    const obs = await start();
    await notify(undefined);
    assert.equal(await obs.ended, "ended-by-server");
    assert.equal(got.length, 2);
    const [rst] = await notify(105, MessageType.CON);
    assert.equal(rst?.type, MessageType.RST, "§3.6: unknown after the end");
  });

  it("cancel() sends GET with Observe=1 and the registration's token", async () => {
    const { clock, server, start } = setup();
    const obs = await start();
    const p = obs.cancel();
    await run(clock, 10);
    const dereg = server.messages().at(-1)!;
    assert.equal(getUintOption(dereg, OptionNumber.Observe), 1);
    assert.deepEqual(dereg.token, obs.token);
    await settle(clock, p, 100, 200_000);
  });
});
