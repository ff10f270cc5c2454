/**
 * The limit and metrics settings of the config reach the DtlsServer options: defaults (half-open
 * 100 as libcoap, 10 handshakes/s per IP with a burst of 20, eviction after 10 s idle, metrics
 * off on 127.0.0.1:9464), the "off" encodings, and out-of-range values rejected with their path.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentConfigSchema } from "@coaps-edge/shared";
import { dtlsServerOptions } from "../../../edge-agent/src/dtls-listener.js";

const parse = (v: object) => AgentConfigSchema.parse({ coaps: { enabled: true, defaultPsk: { key: "k" } }, ...v });

test("defaults: libcoap's half-open cap, per-IP handshake rate, idle eviction, metrics off and local", () => {
  const c = parse({});
  assert.equal(c.coaps.maxHalfOpen, 100);
  const { handshakesPerSecond, handshakeBurst, rateLimitAddresses, evictIdleAfterMs, maxForwardsPerPeer, maxBlockTransfersPerPeer } = c.limits;
  assert.deepEqual(
    { handshakesPerSecond, handshakeBurst, rateLimitAddresses, evictIdleAfterMs, maxForwardsPerPeer, maxBlockTransfersPerPeer },
    { handshakesPerSecond: 10, handshakeBurst: 20, rateLimitAddresses: 10_000, evictIdleAfterMs: 10_000, maxForwardsPerPeer: 8, maxBlockTransfersPerPeer: 4 },
  );
  assert.deepEqual(c.metrics, { enabled: false, address: "127.0.0.1", port: 9464 });
  const o = dtlsServerOptions(c);
  assert.equal(o.maxHalfOpen, 100);
  assert.deepEqual(o.handshakeRate, { perSecond: 10, burst: 20, maxAddresses: 10_000 });
  assert.equal(o.evictIdleAfterMs, 10_000);
});

test("0 handshakes/s turns the rate limit off, -1 turns eviction off; bad values name their path", () => {
  const o = dtlsServerOptions(parse({ limits: { handshakesPerSecond: 0, evictIdleAfterMs: -1 } }));
  assert.equal(o.handshakeRate, false);
  assert.equal(o.evictIdleAfterMs, false);
  const bad = AgentConfigSchema.safeParse({ limits: { handshakeBurst: 0, maxForwardsPerPeer: 0 }, metrics: { port: 70000 } });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues.map((i) => i.path.join(".")).sort(), ["limits.handshakeBurst", "limits.maxForwardsPerPeer", "metrics.port"]);
});
