/**
 * Hostile input at the server port: spoofed hellos leave no state and never draw more bytes
 * than they carry; random bytes change nothing; half-open and session limits hold; a new
 * handshake from a known address does not disturb its session until it completes; idle
 * sessions close; cookie secrets rotate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ANONYMOUS, type PeerAddress } from "../../../edge-agent/src/transport/types.js";
import { seededRandom } from "../../../edge-agent/src/util/random.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { decodeHelloVerifyRequest } from "../../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { clientHelloRecord, connect, fixture, KEY_A, KEY_B, pump, startClient, TapEndpoint, text, utf8, type Fixture } from "./helpers.js";

const addr = (i: number): PeerAddress => ({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 60000), family: "IPv4" });

/** Delivers a datagram to the server as if it came from `peer` (spoofed source). */
function inject(f: Fixture, peer: PeerAddress, data: Uint8Array): void {
  f.serverTap.inner.onDatagram(data, peer, ANONYMOUS);
}

/** Sends ClientHello 1 from `peer` and returns the cookie the server answered with. */
function cookieFor(f: Fixture, peer: PeerAddress, random: Uint8Array): Uint8Array {
  inject(f, peer, clientHelloRecord({ random }));
  const hvr = f.serverTap.sent.at(-1)!;
  assert.deepEqual(hvr.to, peer);
  return decodeHelloVerifyRequest(decodeHandshakeFragments(hvr.data.subarray(13))[0]!.data).cookie;
}

const randomBytes = (rnd: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));

test("1,000 spoofed ClientHellos from distinct addresses: only HelloVerifyRequests, no per-peer state", () => {
  const f = fixture();
  const rnd = seededRandom(9);
  for (let i = 0; i < 1000; i++) {
    const hello = clientHelloRecord({ random: randomBytes(rnd, 32), cipherSuites: [0xc0a8, 0xc0a4, 0x00a8, 0x00ff] });
    const before = f.serverTap.sent.length;
    inject(f, addr(i), hello);
    assert.equal(f.serverTap.sent.length, before + 1);
    assert.ok(f.serverTap.sent.at(-1)!.data.length <= hello.length, "never more bytes than received");
  }
  // The same again with forged cookies.
  for (let i = 0; i < 1000; i++) {
    inject(f, addr(i), clientHelloRecord({ random: randomBytes(rnd, 32), cookie: randomBytes(rnd, 16) }, 1, 1));
  }
  assert.equal(f.server.stats.cookiesSent, 2000);
  assert.equal(f.server.stats.cookiesRejected, 1000);
  assert.equal(f.server.sessionCount, 0);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.stats.handshakesStarted, 0);
});

test("random bytes at the port change nothing; an established session keeps working", async () => {
  const f = fixture();
  const seen: string[] = [];
  f.server.onDatagram = (d) => seen.push(text(d));
  const clientTap = new TapEndpoint(f.net.endpoint());
  const { client } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } }, clientTap);
  assert.ok(client);
  const sentBefore = f.serverTap.sent.length;
  const stateBefore = { sessions: f.server.sessionCount, ok: f.server.stats.handshakesOk };
  const rnd = seededRandom(77);
  for (let i = 0; i < 1000; i++) {
    const junk = randomBytes(rnd, Math.floor(rnd() * 300));
    inject(f, addr(i), junk);
    inject(f, client.local, junk);
    // Record-shaped junk: a valid DTLS header, epoch 1, a random body — for the session's address.
    const body = randomBytes(rnd, 20 + Math.floor(rnd() * 60));
    const rec = Uint8Array.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0x10, i & 0xff, 0, body.length, ...body]);
    inject(f, client.local, rec);
  }
  assert.equal(f.serverTap.sent.length, sentBefore, "no answers to junk: no alerts, no hello-verify");
  assert.equal(f.server.sessionCount, stateBefore.sessions);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.stats.handshakesOk, stateBefore.ok);
  assert.ok(f.server.stats.decryptFailures >= 1000, "record-shaped junk fails authentication");
  assert.ok(f.server.stats.recordsDropped > 0);
  client.send(f.server.local, utf8("still here"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["still here"]);
});

test("maxHalfOpen bounds handshakes in progress; they free up on timeout", () => {
  const f = fixture({ server: { maxHalfOpen: 2, handshakeTimeoutMs: 10_000 } });
  for (let i = 0; i < 3; i++) {
    const random = new Uint8Array(32).fill(i + 1);
    const cookie = cookieFor(f, addr(i), random);
    inject(f, addr(i), clientHelloRecord({ random, cookie }, 1, 1));
  }
  assert.equal(f.server.halfOpenCount, 2);
  assert.equal(f.server.stats.halfOpenRejected, 1);
  f.clock.advance(10_001);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.stats.handshakesFailed, 2);
  // Room again.
  const random = new Uint8Array(32).fill(9);
  inject(f, addr(2), clientHelloRecord({ random, cookie: cookieFor(f, addr(2), random) }, 1, 1));
  assert.equal(f.server.halfOpenCount, 1);
});

test("maxSessions: a handshake beyond the limit is not started", async () => {
  const f = fixture({ server: { maxSessions: 1 } });
  const first = await connect(f, { psk: { identity: "dev-a", key: KEY_A } });
  assert.ok(first.client);
  const second = await connect(f, { psk: { identity: "dev-b", key: KEY_B }, handshakeTimeoutMs: 5000 });
  assert.ok(second.error);
  assert.equal(f.server.sessionCount, 1);
  assert.ok(f.server.stats.sessionsRejected >= 1);
  await first.client.close();
  await pump(f.clock, 50);
  const third = await connect(f, { psk: { identity: "dev-b", key: KEY_B } });
  assert.ok(third.client, "a slot freed by close_notify is usable");
});

test("a new handshake from a known address keeps the old session until it completes", async () => {
  const f = fixture({ link: { delayMs: 10 } });
  const seen: string[] = [];
  const events: string[] = [];
  f.server.onDatagram = (d, _p, id) => seen.push(`${id.identity}:${text(d)}`);
  f.server.onSessionClosed = (_p, reason) => events.push(`closed:${reason}`);
  f.server.onSessionEstablished = (_p, info) => events.push(`established:${info.identity.identity}`);
  const lower = new TapEndpoint(f.net.endpoint(41000));
  const old = (await connect(f, { psk: { identity: "dev-a", key: KEY_A }, ownsLower: false }, lower)).client!;
  // A record of the old session that the server has not seen yet (lost on the way, captured).
  f.net.conditions = { delayMs: 10, loss: 1 };
  old.send(f.server.local, utf8("from the old session"));
  f.net.conditions = { delayMs: 10 };
  const oldRecord = lower.sent.at(-1)!.data;

  // The device "reboots": a new client on the same address and port.
  const fresh = startClient(f, { psk: { identity: "dev-b", key: KEY_B } }, lower);
  f.clock.advance(35); // ClientHello, HelloVerifyRequest, ClientHello with cookie: the server has a pending handshake
  assert.equal(f.server.halfOpenCount, 1);
  assert.equal(f.server.sessionCount, 1);
  assert.equal(f.server.sessionInfo(lower.local)?.identity.identity, "dev-a", "the old session is still the current one");
  lower.inner.send(f.server.local, oldRecord);
  f.clock.advance(10);
  assert.deepEqual(seen, ["dev-a:from the old session"], "the old session still decrypts during the new handshake");

  await pump(f.clock, 200);
  assert.ok(fresh.client);
  assert.equal(f.server.sessionCount, 1);
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.sessionInfo(lower.local)?.identity.identity, "dev-b");
  assert.deepEqual(events, ["established:dev-a", "closed:replaced", "established:dev-b"]);
  fresh.client.send(f.server.local, utf8("from the new session"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["dev-a:from the old session", "dev-b:from the new session"]);
});

test("idle sessions close with close_notify after idleTimeoutMs; traffic keeps them open", async () => {
  const f = fixture({ server: { idleTimeoutMs: 5000 } });
  const reasons: string[] = [];
  f.server.onSessionClosed = (_p, r) => reasons.push(r);
  const busy = (await connect(f, { psk: { identity: "dev-a", key: KEY_A } })).client!;
  const idle = (await connect(f, { psk: { identity: "dev-b", key: KEY_B } })).client!;
  const idleEnds: string[] = [];
  idle.onClose = (r) => idleEnds.push(r);
  for (let t = 0; t < 12; t++) {
    busy.send(f.server.local, utf8("tick"));
    await pump(f.clock, 1000, 100);
  }
  assert.deepEqual(reasons, ["idle_timeout"]);
  assert.deepEqual(idleEnds, ["peer_close_notify"]);
  assert.equal(f.server.stats.idleTimeouts, 1);
  assert.equal(f.server.sessionCount, 1);
  assert.ok(busy.connected);
});

test("cookie secrets rotate; the previous secret is still accepted, older ones are not", () => {
  const f = fixture({ server: { cookieSecretRotateMs: 1000 } });
  const random = new Uint8Array(32).fill(5);
  const peer = addr(1);
  const cookie = cookieFor(f, peer, random);
  // Bound to the address: the same hello from elsewhere is refused.
  inject(f, addr(2), clientHelloRecord({ random, cookie }, 1, 1));
  assert.equal(f.server.stats.cookiesRejected, 1);
  f.clock.advance(1500); // one rotation: still valid
  inject(f, peer, clientHelloRecord({ random, cookie }, 1, 1));
  assert.equal(f.server.halfOpenCount, 1);
  f.server.closeSession(peer);
  assert.equal(f.server.halfOpenCount, 0);
  f.clock.advance(1000); // second rotation: expired
  inject(f, peer, clientHelloRecord({ random: new Uint8Array(32).fill(6), cookie }, 1, 1));
  assert.equal(f.server.halfOpenCount, 0);
  assert.equal(f.server.stats.cookiesRejected, 2);
});

test("DtlsClient ignores datagrams from anyone but its server", async () => {
  const f = fixture();
  const lower = f.net.endpoint();
  const { client } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } }, lower);
  assert.ok(client);
  const stranger = f.net.endpoint();
  stranger.send(lower.local, Uint8Array.from([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40]));
  await pump(f.clock, 20);
  assert.ok(client.connected);
  assert.equal(client.stats.alertsReceived, 0);
  assert.equal(client.stats.recordsDropped, 1);
});
