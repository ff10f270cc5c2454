/**
 * The handshake's SHA-256 and HMAC-SHA256 (edge-agent/src/dtls/crypto/sha256.ts), each engine:
 * native (edge-agent/native/sha256, OpenSSL) and @noble/hashes. The published vectors (counted,
 * STYLE.md §9), then node:crypto as the reference for any length, any split of the input,
 * digests read mid-stream, HMAC keys of any length and P_SHA256 of any length.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { SHA256_ENGINE, sha256Of } from "../../../edge-agent/src/dtls/crypto/sha256.js";
import { NativeHmacSha256, NativeSha256, nativeSha256 } from "../../../edge-agent/src/dtls/crypto/sha256-native.js";
import { NobleHmacSha256, NobleSha256 } from "../../../edge-agent/src/dtls/crypto/sha256-noble.js";
import type { HmacSha256, Sha256 } from "../../../edge-agent/src/dtls/crypto/sha256-types.js";
import { hex, loadVector, toHex } from "./helpers.js";

interface Vectors {
  sha256: { name: string; message: string; repeat: number; digest: string }[];
  hmac: { name: string; key: string; data: string; mac: string }[];
}

const vectors = loadVector<Vectors>("crypto/sha256-hmac.json");

interface Engine {
  readonly name: string;
  readonly Sha256: new () => Sha256;
  readonly HmacSha256: new (key: Uint8Array) => HmacSha256;
}

const engines: Engine[] = [{ name: "noble", Sha256: NobleSha256, HmacSha256: NobleHmacSha256 }];
if (nativeSha256) engines.push({ name: "native", Sha256: NativeSha256, HmacSha256: NativeHmacSha256 });

test("the native engine is built and serves the agent (required under CI=true)", (t) => {
  if (!nativeSha256) {
    if (process.env["CI"] === "true") assert.fail("edge-agent/native/sha256 is not built: npm ci builds it");
    t.skip("native SHA-256 not built (npm run build:native -w edge-agent)");
    return;
  }
  assert.equal(SHA256_ENGINE, "native");
});

/** P_SHA256 (RFC 5246 §5) written out on node:crypto's createHmac: the reference. */
function referencePSha256(secret: Uint8Array, seed: Uint8Array, length: number): string {
  const h = (...d: Uint8Array[]) => d.reduce((m, x) => m.update(x), createHmac("sha256", secret)).digest();
  let out = Buffer.alloc(0);
  for (let a = h(seed); out.length < length; a = h(a)) out = Buffer.concat([out, h(a, seed)]);
  return out.subarray(0, length).toString("hex");
}

for (const { name, Sha256, HmacSha256 } of engines) {
  test(`${name}: SHA-256: all 3 FIPS 180-2 Appendix B vectors, whole and fed in odd-sized parts`, () => {
    let ran = 0;
    for (const v of vectors.sha256) {
      const unit = hex(v.message);
      const message = new Uint8Array(unit.length * v.repeat);
      for (let i = 0; i < v.repeat; i++) message.set(unit, i * unit.length);
      assert.equal(toHex(new Sha256().update(message).digest()), v.digest, v.name);
      const s = new Sha256();
      for (let at = 0, step = 1; at < message.length; at += step, step = (step * 7) % 97 || 1) s.update(message, at, Math.min(message.length, at + step));
      assert.equal(toHex(s.digest()), v.digest, `${v.name}, in parts`);
      ran++;
    }
    assert.equal(ran, 3);
  });

  test(`${name}: HMAC-SHA256: all 7 RFC 4231 test cases (keys shorter than, equal to and longer than the block)`, () => {
    let ran = 0;
    for (const v of vectors.hmac) {
      const mac = new HmacSha256(hex(v.key)).mac(hex(v.data));
      assert.equal(toHex(mac).slice(0, v.mac.length), v.mac, v.name);
      ran++;
    }
    assert.equal(ran, 7);
  });

  test(`${name}: SHA-256 matches node:crypto for any message split into any parts, read at every part and fed on`, () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 150, size: "max" }), { maxLength: 6 }), (parts) => {
        const s = new Sha256();
        const reference = createHash("sha256");
        for (const p of parts) {
          s.update(p);
          reference.update(p);
          // Reading a digest leaves the running hash as it was (the transcript reads three times).
          assert.equal(toHex(s.digest()), reference.copy().digest("hex"));
        }
        assert.equal(toHex(s.digest()), reference.digest("hex"));
        assert.equal(toHex(new Sha256().copyFrom(s).digest()), toHex(s.digest()), "a copy has the same state");
      }),
      { numRuns: 300 },
    );
  });

  test(`${name}: HmacSha256 matches createHmac for any key, data split, re-keying and repeated use`, () => {
    const mac = new HmacSha256(new Uint8Array(0));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200, size: "max" }),
        fc.array(fc.uint8Array({ maxLength: 130, size: "max" }), { maxLength: 4 }),
        (key, parts) => {
          const expected = parts.reduce((h, p) => h.update(p), createHmac("sha256", key)).digest("hex");
          mac.rekey(key);
          assert.equal(toHex(mac.mac(...parts)), expected);
          const out = new Uint8Array(40);
          mac.macInto(out, 8, 32, ...parts);
          assert.equal(toHex(out.subarray(8)), expected, "macInto at an offset");
          const short = new Uint8Array(12);
          mac.macInto(short, 0, 12, ...parts);
          assert.equal(toHex(short), expected.slice(0, 24), "a truncated MAC (12 bytes, the cookie's and Finished's length)");
          assert.equal(toHex(out.subarray(0, 8)), "0000000000000000", "nothing written before the offset");
        },
      ),
      { numRuns: 300 },
    );
  });

  test(`${name}: wipe() clears the key: the same instance refuses to compute a MAC until it is re-keyed`, () => {
    const key = hex("0b".repeat(20));
    const mac = new HmacSha256(key);
    const before = toHex(mac.mac(hex("4869205468657265")));
    mac.wipe();
    assert.throws(() => mac.mac(hex("4869205468657265")), /destroyed/);
    assert.equal(toHex(mac.rekey(key).mac(hex("4869205468657265"))), before);
  });

  test(`${name}: P_SHA256 matches the RFC 5246 §5 construction on createHmac for any secret, seed split and length`, () => {
    const mac = new HmacSha256(new Uint8Array(0));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100, size: "max" }),
        fc.array(fc.uint8Array({ maxLength: 80, size: "max" }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 150 }),
        (secret, parts, length) => {
          const out = mac.rekey(secret).pSha256Into(new Uint8Array(length), parts);
          assert.equal(toHex(out), referencePSha256(secret, Buffer.concat(parts), length));
        },
      ),
      { numRuns: 200 },
    );
  });
}

test("sha256Of (the engine in use) matches node:crypto", () => {
  const data = hex("616263");
  assert.equal(toHex(sha256Of(data, data)), createHash("sha256").update("abcabc").digest("hex"));
});
