/**
 * Record protection micro-benchmark: AES-128-CCM-8 through the DTLS crypto port
 * (edge-agent/src/dtls/crypto: AeadCipher on AesCcm — the native addon when built, else two
 * node:crypto AES contexts kept per key; both engines are timed when both run) and the
 * record layer's RecordCipher (nonce, AAD, header), on a 64-byte plaintext (a small CoAP
 * message), against node's own aes-128-ccm with one context per record (what AeadCipher did
 * before, kept here as the reference: the setup alone is most of its cost).
 * Run alone: node --import tsx bench/micro/record.ts [seconds-per-case]
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { AeadCipher } from "../../edge-agent/src/dtls/crypto/index.js";
import { AesCcm, CCM_ENGINES, DEFAULT_CCM_ENGINE } from "../../edge-agent/src/dtls/crypto/ccm.js";
import { splitRecords, type RecordHeader } from "../../edge-agent/src/dtls/record/header.js";
import { RecordCipher } from "../../edge-agent/src/dtls/record/record-cipher.js";
import { cipherSuiteById, CipherSuiteId } from "../../edge-agent/src/dtls/suites/cipher-suites.js";
import { microTable, runCases, type MicroCase } from "./measure.js";

/** node's aes-128-ccm, one context per call: ciphertext ‖ tag. */
function nodeCcmSeal(key: KeyObject, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, tagLength: number): Uint8Array {
  const c = createCipheriv("aes-128-ccm", key, nonce, { authTagLength: tagLength });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const ct = c.update(plaintext);
  c.final();
  return Buffer.concat([ct, c.getAuthTag()]);
}

function nodeCcmOpen(key: KeyObject, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, tagLength: number): Uint8Array | undefined {
  const n = sealed.length - tagLength;
  const d = createDecipheriv("aes-128-ccm", key, nonce, { authTagLength: tagLength });
  d.setAuthTag(sealed.subarray(n));
  d.setAAD(aad, { plaintextLength: n });
  const pt = d.update(sealed.subarray(0, n));
  try {
    d.final();
    return pt;
  } catch {
    return undefined;
  }
}

const APPLICATION_DATA = 23;
const DTLS_1_2 = 0xfefd;
const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const fixedIv = Uint8Array.of(1, 2, 3, 4);
const nonce = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
const aad = new Uint8Array(13);
const plaintext = Uint8Array.from({ length: 64 }, (_, i) => i * 7);

const keyObject = createSecretKey(key);
const aead = new AeadCipher("aes-128-ccm", key, 8);
const sealed = aead.seal(nonce, aad, plaintext);
const suite = cipherSuiteById(CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8)!;
const sender = new RecordCipher(suite, key, fixedIv);
const receiver = new RecordCipher(suite, key, fixedIv);
const record = sender.seal(APPLICATION_DATA, DTLS_1_2, 1, 1, plaintext);
const header: RecordHeader = { type: APPLICATION_DATA, version: DTLS_1_2, epoch: 1, sequence: 1, length: record.length - 13 };
const fragment = record.subarray(13);
if (aead.open(nonce, aad, sealed)?.length !== 64 || receiver.open(header, fragment)?.length !== 64) throw new Error("record round trip failed");

// The engine must produce node's CCM bytes exactly (test/edge-agent/dtls/ccm.test.ts checks more).
if (Buffer.compare(Buffer.from(sealed), Buffer.from(nodeCcmSeal(keyObject, nonce, aad, plaintext, 8))) !== 0) throw new Error("AeadCipher differs from node's aes-128-ccm");
let seq = 1;

export function recordCases(): MicroCase[] {
  return [
    { group: "ccm8", name: "node aes-128-ccm seal 64 B", fn: () => nodeCcmSeal(keyObject, nonce, aad, plaintext, 8), note: "reference: one node CCM context per record (the old AeadCipher)" },
    { group: "ccm8", name: "node aes-128-ccm open 64 B", fn: () => nodeCcmOpen(keyObject, nonce, aad, sealed, 8) },
    ...CCM_ENGINES.flatMap((engine): MicroCase[] => {
      const c = new AesCcm(key, 8, engine);
      const out = new Uint8Array(plaintext.length + 8);
      return [
        {
          group: "ccm8",
          name: `AesCcm ${engine} seal 64 B`,
          fn: () => c.sealInto(nonce, aad, plaintext, out, 0),
          note: engine === "native" ? "OpenSSL CCM context kept per key, one N-API call" : "CBC + ECB contexts kept per key, two update() calls",
        },
        { group: "ccm8", name: `AesCcm ${engine} open 64 B`, fn: () => c.open(nonce, aad, sealed) },
      ];
    }),
    { group: "ccm8", name: "AeadCipher.seal 64 B", fn: () => aead.seal(nonce, aad, plaintext), note: `crypto port (engine: ${DEFAULT_CCM_ENGINE})` },
    { group: "ccm8", name: "AeadCipher.open 64 B", fn: () => aead.open(nonce, aad, sealed) },
    { group: "ccm8", name: "RecordCipher.seal 64 B", fn: () => sender.seal(APPLICATION_DATA, DTLS_1_2, 1, ++seq, plaintext), note: "whole record: header, nonce, AAD, encrypt" },
    { group: "ccm8", name: "RecordCipher.open 64 B", fn: () => receiver.open(header, fragment) },
    {
      group: "ccm8",
      name: "createCipheriv only",
      fn: () => createCipheriv("aes-128-ccm", keyObject, nonce, { authTagLength: 8 }),
      note: "context setup alone (the part a cached context would save)",
    },
    { group: "record", name: "splitRecords 1-record datagram", fn: () => splitRecords(record), note: "header decode per datagram" },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(microTable(runCases(recordCases(), Number(process.argv[2] ?? 1))));
