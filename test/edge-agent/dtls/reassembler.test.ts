/**
 * Handshake reassembly (RFC 6347 §4.2.3): out of order, overlapping, duplicated fragments;
 * retransmissions of delivered messages; bounds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HandshakeReassembler } from "../../../edge-agent/src/dtls/handshake/reassembler.js";
import type { HandshakeFragment } from "../../../edge-agent/src/dtls/handshake/header.js";

const body = Uint8Array.from({ length: 500 }, (_, i) => (i * 7) & 0xff);
const frag = (seq: number, offset: number, end: number, data = body, type = 11): HandshakeFragment => ({
  type,
  length: data.length,
  seq,
  offset,
  data: data.subarray(offset, end),
});

test("overlapping, duplicated, out-of-order fragments make one message, once", () => {
  const r = new HandshakeReassembler();
  assert.equal(r.push(frag(0, 300, 500), 0), "accepted");
  assert.equal(r.pop(), undefined);
  r.push(frag(0, 100, 350), 0); // overlaps both sides
  r.push(frag(0, 300, 500), 0); // duplicate
  assert.equal(r.pop(), undefined, "bytes 0..100 still missing");
  r.push(frag(0, 0, 120), 0);
  const m = r.pop();
  assert.ok(m);
  assert.deepEqual(m.body, body);
  assert.equal(m.seq, 0);
  assert.equal(r.pop(), undefined);
  assert.equal(r.push(frag(0, 0, 500), 0), "old", "a retransmission of a delivered message");
});

test("messages come out in message_seq order even when later ones complete first", () => {
  const r = new HandshakeReassembler();
  r.push(frag(1, 0, 500), 0);
  assert.equal(r.pop(), undefined);
  r.push(frag(0, 0, 500), 0);
  assert.equal(r.pop()?.seq, 0);
  assert.equal(r.pop()?.seq, 1);
});

test("a message whole in one fragment: a copy of it is taken once, an inconsistent one dropped", () => {
  const r = new HandshakeReassembler();
  assert.equal(r.push(frag(0, 0, 500), 0), "accepted");
  assert.equal(r.push(frag(0, 0, 500), 0), "accepted", "the same message again before it was taken");
  assert.equal(r.push(frag(0, 0, 100), 0), "accepted", "a piece of it");
  assert.equal(r.push(frag(0, 0, 500, body, 12), 0), "dropped", "another type under the same message_seq");
  assert.equal(r.push(frag(0, 0, 500), 1), "dropped", "another epoch");
  r.push(frag(1, 0, 500, body.subarray(0, 20)), 0); // the next message, whole, before this one was taken
  const m = r.pop();
  assert.deepEqual([m?.seq, m?.type, m?.epoch, m?.body.length], [0, 11, 0, 500]);
  assert.deepEqual(m?.body, body);
  assert.equal(r.pop()?.body.length, 20);
  assert.equal(r.pop(), undefined);
  assert.equal(r.push(frag(0, 0, 500), 0), "old");
  // The body is a copy: the record it came from may be reused.
  const data = body.slice(0, 30);
  r.push({ type: 13, length: 30, seq: 2, offset: 0, data }, 0);
  data.fill(0);
  assert.deepEqual(r.pop()?.body, body.subarray(0, 30));
});

test("skipping ahead forgets a whole message that is no longer next", () => {
  const r = new HandshakeReassembler();
  r.push(frag(0, 0, 500), 0);
  r.nextSeq = 1;
  assert.equal(r.pop(), undefined);
});

test("empty messages, bounds and inconsistent fragments", () => {
  const r = new HandshakeReassembler(0, 1000, 4);
  r.push({ type: 14, length: 0, seq: 0, offset: 0, data: new Uint8Array(0) }, 0);
  assert.equal(r.pop()?.type, 14);
  assert.equal(r.push(frag(5, 0, 10), 0), "dropped", "beyond the window");
  assert.equal(r.push({ type: 11, length: 5000, seq: 1, offset: 0, data: new Uint8Array(10) }, 0), "dropped", "too long");
  r.push(frag(1, 0, 10), 0);
  assert.equal(r.push(frag(1, 10, 20, body, 12), 0), "dropped", "type changed");
  assert.equal(r.push(frag(1, 10, 20), 1), "dropped", "epoch changed");
});

test("property: any fragmentation, order and duplication reassembles the original", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 499 }), { maxLength: 12 }), fc.integer(), (cuts, seed) => {
      const points = [...new Set([0, ...cuts, 500])].sort((a, b) => a - b);
      const frags: HandshakeFragment[] = [];
      for (let i = 0; i + 1 < points.length; i++) frags.push(frag(0, points[i]!, points[i + 1]!));
      const dup = [...frags, ...frags.slice(0, Math.abs(seed) % (frags.length + 1))];
      const shuffled = dup.map((f, i) => ({ f, k: (i * 2654435761 + seed) % 1000 })).sort((a, b) => a.k - b.k).map((x) => x.f);
      const r = new HandshakeReassembler();
      for (const f of shuffled) r.push(f, 0);
      const m = r.pop();
      return m !== undefined && Buffer.compare(m.body, body) === 0 && r.pop() === undefined;
    }),
    { numRuns: 300, seed: 7 },
  );
});
