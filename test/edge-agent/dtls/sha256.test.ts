/**
 * The handshake's SHA-256 and HMAC-SHA256 (edge-agent/src/dtls/crypto/sha256.ts, on @noble/hashes): the
 * published vectors (counted, STYLE.md §9), then node:crypto as the reference for any length,
 * any split of the input, digests read mid-stream and HMAC keys of any length.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { HmacSha256, Sha256, sha256Of } from "../../../edge-agent/src/dtls/crypto/sha256.js";
import { hex, loadVector, toHex } from "./helpers.js";

interface Vectors {
  sha256: { name: string; message: string; repeat: number; digest: string }[];
  hmac: { name: string; key: string; data: string; mac: string }[];
}

const vectors = loadVector<Vectors>("crypto/sha256-hmac.json");

test("SHA-256: all 3 FIPS 180-2 Appendix B vectors, whole and fed in odd-sized parts", () => {
  let ran = 0;
  for (const v of vectors.sha256) {
    const unit = hex(v.message);
    const message = new Uint8Array(unit.length * v.repeat);
    for (let i = 0; i < v.repeat; i++) message.set(unit, i * unit.length);
    assert.equal(toHex(sha256Of(message)), v.digest, v.name);
    const s = new Sha256();
    for (let at = 0, step = 1; at < message.length; at += step, step = (step * 7) % 97 || 1) s.update(message, at, Math.min(message.length, at + step));
    assert.equal(toHex(s.digest()), v.digest, `${v.name}, in parts`);
    ran++;
  }
  assert.equal(ran, 3);
});

test("HMAC-SHA256: all 7 RFC 4231 test cases (keys shorter than, equal to and longer than the block)", () => {
  let ran = 0;
  for (const v of vectors.hmac) {
    const mac = new HmacSha256(hex(v.key)).mac(hex(v.data));
    assert.equal(toHex(mac).slice(0, v.mac.length), v.mac, v.name);
    ran++;
  }
  assert.equal(ran, 7);
});

test("SHA-256 matches node:crypto for any message split into any parts, read at every part and fed on", () => {
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

test("HmacSha256 matches createHmac for any key, data split, re-keying and repeated use", () => {
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
        mac.begin();
        for (const p of parts) mac.update(p);
        mac.finishInto(out, 8);
        assert.equal(toHex(out.subarray(8)), expected, "finishInto at an offset");
        assert.equal(toHex(out.subarray(0, 8)), "0000000000000000", "nothing written before the offset");
      },
    ),
    { numRuns: 300 },
  );
});

test("wipe() clears the key: the same instance refuses to compute a MAC until it is re-keyed", () => {
  const key = hex("0b".repeat(20));
  const mac = new HmacSha256(key);
  const before = toHex(mac.mac(hex("4869205468657265")));
  mac.wipe();
  assert.throws(() => mac.mac(hex("4869205468657265")), /destroyed/);
  assert.equal(toHex(mac.rekey(key).mac(hex("4869205468657265"))), before);
});
