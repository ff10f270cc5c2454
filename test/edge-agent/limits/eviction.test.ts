/**
 * maxSessions with least-recently-used eviction of idle sessions: at the limit a new handshake
 * closes (close_notify) the session idle longest, if idle for evictIdleAfterMs; active sessions
 * are never evicted (the new hello is refused instead), and evictIdleAfterMs: false never evicts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pskTable } from "../../../edge-agent/src/dtls/index.js";
import { connect, fixture, KEY_A, KEY_B, pump, utf8 } from "../dtls/helpers.js";

const KEY_C = utf8("secret-key-of-device-c");
const psk = pskTable([
  { identity: "dev-a", key: KEY_A },
  { identity: "dev-b", key: KEY_B },
  { identity: "dev-c", key: KEY_C },
]);

test("at maxSessions the least recently active idle session is evicted for a new one", async () => {
  const f = fixture({ server: { psk, maxSessions: 2, evictIdleAfterMs: 10_000 } });
  const a = (await connect(f, { psk: { identity: "dev-a", key: KEY_A } })).client!;
  const b = (await connect(f, { psk: { identity: "dev-b", key: KEY_B } })).client!;
  const aClosed: string[] = [];
  a.onClose = (reason) => void aClosed.push(reason);
  await pump(f.clock, 5000, 100);
  a.send(f.server.local, utf8("a is older but was used"));
  await pump(f.clock, 6000, 100);
  b.send(f.server.local, utf8("b still active"));
  await pump(f.clock, 100);
  // Now a was last active ~6.1 s ago, b just now: nobody idle 10 s yet → refused.
  const early = await connect(f, { psk: { identity: "dev-c", key: KEY_C }, handshakeTimeoutMs: 3000 });
  assert.ok(early.error, "no idle session to evict: the hello is dropped");
  assert.ok(f.server.stats.sessionsRejected >= 1);
  assert.equal(f.server.limitStats.sessionsEvicted, 0);
  await pump(f.clock, 8000, 100); // a idle ~17 s, b ~11 s: both idle, a the least recently used
  const c = await connect(f, { psk: { identity: "dev-c", key: KEY_C } });
  assert.ok(c.client, String(c.error));
  assert.equal(f.server.limitStats.sessionsEvicted, 1);
  assert.equal(f.server.sessionCount, 2);
  const ids = f.server.sessions().map((s) => s.identity.identity).sort();
  assert.deepEqual(ids, ["dev-b", "dev-c"], "the least recently used session went");
  assert.equal(a.connected, false);
  assert.deepEqual(aClosed, ["peer_close_notify"], "the evicted peer got close_notify");
});

test("evictIdleAfterMs: false refuses at the limit instead", async () => {
  const f = fixture({ server: { psk, maxSessions: 1, evictIdleAfterMs: false } });
  assert.ok((await connect(f, { psk: { identity: "dev-a", key: KEY_A } })).client);
  await pump(f.clock, 60_000, 1000);
  const b = await connect(f, { psk: { identity: "dev-b", key: KEY_B }, handshakeTimeoutMs: 3000 });
  assert.ok(b.error);
  assert.equal(f.server.limitStats.sessionsEvicted, 0);
  assert.equal(f.server.sessions()[0]?.identity.identity, "dev-a");
});
