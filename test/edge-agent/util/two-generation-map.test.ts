/**
 * TwoGenerationMap (edge-agent/src/util/two-generation-map.ts): bounded, O(1), and an entry used
 * within the last half-bound of new keys is never forgotten.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TwoGenerationMap } from "../../../edge-agent/src/util/two-generation-map.js";

test("holds at most maxEntries, whatever is added", () => {
  const m = new TwoGenerationMap<number, number>(10);
  for (let i = 0; i < 1000; i++) {
    m.set(i, i);
    assert.ok(m.size <= 10, `size ${m.size} after ${i + 1} keys`);
  }
  assert.equal(m.get(999), 999);
  assert.equal(m.get(0), undefined, "long unused: forgotten");
});

test("a key touched within every half-bound of new keys survives a flood", () => {
  const m = new TwoGenerationMap<string, string>(100);
  m.set("busy", "yes");
  for (let i = 0; i < 10_000; i++) {
    m.set(`k${i}`, "x");
    if (i % 49 === 0) assert.equal(m.get("busy"), "yes", `lost after ${i} new keys`);
  }
});

test("replacing a key keeps one entry; a hit in the older generation moves it back", () => {
  const m = new TwoGenerationMap<string, number>(4);
  m.set("a", 1);
  m.set("a", 2);
  assert.equal(m.size, 1);
  m.set("b", 3); // generation of 2 full
  m.set("c", 4); // a, b now the older generation
  assert.equal(m.get("a"), 2);
  m.set("d", 5);
  m.set("e", 6); // rotates: the older generation {b} goes; a was moved to the newer one
  assert.equal(m.get("b"), undefined);
  assert.equal(m.get("a"), 2);
});

test("a bound of 1 keeps exactly the last key", () => {
  const m = new TwoGenerationMap<number, number>(1);
  m.set(1, 1);
  m.set(2, 2);
  assert.equal(m.size, 1);
  assert.equal(m.get(1), undefined);
  assert.equal(m.get(2), 2);
  assert.throws(() => new TwoGenerationMap(0), RangeError);
});
