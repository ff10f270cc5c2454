/**
 * AesCcm (crypto/ccm.ts, CCM on CBC + ECB contexts kept per key) against node's own
 * aes-128-ccm (OpenSSL, one context per call) as the reference — on every engine that runs here
 * (node:crypto always; the native addon when built, with CI=true it must be) — beyond the 24 RFC 3610
 * vectors in crypto-vectors.test.ts: every record length up to a few blocks, every nonce and
 * tag length RFC 3610 allows, keys used interleaved (each CBC context carries its chain from
 * record to record), forgeries, and a key whose contexts were dropped by the hot-key LRU.
 */
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv } from "node:crypto";
import { test } from "node:test";
import { AesCcm, CCM_ENGINES, MAX_HOT_KEYS, type CcmEngine } from "../../../edge-agent/src/dtls/crypto/ccm.js";
import { nativeCcm } from "../../../edge-agent/src/dtls/crypto/ccm-native.js";

/** Deterministic bytes (xorshift32), so a failure names reproducible inputs. */
function bytes(seed: number, length: number): Uint8Array {
  let x = seed | 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array, tagLength: number): Buffer {
  const c = createCipheriv("aes-128-ccm", key, nonce, { authTagLength: tagLength });
  c.setAAD(aad, { plaintextLength: pt.length });
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return Buffer.concat([ct, c.getAuthTag()]);
}

function nodeOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, tagLength: number): Buffer {
  const n = sealed.length - tagLength;
  const d = createDecipheriv("aes-128-ccm", key, nonce, { authTagLength: tagLength });
  d.setAuthTag(sealed.subarray(n));
  d.setAAD(aad, { plaintextLength: n });
  const pt = d.update(sealed.subarray(0, n));
  d.final();
  return pt;
}

function seal(c: AesCcm, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
  const out = new Uint8Array(pt.length + c.tagLength);
  assert.equal(c.sealInto(nonce, aad, pt, out, 0), out.length);
  return out;
}

for (const engine of CCM_ENGINES as readonly CcmEngine[]) {
  test(`${engine}: CCM-8, 12-byte nonce, 13-byte AAD (the DTLS record case): lengths 0..100 match node's aes-128-ccm both ways, two keys interleaved`, () => {
    const k1 = bytes(1, 16);
    const k2 = bytes(2, 16);
    const a = new AesCcm(k1, 8, engine);
    const b = new AesCcm(k2, 8, engine);
    let ran = 0;
    for (let len = 0; len <= 100; len++) {
      for (const [c, key] of [
        [a, k1],
        [b, k2],
      ] as const) {
        const nonce = bytes(100 + len, 12);
        const aad = bytes(200 + len, 13);
        const pt = bytes(300 + len, len);
        const want = nodeSeal(key, nonce, aad, pt, 8);
        assert.deepEqual(Buffer.from(seal(c, nonce, aad, pt)), want, `seal, length ${len}`);
        assert.deepEqual(Buffer.from(c.open(nonce, aad, want) ?? []), Buffer.from(pt), `open, length ${len}`);
        // The other direction: what we seal, node opens.
        assert.deepEqual(nodeOpen(key, nonce, aad, seal(c, nonce, aad, pt), 8), Buffer.from(pt));
        ran++;
      }
    }
    assert.equal(ran, 202);
  });

  test(`${engine}: every RFC 3610 nonce length (7..13) and tag length (4..16) matches node's aes-128-ccm`, () => {
    let ran = 0;
    for (let nonceLength = 7; nonceLength <= 13; nonceLength++) {
      for (let tagLength = 4; tagLength <= 16; tagLength += 2) {
        const key = bytes(nonceLength * 100 + tagLength, 16);
        const c = new AesCcm(key, tagLength, engine);
        for (const [aadLength, len] of [
          [0, 0],
          [0, 33],
          [1, 15],
          [13, 16],
          [30, 47],
        ] as const) {
          const nonce = bytes(len + 7, nonceLength);
          const aad = bytes(aadLength + 11, aadLength);
          const pt = bytes(len + 13, len);
          const want = nodeSeal(key, nonce, aad, pt, tagLength);
          assert.deepEqual(Buffer.from(seal(c, nonce, aad, pt)), want, `nonce ${nonceLength}, tag ${tagLength}, aad ${aadLength}, length ${len}`);
          assert.deepEqual(Buffer.from(c.open(nonce, aad, want) ?? []), Buffer.from(pt));
          ran++;
        }
      }
    }
    assert.equal(ran, 7 * 7 * 5);
  });

  test(`${engine}: open refuses a flipped bit anywhere (ciphertext, tag, AAD, nonce) and a short input`, () => {
    const key = bytes(7, 16);
    const c = new AesCcm(key, 8, engine);
    const nonce = bytes(8, 12);
    const aad = bytes(9, 13);
    const sealed = seal(c, nonce, aad, bytes(10, 40));
    for (let i = 0; i < sealed.length; i++) {
      const bad = Uint8Array.from(sealed);
      bad[i]! ^= 0x01;
      assert.equal(c.open(nonce, aad, bad), undefined, `bit flipped in byte ${i}`);
    }
    const badAad = Uint8Array.from(aad);
    badAad[12]! ^= 0x80;
    assert.equal(c.open(nonce, badAad, sealed), undefined);
    const badNonce = Uint8Array.from(nonce);
    badNonce[0]! ^= 0x80;
    assert.equal(c.open(badNonce, aad, sealed), undefined);
    assert.equal(c.open(nonce, aad, sealed.subarray(0, 7)), undefined);
    // After all those failures the key still opens the genuine record.
    assert.deepEqual(c.open(nonce, aad, sealed), bytes(10, 40));
  });

  test(`${engine}: a key whose contexts the hot-key LRU dropped rebuilds them and still matches node`, () => {
    const key = bytes(11, 16);
    const first = new AesCcm(key, 8, engine);
    const nonce = bytes(12, 12);
    const aad = bytes(13, 13);
    const pt = bytes(14, 30);
    seal(first, nonce, aad, pt);
    assert.equal(first.hot, true);
    const others: AesCcm[] = [];
    for (let i = 0; i < MAX_HOT_KEYS; i++) {
      const o = new AesCcm(bytes(1000 + i, 16), 8, engine);
      seal(o, nonce, aad, pt);
      others.push(o);
    }
    assert.equal(first.hot, false, "the least recently used key is cold");
    assert.equal(others.at(-1)!.hot, true);
    assert.deepEqual(Buffer.from(seal(first, nonce, aad, pt)), nodeSeal(key, nonce, aad, pt, 8));
    assert.equal(first.hot, true);
    assert.equal(others[0]!.hot, false, "re-warming one key cools the next least recently used");
  });
}

test("native: a key makes the context of a direction on first use, and one the LRU drops frees its contexts at once", { skip: !nativeCcm }, () => {
  const native = nativeCcm!;
  const nonce = bytes(20, 12);
  const aad = bytes(21, 13);
  const pt = bytes(22, 30);
  const key = bytes(23, 16);
  const first = new AesCcm(key, 8, "native");
  const before = native.liveContexts();
  const sealed = seal(first, nonce, aad, pt);
  assert.equal(native.liveContexts(), before + 1, "sealing makes the encrypting context only");
  assert.deepEqual(first.open(nonce, aad, sealed), pt);
  assert.equal(native.liveContexts(), before + 2, "the first open adds the decrypting one");
  const others: AesCcm[] = [];
  for (let i = 0; i < MAX_HOT_KEYS; i++) {
    const o = new AesCcm(bytes(3000 + i, 16), 8, "native");
    seal(o, nonce, aad, pt);
    others.push(o);
  }
  assert.equal(first.hot, false);
  // Without a garbage collection: only the hot keys hold contexts, one each (they only sealed).
  assert.equal(native.liveContexts(), MAX_HOT_KEYS);
  // The dropped key comes back with fresh contexts and still seals and opens as node does.
  assert.deepEqual(Buffer.from(seal(first, nonce, aad, pt)), nodeSeal(key, nonce, aad, pt, 8));
  assert.deepEqual(first.open(nonce, aad, nodeSeal(key, nonce, aad, pt, 8)), pt);
  assert.equal(native.liveContexts(), MAX_HOT_KEYS + 1, "first came back with two, and pushed out a key with one");
});

test("native: a released handle refuses to work instead of using freed memory", { skip: !nativeCcm }, () => {
  const native = nativeCcm!;
  const handle = native.newKey(bytes(30, 16), 8, 12);
  const out = new Uint8Array(64);
  assert.equal(native.seal(handle, bytes(31, 12), new Uint8Array(0), bytes(32, 16), out, 0), 24);
  native.release(handle);
  assert.throws(() => native.seal(handle, bytes(31, 12), new Uint8Array(0), bytes(32, 16), out, 0), /after release/);
  assert.throws(() => native.open(handle, bytes(31, 12), new Uint8Array(0), out.subarray(0, 24), out), /after release/);
});

test("constructor checks the key and tag lengths", () => {
  assert.throws(() => new AesCcm(new Uint8Array(15), 8), RangeError);
  assert.throws(() => new AesCcm(new Uint8Array(16), 7), RangeError);
  assert.throws(() => new AesCcm(new Uint8Array(16), 18), RangeError);
});

test("CI builds the native engine (npm ci runs edge-agent's install script); elsewhere node:crypto may serve alone", () => {
  assert.ok(CCM_ENGINES.includes("node:crypto"));
  if (process.env["CI"] === "true") assert.ok(CCM_ENGINES.includes("native"), "edge-agent/native/ccm did not build or load under npm ci");
});
