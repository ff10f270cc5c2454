// Gateway tokens: RFC 8032 vectors through our key encoding, JWS interop with node:crypto, every
// refusal reason, and the verifier cache (hits, expiry, key rotation).
import assert from "node:assert/strict";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  GATEWAY_TOKEN_MAX_LIFETIME_S,
  GatewayTokenVerifier,
  createGatewayToken,
  decodeBase64Url,
  encodeBase64Url,
  gatewayPublicKey,
  generateGatewayKeyPair,
  verifyGatewayToken,
} from "@coaps-edge/shared";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const T0 = Date.UTC(2026, 0, 1); // a fixed wall clock

interface Vector {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}
const rfc8032 = JSON.parse(readFileSync(new URL("../vectors/rfc8032-ed25519.json", import.meta.url), "utf8")) as { vectors: Vector[] };

test("RFC 8032 §7.1 vectors: public key derivation, signature, verification (all 3 ran)", () => {
  let ran = 0;
  for (const v of rfc8032.vectors) {
    const seed = encodeBase64Url(hex(v.secretKey));
    assert.equal(gatewayPublicKey(seed), encodeBase64Url(hex(v.publicKey)), v.name);
    assert.deepEqual(ed25519.sign(hex(v.message), hex(v.secretKey)), hex(v.signature), v.name);
    assert.ok(ed25519.verify(hex(v.signature), hex(v.message), hex(v.publicKey), { zip215: false }), v.name);
    ran++;
  }
  assert.equal(ran, 3);
});

const gw = { gatewayId: "gw-1", ...generateGatewayKeyPair() };
const keys = { "gw-1": gw.publicKey };
const tokenAt = (nowMs: number, lifetimeSeconds?: number) =>
  createGatewayToken({ gatewayId: gw.gatewayId, privateKey: gw.privateKey, nowMs, ...(lifetimeSeconds && { lifetimeSeconds }) });

test("a fresh token verifies, with its claims", () => {
  const r = verifyGatewayToken(tokenAt(T0), keys, T0 + 1000);
  assert.deepEqual(r, { ok: true, gatewayId: "gw-1", issuedAt: T0 / 1000, expiresAt: T0 / 1000 + 300 });
});

test("the token is a standard EdDSA JWS: node:crypto verifies it with the same public key", () => {
  const token = tokenAt(T0);
  const [h, p, s] = token.split(".") as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(h, "base64url").toString()), { alg: "EdDSA", typ: "JWT" });
  assert.deepEqual(JSON.parse(Buffer.from(p, "base64url").toString()), { sub: "gw-1", iat: T0 / 1000, exp: T0 / 1000 + 300 });
  const jwk = { kty: "OKP", crv: "Ed25519", x: gw.publicKey };
  assert.ok(nodeVerify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url")));
});

test("refusals: unknown key, bad signature, expired, future, malformed", () => {
  const good = tokenAt(T0);
  const other = generateGatewayKeyPair();
  const check = (token: string, k: Record<string, string>, now: number) => {
    const r = verifyGatewayToken(token, k, now);
    return r.ok ? "ok" : r.error;
  };
  assert.equal(check(good, {}, T0), "unknown-key");
  assert.equal(check(good, { "gw-2": gw.publicKey }, T0), "unknown-key");
  assert.equal(check(good, { "gw-1": "not-a-key" }, T0), "unknown-key");
  assert.equal(check(good, { "gw-1": other.publicKey }, T0), "bad-signature");
  // Forged: claims for gw-1 signed with another key.
  const forged = createGatewayToken({ gatewayId: "gw-1", privateKey: other.privateKey, nowMs: T0 });
  assert.equal(check(forged, keys, T0), "bad-signature");
  // Tampered claims under a valid signature.
  const [h, , s] = good.split(".");
  const longer = encodeBase64Url(new TextEncoder().encode(JSON.stringify({ sub: "gw-1", iat: T0 / 1000, exp: T0 / 1000 + 200 })));
  assert.equal(check(`${h}.${longer}.${s}`, keys, T0), "bad-signature");
  // Times, with the default 30 s skew.
  assert.equal(check(good, keys, T0 + 300_000 + 29_000), "ok");
  assert.equal(check(good, keys, T0 + 300_000 + 30_000), "expired");
  assert.equal(check(tokenAt(T0 - 3600_000), keys, T0), "expired");
  assert.equal(check(good, keys, T0 - 29_000), "ok");
  assert.equal(check(tokenAt(T0 + 120_000), keys, T0), "future");
  // Malformed shapes.
  for (const bad of ["", "a.b", "a.b.c.d", "!!.!!.!!", `${good}x`, good.replace(/^[^.]+/, encodeBase64Url(new TextEncoder().encode('{"alg":"none"}'))), "x".repeat(2000)]) {
    assert.equal(check(bad, keys, T0), "malformed", bad.slice(0, 40));
  }
  // A lifetime above 300 s is refused even when correctly signed.
  const claims = encodeBase64Url(new TextEncoder().encode(JSON.stringify({ sub: "gw-1", iat: T0 / 1000, exp: T0 / 1000 + 301 })));
  const input = `${h}.${claims}`;
  const sig = encodeBase64Url(ed25519.sign(new TextEncoder().encode(input), decodeBase64Url(gw.privateKey)!));
  assert.equal(check(`${input}.${sig}`, keys, T0), "malformed");
});

test("createGatewayToken refuses lifetimes above 300 s and bad ids or keys", () => {
  assert.throws(() => tokenAt(T0, GATEWAY_TOKEN_MAX_LIFETIME_S + 1), RangeError);
  assert.throws(() => createGatewayToken({ gatewayId: "bad id", privateKey: gw.privateKey, nowMs: T0 }), RangeError);
  assert.throws(() => createGatewayToken({ gatewayId: "gw", privateKey: "short", nowMs: T0 }), RangeError);
});

test("key lookup uses own properties only: a gateway named 'constructor' or '__proto__' finds nothing", () => {
  for (const id of ["constructor", "__proto__", "toString"]) {
    const t = createGatewayToken({ gatewayId: id, privateKey: gw.privateKey, nowMs: T0 });
    const r = verifyGatewayToken(t, {}, T0);
    assert.equal(r.ok ? "ok" : r.error, "unknown-key", id);
  }
});

test("verifier cache: one signature check per token, until expiry; rotating the key revokes", () => {
  const v = new GatewayTokenVerifier();
  const token = tokenAt(T0);
  for (let i = 0; i < 5; i++) assert.equal(v.verify(token, keys, T0 + i * 1000).ok, true);
  assert.deepEqual(v.stats, { hits: 4, misses: 1, size: 1 });
  // Expired: refused even though cached.
  const late = v.verify(token, keys, T0 + 400_000);
  assert.equal(late.ok ? "ok" : late.error, "expired");
  // Rotated key: the cached token no longer passes.
  const v2 = new GatewayTokenVerifier();
  assert.equal(v2.verify(token, keys, T0).ok, true);
  const rotated = v2.verify(token, { "gw-1": generateGatewayKeyPair().publicKey }, T0);
  assert.equal(rotated.ok ? "ok" : rotated.error, "bad-signature");
  const removed = v2.verify(token, {}, T0);
  assert.equal(removed.ok ? "ok" : removed.error, "unknown-key");
});

test("verifier cache is bounded", () => {
  const v = new GatewayTokenVerifier({ maxEntries: 3 });
  for (let i = 0; i < 10; i++) assert.equal(v.verify(tokenAt(T0 + i * 1000), keys, T0 + 10_000).ok, true);
  assert.equal(v.stats.size, 3);
});

test("failures are not cached", () => {
  const v = new GatewayTokenVerifier();
  const token = tokenAt(T0);
  assert.equal(v.verify(token, {}, T0).ok, false);
  assert.equal(v.verify(token, keys, T0).ok, true);
  assert.deepEqual(v.stats, { hits: 0, misses: 2, size: 1 });
});
