/**
 * The per-source-address handshake rate limit (token bucket keyed by IP, after the cookie
 * exchange): an address past its burst is refused and counted, refills with time, other
 * addresses are not affected; the address map never exceeds its bound.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../../edge-agent/src/util/clock.js";
import { AddressRateLimiter } from "../../../edge-agent/src/dtls/rate-limit.js";
import { fixture } from "../dtls/helpers.js";
import { addr, helloWithCookie } from "./helpers.js";

test("token bucket: burst, refill at the rate, one bucket per address", () => {
  const clock = new FakeClock();
  const rl = new AddressRateLimiter(clock, { perSecond: 2, burst: 3, maxAddresses: 100 });
  assert.deepEqual([1, 2, 3, 4].map(() => rl.take("a")), [true, true, true, false]);
  clock.advance(499);
  assert.equal(rl.take("a"), false, "less than one token refilled");
  clock.advance(1);
  assert.equal(rl.take("a"), true, "one token per 500 ms");
  assert.equal(rl.take("b"), true, "another address has its own bucket");
  assert.throws(() => new AddressRateLimiter(clock, { perSecond: 1, burst: 0, maxAddresses: 1 }), RangeError);
});

test("bounded address map: a busy address is remembered through a flood of new ones, an unused one is forgotten", () => {
  const clock = new FakeClock(); // no refill: a drained bucket stays drained while remembered
  const rl = new AddressRateLimiter(clock, { perSecond: 1, burst: 2, maxAddresses: 100 });
  const drain = (a: string) => [rl.take(a), rl.take(a), rl.take(a)];
  assert.deepEqual(drain("busy"), [true, true, false]);
  assert.deepEqual(drain("quiet"), [true, true, false]);
  let largest = 0;
  for (let i = 0; i < 10_000; i++) {
    assert.equal(rl.take(`x${i}`), true, "a new address starts with a full bucket");
    // "busy" retries every 40 new addresses: within half the bound, so never forgotten.
    if (i % 40 === 0) assert.equal(rl.take("busy"), false, `busy remembered (drained) after ${i} new addresses`);
    largest = Math.max(largest, rl.size);
  }
  assert.ok(largest <= 100 && largest >= 50, `address map bounded by maxAddresses (largest ${largest})`);
  assert.equal(rl.take("quiet"), true, "an address unused for more than maxAddresses new ones starts over");
  const one = new AddressRateLimiter(clock, { perSecond: 1, burst: 1, maxAddresses: 1 });
  for (const a of ["p", "q", "r"]) one.take(a);
  assert.equal(one.size, 1, "maxAddresses 1 holds one address");
});

test("the server refuses handshakes past an address's burst (any source port), counts them, and recovers", () => {
  const f = fixture({ server: { handshakeRate: { perSecond: 1, burst: 2 } } });
  // Five handshakes from one IP, each from another port (a device or attacker cycling ports).
  for (let n = 0; n < 5; n++) helloWithCookie(f, addr(7, 3000 + n), n);
  assert.equal(f.server.halfOpenCount, 2);
  assert.equal(f.server.limitStats.rateLimited, 3);
  helloWithCookie(f, addr(8), 100);
  assert.equal(f.server.halfOpenCount, 3, "another address is not limited");
  f.clock.advance(1000);
  helloWithCookie(f, addr(7, 4000), 200);
  assert.equal(f.server.halfOpenCount, 4, "one token back after a second");
  assert.equal(f.server.limitStats.rateLimited, 3);
});

test("handshakeRate: false turns the limit off", () => {
  const f = fixture({ server: { handshakeRate: false } });
  for (let n = 0; n < 50; n++) helloWithCookie(f, addr(7, 3000 + n), n);
  assert.equal(f.server.halfOpenCount, 50);
  assert.equal(f.server.limitStats.rateLimited, 0);
  assert.equal(f.server.rateLimitedAddresses, 0);
});
