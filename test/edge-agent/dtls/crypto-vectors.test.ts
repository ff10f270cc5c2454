/**
 * Known-answer tests of the crypto port against published vectors (STYLE.md §9: counted).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { AeadCipher, extendedMasterSecret, finishedVerifyData, HmacSha256Key, keyBlock, masterSecret, prf, PrfSecret, pSha256 } from "../../../edge-agent/src/dtls/crypto/index.js";
import { hex, loadVector, toHex } from "./helpers.js";

interface CcmVector {
  name: string;
  key: string;
  nonce: string;
  aad: string;
  plaintext: string;
  tagLength: number;
  ciphertextAndTag: string;
}
interface GcmVector {
  name: string;
  key: string;
  iv: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}
interface PrfVector {
  name: string;
  secret: string;
  label: string;
  seed: string;
  output: string;
}

test("AES-CCM: all 24 RFC 3610 packet vectors, seal and open", () => {
  const { vectors } = loadVector<{ vectors: CcmVector[] }>("crypto/rfc3610-ccm.json");
  let ran = 0;
  for (const v of vectors) {
    const c = new AeadCipher("aes-128-ccm", hex(v.key), v.tagLength);
    assert.equal(toHex(c.seal(hex(v.nonce), hex(v.aad), hex(v.plaintext))), v.ciphertextAndTag, `${v.name} seal`);
    const opened = c.open(hex(v.nonce), hex(v.aad), hex(v.ciphertextAndTag));
    assert.ok(opened, `${v.name} open`);
    assert.equal(toHex(opened), v.plaintext, `${v.name} open`);
    // A flipped tag bit must not authenticate.
    const bad = hex(v.ciphertextAndTag);
    bad[bad.length - 1]! ^= 1;
    assert.equal(c.open(hex(v.nonce), hex(v.aad), bad), undefined, `${v.name} tampered`);
    ran++;
  }
  assert.equal(ran, 24);
});

test("AES-128-GCM: GCM spec test cases 1-4", () => {
  const { vectors } = loadVector<{ vectors: GcmVector[] }>("crypto/gcm-spec-aes128.json");
  let ran = 0;
  for (const v of vectors) {
    const c = new AeadCipher("aes-128-gcm", hex(v.key), 16);
    assert.equal(toHex(c.seal(hex(v.iv), hex(v.aad), hex(v.plaintext))), v.ciphertext + v.tag, v.name);
    const opened = c.open(hex(v.iv), hex(v.aad), hex(v.ciphertext + v.tag));
    assert.equal(opened && toHex(opened), v.plaintext, v.name);
    assert.equal(c.open(hex(v.iv), hex(v.aad + "00"), hex(v.ciphertext + v.tag)), undefined, `${v.name} wrong AAD`);
    ran++;
  }
  assert.equal(ran, 4);
});

test("TLS 1.2 PRF (P_SHA256): published vector, 100 bytes", () => {
  const { vectors } = loadVector<{ vectors: PrfVector[] }>("crypto/tls12-prf-sha256.json");
  assert.equal(vectors.length, 1);
  for (const v of vectors) {
    const out = prf(hex(v.secret), v.label, hex(v.seed), v.output.length / 2);
    assert.equal(toHex(out), v.output);
    // Shorter outputs are prefixes (the PRF is a stream).
    assert.equal(toHex(prf(hex(v.secret), v.label, hex(v.seed), 33)), v.output.slice(0, 66));
  }
});

test("AEAD rejects truncated input and wrong key sizes", () => {
  const c = new AeadCipher("aes-128-ccm", new Uint8Array(16), 8);
  assert.equal(c.open(new Uint8Array(12), new Uint8Array(13), new Uint8Array(7)), undefined);
  assert.throws(() => new AeadCipher("aes-128-ccm", new Uint8Array(15), 8), RangeError);
  assert.throws(() => new AeadCipher("aes-128-gcm", new Uint8Array(16), 8), RangeError);
});

test("key schedule wiring: master secret, key block and Finished use the RFC 5246 seeds and labels", () => {
  const pms = hex("0004000000000004aabbccdd");
  const cr = new Uint8Array(32).fill(0xc1);
  const sr = new Uint8Array(32).fill(0x5e);
  const cat = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b]);
  // §8.1: client_random first; §6.3: server_random first.
  assert.equal(toHex(masterSecret(pms, cr, sr)), toHex(prf(pms, "master secret", cat(cr, sr), 48)));
  const ms = masterSecret(pms, cr, sr);
  assert.equal(toHex(keyBlock(ms, sr, cr, 40)), toHex(prf(ms, "key expansion", cat(sr, cr), 40)));
  const h = new Uint8Array(32).fill(7);
  assert.equal(toHex(finishedVerifyData(ms, "client", h)), toHex(prf(ms, "client finished", h, 12)));
  assert.equal(toHex(finishedVerifyData(ms, "server", h)), toHex(prf(ms, "server finished", h, 12)));
  assert.equal(toHex(extendedMasterSecret(pms, h)), toHex(prf(pms, "extended master secret", h, 48)));
});

test("a PrfSecret keyed once gives the same PRF output as the raw secret, call after call, interleaved with other secrets", () => {
  const ms = hex("a1".repeat(48));
  const other = hex("0004000000000004aabbccdd");
  const keyed = new PrfSecret(ms);
  const h = new Uint8Array(32).fill(9);
  const sr = new Uint8Array(32).fill(0x5e);
  const cr = new Uint8Array(32).fill(0xc1);
  assert.equal(toHex(keyBlock(keyed, sr, cr, 40)), toHex(keyBlock(ms, sr, cr, 40)));
  prf(other, "master secret", h, 48); // the shared one-off PRF key in between must not disturb it
  assert.equal(toHex(finishedVerifyData(keyed, "client", h)), toHex(finishedVerifyData(ms, "client", h)));
  assert.equal(toHex(finishedVerifyData(keyed, "server", h)), toHex(finishedVerifyData(ms, "server", h)));
  assert.equal(toHex(pSha256(keyed, [h, sr], 100)), toHex(pSha256(ms, [h, sr], 100)));
  keyed.wipe();
  assert.throws(() => finishedVerifyData(keyed, "client", h), "a wiped PrfSecret is unusable");
});

test("P_SHA256 matches RFC 5246 §5 written with createHmac: any secret length (RFC 2104 long keys), seed parts and output length", () => {
  // The PRF builds HMAC on its own SHA-256 with the key pads compressed once (RFC 2104 §4); node's createHmac is the reference.
  const reference = (secret: Uint8Array, seed: Uint8Array, length: number): string => {
    const mac = (...d: Uint8Array[]) => d.reduce((h, x) => h.update(x), createHmac("sha256", secret)).digest();
    let out = Buffer.alloc(0);
    let a: Uint8Array = seed;
    while (out.length < length) {
      a = mac(a);
      out = Buffer.concat([out, mac(a, seed)]);
    }
    return out.subarray(0, length).toString("hex");
  };
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200, size: "max" }),
      fc.array(fc.uint8Array({ maxLength: 80, size: "max" }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 130 }),
      (secret, parts, length) => {
        const seed = Uint8Array.from(parts.flatMap((p) => [...p]));
        assert.equal(toHex(pSha256(secret, parts, length)), reference(secret, seed, length));
      },
    ),
    { numRuns: 300 },
  );
});

test("HmacSha256Key (cookie MACs) matches createHmac for any key length and data split", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 150, size: "max" }),
      fc.array(fc.uint8Array({ maxLength: 100, size: "max" }), { maxLength: 4 }),
      (secret, parts) => {
        const expected = parts.reduce((h, p) => h.update(p), createHmac("sha256", secret)).digest("hex");
        const key = new HmacSha256Key(secret);
        assert.equal(toHex(key.mac(...parts)), expected);
        assert.equal(toHex(key.mac(...parts)), expected, "the same key again (its scratch reused)");
      },
    ),
    { numRuns: 200 },
  );
});
