import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { transmissionTimes } from "../../../edge-agent/src/coap/constants.js";
import { DedupCache } from "../../../edge-agent/src/coap/dedup-cache.js";
import { ExpiringMap } from "../../../edge-agent/src/coap/expiring-map.js";
import { MessageIdAllocator } from "../../../edge-agent/src/coap/message-ids.js";
import { TimerQueue, type TimerEntry } from "../../../edge-agent/src/coap/timer-queue.js";
import { TokenGenerator, tokenKey, toHex } from "../../../edge-agent/src/coap/tokens.js";
import { FakeClock } from "../../../edge-agent/src/util/clock.js";

describe("transmission parameters (RFC 7252 §4.8.2)", () => {
  it("derives the RFC's default values", () => {
    const t = transmissionTimes();
    // The RFC's own table (§4.8.2): 45 s, 93 s, 247 s, 145 s, 202 s.
    assert.equal(t.maxTransmitSpanMs, 45_000);
    assert.equal(t.maxTransmitWaitMs, 93_000);
    assert.equal(t.exchangeLifetimeMs, 247_000);
    assert.equal(t.nonLifetimeMs, 145_000);
    assert.equal(t.maxRttMs, 202_000);
  });

  it("follows changed inputs through the formulas", () => {
    const t = transmissionTimes({ ackTimeoutMs: 1000, maxRetransmit: 2, ackRandomFactor: 2 });
    assert.equal(t.maxTransmitSpanMs, 1000 * 3 * 2);
    assert.equal(t.maxTransmitWaitMs, 1000 * 7 * 2);
    assert.equal(t.exchangeLifetimeMs, 6000 + 200_000 + 1000);
  });

  it("rejects impossible parameters", () => {
    assert.throws(() => transmissionTimes({ ackRandomFactor: 0.5 }), RangeError);
    assert.throws(() => transmissionTimes({ nstart: 0 }), RangeError);
  });
});

class Entry implements TimerEntry {
  timerDue = 0;
  timerIndex = -1;
  constructor(readonly name: string) {}
}

describe("TimerQueue", () => {
  it("fires entries in due order on one clock timer, skipping removed ones", () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const q = new TimerQueue<Entry>(clock, (e) => fired.push(`${e.name}@${clock.now()}`));
    const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => new Entry(n)) as [Entry, Entry, Entry, Entry];
    q.scheduleIn(c, 300);
    q.scheduleIn(a, 100);
    q.scheduleIn(b, 200);
    q.scheduleIn(d, 150);
    q.remove(d);
    assert.equal(clock.pending, 1, "one armed clock timer for four deadlines");
    q.schedule(b, 50); // reschedule earlier
    clock.advance(1000);
    assert.deepEqual(fired, ["b@50", "a@100", "c@300"]);
    assert.equal(q.size, 0);
  });

  it("keeps heap order under many random operations", () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const q = new TimerQueue<Entry & { due: number }>(clock, (e) => fired.push(e.due));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const live = new Set<Entry & { due: number }>();
    for (let i = 0; i < 2000; i++) {
      const e = Object.assign(new Entry(String(i)), { due: Math.floor(rnd() * 10_000) });
      q.schedule(e, e.due);
      live.add(e);
      if (rnd() < 0.3) {
        const victim = [...live][Math.floor(rnd() * live.size)]!;
        q.remove(victim);
        live.delete(victim);
      }
    }
    clock.advance(20_000);
    assert.equal(fired.length, live.size);
    assert.deepEqual(fired, [...fired].sort((x, y) => x - y));
  });
});

describe("DedupCache", () => {
  const A = { address: "10.0.0.1", port: 5683, family: "IPv4" } as const;
  const B = { address: "10.0.0.2", port: 5683, family: "IPv4" } as const;

  it("expires entries after their lifetime and sweeps them on insert", () => {
    const c = new DedupCache({ maxEntries: 100 });
    c.add(A, 1, 0, 1000);
    c.add(A, 2, 500, 1000);
    assert.notEqual(c.find(A, 1, 999), undefined);
    assert.equal(c.find(A, 1, 1000), undefined);
    assert.equal(c.find(B, 2, 600), undefined, "same message ID from another peer is another exchange");
    c.add(B, 3, 1600, 1000); // sweeps A/2 (expired at 1500)
    assert.equal(c.stats.entries, 1);
  });

  it("charges reply bytes and evicts the oldest to stay within maxBytes", () => {
    const c = new DedupCache({ maxEntries: 1000, maxBytes: 2000 });
    for (let i = 0; i < 10; i++) c.setReply(c.add(A, i, 0, 10_000), new Uint8Array(400));
    assert.ok(c.stats.bytes <= 2000);
    assert.notEqual(c.find(A, 9, 1), undefined);
    assert.equal(c.find(A, 0, 1), undefined);
    assert.ok(c.stats.evictions > 0);
  });

  it("keeps replies and pending state per entry while the ring grows, evicts the oldest at maxEntries", () => {
    const c = new DedupCache<string>({ maxEntries: 300 });
    const handles: number[] = [];
    for (let i = 0; i < 300; i++) {
      const h = c.add(i % 2 ? A : B, i, 0, 10_000, `p${i}`);
      if (i % 3 === 0) c.setReply(h, Uint8Array.of(i & 0xff));
      handles.push(h);
    }
    assert.equal(c.stats.entries, 300);
    for (let i = 0; i < 300; i++) {
      const h = c.find(i % 2 ? A : B, i, 1);
      assert.equal(h, handles[i]);
      if (i % 3 === 0) {
        assert.deepEqual(c.reply(h!), Uint8Array.of(i & 0xff));
        assert.equal(c.pending(h!), undefined, "setReply clears pending");
      } else {
        assert.equal(c.reply(h!), undefined);
        assert.equal(c.pending(h!), `p${i}`);
      }
    }
    const newest = c.add(A, 1000, 2, 10_000);
    assert.equal(c.stats.entries, 300);
    assert.equal(c.stats.evictions, 1);
    assert.equal(c.find(B, 0, 3), undefined, "the oldest entry made room");
    // A handle of an evicted entry no longer reaches anything, though its slot was reused.
    c.setReply(handles[0]!, Uint8Array.of(9));
    assert.equal(c.reply(handles[0]!), undefined);
    assert.equal(c.reply(newest), undefined);
  });

  it("a peer's index holds one entry inline, then a map; it is deleted with its last entry", () => {
    const c = new DedupCache({ maxEntries: 1000 });
    const a1 = c.add(A, 1, 0, 1000);
    assert.equal(c.find(A, 2, 1), undefined, "another message ID of a peer with one entry");
    const a2 = c.add(A, 2, 100, 1000);
    const b1 = c.add(B, 1, 100, 5000);
    for (let i = 0; i < 100; i++) c.add({ ...B, port: 6000 + i }, i, 200, 5000); // the ring grows and re-lays every index
    assert.equal(c.find(A, 1, 300), a1);
    assert.equal(c.find(A, 2, 300), a2);
    assert.equal(c.find(B, 1, 300), b1);
    assert.equal(c.peerCount, 102);
    assert.equal(c.find(A, 1, 1000), undefined, "expired");
    assert.equal(c.peerCount, 102, "A still has message 2");
    assert.equal(c.find(A, 2, 1100), undefined);
    assert.equal(c.peerCount, 101, "no index is kept for a peer without entries");
    c.add(B, 2, 5300, 1000); // the insert sweeps everything that expired (B/1 at 5100, the others at 5200)
    assert.equal(c.find(B, 1, 5300), undefined);
    assert.equal(c.peerCount, 1, "only B, with its new entry");
    assert.notEqual(c.find(B, 2, 5301), undefined);
  });

  it("dropPeer forgets one peer's entries (inline and mapped) and keeps the others'; their slots are reused", () => {
    const c = new DedupCache({ maxEntries: 4 });
    c.add(A, 1, 0, 1000);
    assert.equal(c.dropPeer(A), 1, "a peer with one entry (held inline)");
    assert.equal(c.find(A, 1, 1), undefined);
    for (let id = 2; id <= 3; id++) c.add(A, id, 1, 1000);
    const b1 = c.add(B, 1, 1, 1000);
    assert.equal(c.dropPeer({ ...A }), 2, "a peer with a map of entries, found by value");
    assert.equal(c.dropPeer(A), 0, "nothing left");
    assert.deepEqual([c.stats.entries, c.peerCount], [1, 1]);
    assert.equal(c.find(B, 1, 2), b1, "the other peer's entry stays");
    // The dropped entries were the oldest: the next inserts sweep their slots, nothing is evicted.
    for (let id = 2; id <= 4; id++) c.add(B, id, 3, 1000);
    assert.deepEqual([c.stats.entries, c.stats.evictions], [4, 0]);
    assert.equal(c.find(B, 1, 4), b1);
  });

  it("a message ID received again replaces its entry; clear() forgets everything", () => {
    const c = new DedupCache({ maxEntries: 10 });
    const first = c.add(A, 7, 0, 1000);
    c.setReply(first, Uint8Array.of(1));
    const second = c.add(A, 7, 10, 1000);
    assert.equal(c.stats.entries, 1);
    assert.equal(c.reply(first), undefined);
    assert.equal(c.find(A, 7, 20), second);
    c.clear();
    assert.deepEqual(c.stats, { entries: 0, bytes: 0, evictions: 0 });
    assert.equal(c.find(A, 7, 20), undefined);
    assert.equal(c.reply(second), undefined);
    const again = c.add(A, 7, 30, 1000);
    assert.equal(c.find(A, 7, 40), again);
  });
});

describe("ExpiringMap", () => {
  it("is LRU by touch, expires idle entries and respects byte limits", () => {
    const m = new ExpiringMap<number>({ maxEntries: 3, maxBytes: 100, idleMs: 1000 });
    m.set("a", 1, 10, 0);
    m.set("b", 2, 10, 0);
    m.set("c", 3, 10, 0);
    assert.equal(m.get("a", 500), 1); // touch a: b is now the oldest
    m.set("d", 4, 10, 500);
    assert.equal(m.get("b", 600), undefined);
    assert.equal(m.get("a", 600), 1);
    assert.equal(m.get("c", 1600), undefined, "idle for 1000 ms");
    m.set("big", 5, 95, 1700);
    assert.ok(m.bytes <= 100);
    assert.equal(m.get("big", 1700), 5);
  });
});

describe("message IDs and tokens", () => {
  it("starts message IDs at a random value and wraps at 16 bits", () => {
    const ids = new MessageIdAllocator(() => 0xffff / 0x10000);
    assert.equal(ids.next(), 0xffff);
    assert.equal(ids.next(), 0);
    assert.equal(ids.next(), 1);
    const a = new MessageIdAllocator().next();
    const b = new MessageIdAllocator().next();
    const c = new MessageIdAllocator().next();
    assert.ok(a !== b || b !== c, "random starts");
  });

  it("makes random tokens of the asked length and keys them per peer", () => {
    const g = new TokenGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = g.next(8);
      assert.equal(t.length, 8);
      seen.add(toHex(t));
    }
    assert.equal(seen.size, 2000);
    assert.equal(g.next(0).length, 0);
    assert.throws(() => g.next(9), RangeError);
    const peer = { address: "::1", port: 5683, family: "IPv6" } as const;
    assert.equal(tokenKey(peer, Uint8Array.of(0xab, 1)), "::1|5683|ab01");
  });
});
