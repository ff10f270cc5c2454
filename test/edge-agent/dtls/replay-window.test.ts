/**
 * The 64-entry anti-replay window (RFC 6347 §4.1.2.6), including the word boundary at 32 and
 * sequence numbers beyond 2^32.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReplayWindow, smallInt } from "../../../edge-agent/src/dtls/record/replay-window.js";

test("new numbers pass, duplicates and numbers left of the window do not", () => {
  const w = new ReplayWindow();
  assert.ok(w.check(0));
  w.accept(0);
  assert.equal(w.check(0), false);
  w.accept(100);
  assert.equal(w.highest, 100);
  // 100 - 63 = 37 is the left edge.
  assert.ok(w.check(37));
  assert.equal(w.check(36), false);
  for (const s of [37, 60, 68, 69, 99]) {
    assert.ok(w.check(s), `first ${s}`);
    w.accept(s);
    assert.equal(w.check(s), false, `again ${s}`);
  }
  assert.ok(w.check(98));
});

test("out-of-order arrivals within 64 are each accepted once, across the 32-bit word boundary", () => {
  const w = new ReplayWindow();
  const order = Array.from({ length: 64 }, (_, i) => (i * 37) % 64); // a permutation of 0..63
  for (const s of order) {
    assert.ok(w.check(s), `first ${s}`);
    w.accept(s);
  }
  for (let s = 0; s < 64; s++) assert.equal(w.check(s), false, `replayed ${s}`);
  // Shifting by 33 moves bits from the low to the high word.
  w.accept(96);
  for (let s = 33; s < 64; s++) assert.equal(w.check(s), false, `still remembered ${s}`);
  for (let s = 64; s < 96; s++) assert.ok(w.check(s), `never seen ${s}`);
  assert.equal(w.check(32), false, "left of the window");
});

test("large jumps clear the window; numbers above 2^32 work", () => {
  const w = new ReplayWindow();
  w.accept(5);
  w.accept(2 ** 40);
  assert.equal(w.check(5), false);
  assert.ok(w.check(2 ** 40 - 1));
  w.accept(2 ** 40 - 1);
  assert.equal(w.check(2 ** 40 - 1), false);
  w.accept(2 ** 48 - 1);
  assert.equal(w.check(2 ** 48 - 1), false);
  assert.ok(w.check(2 ** 48 - 2));
});

test("reset empties the window (a read epoch installed anew starts from nothing)", () => {
  const w = new ReplayWindow();
  for (const s of [3, 40, 70]) w.accept(s);
  assert.equal(w.check(40), false);
  w.reset();
  assert.equal(w.highest, -1);
  for (const s of [0, 3, 40, 70]) assert.ok(w.check(s), `after reset ${s}`);
  w.accept(3);
  assert.equal(w.check(3), false);
  assert.ok(w.check(2));
});

test("smallInt keeps every value, as an int32 up to 2^31 − 1 (no boxed number per session)", () => {
  for (const n of [-1, 0, 7, 2 ** 31 - 1, 2 ** 31, 2 ** 40, 2 ** 48 - 1]) assert.equal(smallInt(n), n);
  const decoded = 0 * 0x1_0000_0000 + 1234; // as a u48 decoder builds it
  assert.equal(smallInt(decoded), 1234);
});
