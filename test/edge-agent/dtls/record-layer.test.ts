/**
 * The record layer's epochs (RFC 6347 §4.1): epoch 0 (null cipher) from the start, epoch 1 once
 * its keys are installed, nothing above (no renegotiation) — records of other epochs are refused
 * as "no_epoch", not decrypted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ContentType, ProtocolVersion, RECORD_HEADER_LENGTH } from "../../../edge-agent/src/dtls/constants.js";
import { decodeRecordHeader } from "../../../edge-agent/src/dtls/record/header.js";
import { RecordCipher } from "../../../edge-agent/src/dtls/record/record-cipher.js";
import { RecordLayer } from "../../../edge-agent/src/dtls/record/record-layer.js";
import { ByteReader } from "../../../edge-agent/src/dtls/codec/bytes.js";
import { CipherSuiteId, cipherSuiteById } from "../../../edge-agent/src/dtls/index.js";

const suite = cipherSuiteById(CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8)!;
const cipher = (seed: number) => new RecordCipher(suite, new Uint8Array(16).fill(seed), Uint8Array.of(0xff, 0xfe, 0xfd, seed));

/** Splits a sealed record into the header and fragment `open` takes. */
function parse(record: Uint8Array) {
  return { header: decodeRecordHeader(new ByteReader(record)), fragment: record.subarray(RECORD_HEADER_LENGTH) };
}

test("epoch 0 starts at the given sequence number; epoch 1 exists once installed and round-trips", () => {
  const a = new RecordLayer(7);
  const b = new RecordLayer();
  assert.equal(a.nextWriteSequence(0), 7);
  assert.equal(a.hasWriteEpoch(1), false);
  const plain = parse(a.seal(ContentType.handshake, 0, Uint8Array.of(1, 2, 3)));
  assert.equal(plain.header.sequence, 7);
  assert.deepEqual(b.open(plain.header, plain.fragment), Uint8Array.of(1, 2, 3));

  // The fixed IV's top bit is set (0xff…): the nonce must still carry it unchanged.
  a.installWrite(1, cipher(1));
  b.installRead(1, cipher(1));
  assert.equal(a.overhead(1), RECORD_HEADER_LENGTH + 16);
  const sealed = parse(a.seal(ContentType.application_data, 1, Uint8Array.of(9, 8, 7)));
  assert.equal(sealed.header.epoch, 1);
  assert.deepEqual(b.open(sealed.header, sealed.fragment), Uint8Array.of(9, 8, 7));
  assert.equal(b.open(sealed.header, sealed.fragment), "replay");
});

test("records of an epoch above 1 are refused, and no keys can be installed for one", () => {
  const a = new RecordLayer();
  a.installWrite(1, cipher(2));
  const r = parse(a.seal(ContentType.application_data, 1, Uint8Array.of(1)));
  const b = new RecordLayer();
  b.installRead(1, cipher(2));
  assert.equal(b.open({ ...r.header, epoch: 2 }, r.fragment), "no_epoch");
  assert.equal(b.hasReadEpoch(2), false);
  assert.throws(() => b.installRead(2, cipher(2)), RangeError);
  assert.throws(() => a.seal(ContentType.application_data, 2, Uint8Array.of(1)), RangeError);
  assert.equal(b.open({ ...r.header, version: ProtocolVersion.DTLS1_2 }, r.fragment.slice(0, 4)), "decrypt", "too short to authenticate");
});

test("a retired epoch 0 refuses its records and cannot seal; epoch 1 carries on", () => {
  const a = new RecordLayer();
  const b = new RecordLayer();
  const hello = parse(a.seal(ContentType.handshake, 0, Uint8Array.of(1)));
  a.installWrite(1, cipher(3));
  b.installRead(1, cipher(3));
  b.retireEpoch0();
  assert.equal(b.hasReadEpoch(0), false);
  assert.equal(b.hasWriteEpoch(0), false);
  assert.equal(b.open(hello.header, hello.fragment), "no_epoch");
  assert.throws(() => b.seal(ContentType.alert, 0, Uint8Array.of(1, 0)), RangeError);
  assert.throws(() => b.installRead(0, cipher(3)), RangeError, "a retired epoch does not come back");
  const r = parse(a.seal(ContentType.application_data, 1, Uint8Array.of(5)));
  assert.deepEqual(b.open(r.header, r.fragment), Uint8Array.of(5));
});
