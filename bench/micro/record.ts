/**
 * Record protection micro-benchmark: AES-128-CCM-8 through the DTLS crypto port
 * (edge-agent/src/dtls/crypto: AeadCipher) and the record layer's RecordCipher (nonce, AAD,
 * header), on a 64-byte plaintext (a small CoAP message), plus the pieces of the cost.
 * Run alone: node --import tsx bench/micro/record.ts [seconds-per-case]
 */
import { createCipheriv, createSecretKey } from "node:crypto";
import { AeadCipher } from "../../edge-agent/src/dtls/crypto/index.js";
import { splitRecords, type RecordHeader } from "../../edge-agent/src/dtls/record/header.js";
import { RecordCipher } from "../../edge-agent/src/dtls/record/record-cipher.js";
import { cipherSuiteById, CipherSuiteId } from "../../edge-agent/src/dtls/suites/cipher-suites.js";
import { PersistentCcm } from "./ccm-persistent.js";
import { microTable, runCases, type MicroCase } from "./measure.js";

const APPLICATION_DATA = 23;
const DTLS_1_2 = 0xfefd;
const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const fixedIv = Uint8Array.of(1, 2, 3, 4);
const nonce = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
const aad = new Uint8Array(13);
const plaintext = Uint8Array.from({ length: 64 }, (_, i) => i * 7);

const aead = new AeadCipher("aes-128-ccm", key, 8);
const sealed = aead.seal(nonce, aad, plaintext);
const suite = cipherSuiteById(CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8)!;
const sender = new RecordCipher(suite, key, fixedIv);
const receiver = new RecordCipher(suite, key, fixedIv);
const record = sender.seal(APPLICATION_DATA, DTLS_1_2, 1, 1, plaintext);
const header: RecordHeader = { type: APPLICATION_DATA, version: DTLS_1_2, epoch: 1, sequence: 1, length: record.length - 13 };
const fragment = record.subarray(13);
if (aead.open(nonce, aad, sealed)?.length !== 64 || receiver.open(header, fragment)?.length !== 64) throw new Error("record round trip failed");
const keyObject = createSecretKey(key);

// The prototype must produce AeadCipher's bytes exactly, for every length a record may carry.
const persistent = new PersistentCcm(key, 8);
for (let len = 0; len <= 100; len++) {
  const p = Uint8Array.from({ length: len }, (_, i) => (i * 31 + len) & 0xff);
  const n = Uint8Array.from({ length: 12 }, (_, i) => (i + len) & 0xff);
  const a = Uint8Array.from({ length: 13 }, (_, i) => (i * 3 + len) & 0xff);
  const want = aead.seal(n, a, p);
  const got = persistent.seal(n, a, p);
  if (Buffer.compare(Buffer.from(want), Buffer.from(got)) !== 0) throw new Error(`PersistentCcm.seal differs from AeadCipher at length ${len}`);
  if (Buffer.compare(Buffer.from(persistent.open(n, a, want) ?? []), Buffer.from(p)) !== 0) throw new Error(`PersistentCcm.open failed at length ${len}`);
  want[0]! ^= 1;
  if (len > 0 && persistent.open(n, a, want) !== undefined) throw new Error("PersistentCcm.open accepted a forged record");
}
let seq = 1;

export function recordCases(): MicroCase[] {
  return [
    { group: "ccm8", name: "AeadCipher.seal 64 B", fn: () => aead.seal(nonce, aad, plaintext), note: "crypto port: one cipher context per record" },
    { group: "ccm8", name: "AeadCipher.open 64 B", fn: () => aead.open(nonce, aad, sealed) },
    { group: "ccm8", name: "RecordCipher.seal 64 B", fn: () => sender.seal(APPLICATION_DATA, DTLS_1_2, 1, ++seq, plaintext), note: "whole record: header, nonce, AAD, encrypt" },
    { group: "ccm8", name: "RecordCipher.open 64 B", fn: () => receiver.open(header, fragment) },
    {
      group: "ccm8",
      name: "createCipheriv only",
      fn: () => createCipheriv("aes-128-ccm", keyObject, nonce, { authTagLength: 8 }),
      note: "context setup alone (the part a cached context would save)",
    },
    { group: "ccm8", name: "PersistentCcm.seal 64 B", fn: () => persistent.seal(nonce, aad, plaintext), note: "prototype: CBC-MAC + CTR on 2 contexts made once per key" },
    { group: "ccm8", name: "PersistentCcm.open 64 B", fn: () => persistent.open(nonce, aad, sealed) },
    { group: "record", name: "splitRecords 1-record datagram", fn: () => splitRecords(record), note: "header decode per datagram" },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(microTable(runCases(recordCases(), Number(process.argv[2] ?? 1))));
