/**
 * Known-answer tests of the crypto port against published vectors (STYLE.md §9: counted).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AeadCipher, extendedMasterSecret, finishedVerifyData, keyBlock, masterSecret, prf } from "../../../edge-agent/src/dtls/crypto/index.js";
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
