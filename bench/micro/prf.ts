/**
 * TLS 1.2 PRF micro-benchmark (edge-agent/src/dtls/crypto/prf.ts): the key schedule of one
 * PSK handshake with extended_master_secret — master secret, key block for AES-128-CCM-8
 * (2 × 16-byte keys + 2 × 4-byte IVs) and both Finished verify_data.
 * Run alone: node --import tsx bench/micro/prf.ts [seconds-per-case]
 */
import { createHmac } from "node:crypto";
import { extendedMasterSecret, finishedVerifyData, HmacSha256Key, keyBlock, pSha256, sha256 } from "../../edge-agent/src/dtls/crypto/index.js";
import { pskPreMasterSecret } from "../../edge-agent/src/dtls/key-exchange/psk.js";
import { microTable, runCases, type MicroCase } from "./measure.js";

const premaster = pskPreMasterSecret(new TextEncoder().encode("secretPSK"));
const sessionHash = sha256(new Uint8Array(300));
const clientRandom = Uint8Array.from({ length: 32 }, (_, i) => i);
const serverRandom = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const seed = new Uint8Array(77);
const cookieKey = new HmacSha256Key(premaster);

function handshakeSchedule(): Uint8Array {
  const master = extendedMasterSecret(premaster, sessionHash);
  const block = keyBlock(master, serverRandom, clientRandom, 40);
  finishedVerifyData(master, "client", sessionHash);
  finishedVerifyData(master, "server", sessionHash);
  return block;
}

export function prfCases(): MicroCase[] {
  return [
    { group: "prf", name: "P_SHA256 48 B", fn: () => pSha256(premaster, seed, 48), note: "one PRF call (4 HMACs as one-shot hashes)" },
    // One HMAC alone: createHmac (raw key, as the PRF did before) and the cookie's KeyObject one.
    // The PRF's one-shot hashes win only inside P_SHA256 (shared scratch, pads made once per call).
    { group: "prf", name: "HMAC-SHA256 createHmac", fn: () => createHmac("sha256", premaster).update(seed).digest(), note: "node's HMAC, raw key" },
    { group: "prf", name: "HMAC-SHA256 HmacSha256Key", fn: () => cookieKey.mac(seed), note: "cookie MAC: createHmac, KeyObject" },
    { group: "prf", name: "PSK handshake key schedule", fn: handshakeSchedule, note: "EMS + key block (40 B) + 2 × verify_data" },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(microTable(runCases(prfCases(), Number(process.argv[2] ?? 1))));
